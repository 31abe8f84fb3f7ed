"""Requests phrased by people, with the operations that serve them, and the figures search reaches on them.

Two kinds of sets:
- RestBench (tests/fixtures/benchmarks/restbench, MIT): TMDB's 100 and Spotify's 57 requests from the
  RestGPT paper, each with the API calls (`GET /search/person`) of a solution, on the specs it shipped.
- Ours (tests/fixtures/search/requests.yaml): requests written the way users write them ("kill the stuck
  pod"), for the real specs in tests/fixtures/specs, each with the operations a solution calls.

Each set is measured with `search` and, as the reference, plain BM25 (the rank-bm25 library) over the same
fields of each operation, so the figures say what the request understanding adds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from rank_bm25 import BM25Okapi

from apis import load_spec, render_api_section, search
from apis.model import Operation, Spec
from sandbox.text import estimate_tokens

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RESTBENCH = FIXTURES / "benchmarks" / "restbench"
REQUESTS_FILE = FIXTURES / "search" / "requests.yaml"
# One solution in RestBench's Spotify set calls a path its spec does not have; the spec's own is meant.
RESTBENCH_TYPOS = {"GET /track/{}": "GET /tracks/{}"}
SECTION_TOKENS = 3000
TOP = 5

Ranker = Callable[[Spec, str, int], list[Operation]]


@dataclass(frozen=True)
class Request:
    text: str
    needs: tuple[str, ...]


@dataclass(frozen=True)
class RequestSet:
    name: str
    spec: Spec
    requests: tuple[Request, ...]


@dataclass(frozen=True)
class Figures:
    """How one ranker did on one set."""

    requests: int
    needed: int  # needed operations over all requests
    needed_in_top: int  # needed operations found in the top 5 of a search with the request's words
    all_in_section: int  # requests whose every needed operation is in the 3,000-token API section
    max_section_tokens: int
    misses: tuple[str, ...]

    @property
    def top_rate(self) -> float:
        return self.needed_in_top / self.needed

    @property
    def section_rate(self) -> float:
        return self.all_in_section / self.requests


def restbench_sets(cache_dir: Path) -> list[RequestSet]:
    sets = []
    for name, spec_file in (("RestBench TMDB", "tmdb_oas.json"), ("RestBench Spotify", "spotify_oas.json")):
        spec = load_spec(RESTBENCH / "specs" / spec_file, cache_dir)
        by_call = {_call(f"{op.method} {op.path}"): op.name for op in spec.operations}
        dataset = json.loads((RESTBENCH / "datasets" / f"{spec_file.split('_')[0]}.json").read_text())
        requests = tuple(
            Request(entry["query"], tuple(dict.fromkeys(by_call[_call(call)] for call in entry["solution"])))
            for entry in dataset
        )
        sets.append(RequestSet(name, spec, requests))
    return sets


def user_sets(cache_dir: Path) -> list[RequestSet]:
    data = yaml.safe_load(REQUESTS_FILE.read_text(encoding="utf-8"))
    return [
        RequestSet(
            spec_file,
            load_spec(FIXTURES / "specs" / spec_file, cache_dir),
            tuple(Request(text, tuple(needs)) for text, needs in entries),
        )
        for spec_file, entries in data.items()
    ]


def _call(text: str) -> str:
    """`GET /movie/{movie_id}` as a key that ignores spacing and the names of path parameters."""
    method, path = text.split()
    key = f"{method.upper()} {re.sub(r'{[^}]*}', '{}', path.rstrip('/'))}"
    return RESTBENCH_TYPOS.get(key, key)


def measure(request_set: RequestSet, rank: Ranker) -> Figures:
    spec = request_set.spec
    needed = in_top = in_section = max_tokens = 0
    misses = []
    for request in request_set.requests:
        top = [op.name for op in rank(spec, request.text, TOP)]
        section = render_api_section(spec, request.text, SECTION_TOKENS, rank=rank)
        max_tokens = max(max_tokens, estimate_tokens(section))
        needed += len(request.needs)
        in_top += sum(name in top for name in request.needs)
        shown = set(re.findall(r"^([A-Za-z_][A-Za-z0-9_]*)\(", section, re.MULTILINE))
        in_section += set(request.needs) <= shown
        if not set(request.needs) <= set(top):
            misses.append(f"{request.text!r}: needs {', '.join(request.needs)}; got {', '.join(top)}")
    return Figures(len(request_set.requests), needed, in_top, in_section, max_tokens, tuple(misses))


def held_out(request_set: RequestSet, learn_from: int = 0) -> tuple[Figures, Figures]:
    """Learning from runs, measured held out: the set's requests at even positions (`learn_from=0`, else
    odd) are remembered with their solutions' operations, as successful runs leave them in the memory, and
    the other half is scored without and with what was learned. Returns (before, after) on that half."""
    learned = [request for i, request in enumerate(request_set.requests) if i % 2 == learn_from]
    scored = RequestSet(
        request_set.name,
        request_set.spec,
        tuple(request for i, request in enumerate(request_set.requests) if i % 2 != learn_from),
    )

    def with_memory(spec: Spec, text: str, k: int) -> list[Operation]:
        return search(spec, text, k, learned=[Learned(r.text, r.needs) for r in learned])

    return measure(scored, search), measure(scored, with_memory)


@dataclass(frozen=True)
class Learned:
    """A task and the operations its run called, as the memory gives them to search."""

    task: str
    operations: tuple[str, ...]


def held_out_table(rows: Sequence[tuple[str, Figures, Figures]]) -> str:
    """One line per set: the held-out half's top-5 before and after learning from the other half."""
    lines = [f"{'learned from runs (held out)':34} {'scored':>6} {'needed':>6} {'before':>7} {'after':>7}"]
    for name, before, after in rows:
        lines.append(
            f"{name:34} {before.requests:6} {before.needed:6} {before.top_rate:7.1%} {after.top_rate:7.1%}"
        )
    return "\n".join(lines)


def bm25_baseline() -> Ranker:
    """Plain BM25 (rank-bm25's Okapi) over the same fields search reads, without any request understanding."""
    indexes: dict[int, tuple[Spec, BM25Okapi]] = {}

    def rank(spec: Spec, text: str, k: int) -> list[Operation]:
        if id(spec) not in indexes:
            indexes[id(spec)] = (spec, BM25Okapi([_words(_fields(op)) for op in spec.operations]))
        scores = indexes[id(spec)][1].get_scores(_words(text))
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        return [spec.operations[i] for i in order[:k]]

    return rank


def _fields(operation: Operation) -> str:
    return " ".join(
        [
            operation.name,
            operation.operation_id or "",
            operation.summary,
            operation.description[:300],
            operation.path,
            *operation.tags,
            *(p.name for p in operation.parameters),
        ]
    )


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text).lower())


def table(rows: Sequence[tuple[str, Figures, Figures]]) -> str:
    """One line per set: search beside the BM25 reference."""
    header = (
        f"{'set':24} {'requests':>8} {'needed':>6} {'top-5':>7} {'(bm25)':>7} "
        f"{'section':>8} {'(bm25)':>7} {'max tokens':>10}"
    )
    lines = [header]
    for name, ours, reference in rows:
        lines.append(
            f"{name:24} {ours.requests:8} {ours.needed:6} {ours.top_rate:7.1%} {reference.top_rate:7.1%} "
            f"{ours.section_rate:8.1%} {reference.section_rate:7.1%} {ours.max_section_tokens:10}"
        )
    return "\n".join(lines)

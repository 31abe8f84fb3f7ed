"""Retrieval latency with many workflows stored (not collected by pytest; prints figures).

    .venv/bin/python tests/workflows/bench_retrieval.py [--workflows 100000] [--url sqlite:///...]

Fills a fresh database with synthetic workflows over 20 sites (a realistic vocabulary of verbs,
objects and qualifiers), then times `retrieve()` for task-like queries filtered to one or two sites.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from workflows.memory import Workflow, WorkflowStore
from workflows.retrieval import retrieve

VERBS = [
    "close",
    "open",
    "list",
    "count",
    "assign",
    "label",
    "comment",
    "create",
    "delete",
    "merge",
    "archive",
    "transfer",
    "rename",
    "star",
    "watch",
    "export",
    "import",
    "review",
    "approve",
    "tag",
    "search",
    "find",
]
OBJECTS = [
    "issue",
    "issues",
    "label",
    "milestone",
    "project",
    "member",
    "comment",
    "pull request",
    "branch",
    "release",
    "user",
    "profile",
    "order",
    "product",
    "invoice",
    "customer",
    "post",
    "page",
    "review",
    "wiki",
    "repository",
    "team",
    "group",
    "ticket",
    "report",
]
QUALIFIERS = [
    "open",
    "closed",
    "labelled",
    "assigned",
    "recent",
    "oldest",
    "newest",
    "unassigned",
    "high priority",
    "by author",
    "in a project",
    "across projects",
    "this month",
    "with no assignee",
    "by date",
    "most commented",
    "with a tag",
    "in a range",
]
SITES = [f"site{i}" for i in range(20)]
QUERIES = [
    "How many open issues labelled bug are there in alice/tracker-core?",
    "Close issue #7 in alice/tracker-core.",
    "Assign every open issue labelled security in alice/tracker-core that has no assignee to frank",
    "Create a label named regression with colour #e99695 in alice/tracker-core.",
    "Export the invoices of customer 12 from this month",
    "Who is assigned to issue #17 in alice/tracker-core? Answer with the username, or nobody.",
]


def fill(store: WorkflowStore, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        verb, obj, qual = rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(QUALIFIERS)
        name = f"{verb}_{obj.replace(' ', '_')}_{i}"
        rows.append(
            Workflow(
                name=name,
                site=rng.choice(SITES),
                description=f"{verb.title()} {qual} {obj} and report the result.",
                intent_template=f"{verb.title()} the {qual} {obj} {{{{name}}}} in {{{{project}}}}",
                body=f"def {name}(name: str, project: str):\n    pass\n",
                fingerprint=f"f{i % 5000}",
                status=rng.choice(["candidate", "verified", "verified", "deprecated"]),
            ).model_dump(exclude={"id"})
        )
    with store.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Workflow), rows[start : start + 5000])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workflows", type=int, default=100_000)
    parser.add_argument(
        "--url", help="database URL (default: a fresh SQLite file); reused if it has workflows"
    )
    parser.add_argument("--k", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = WorkflowStore(options.url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        stored = len(store.list_workflows(all_versions=True))
        if stored:
            print(f"using the {stored:,} workflows already in {options.url}")
        else:
            began = time.perf_counter()
            fill(store, options.workflows)
            print(f"stored {options.workflows:,} workflows in {time.perf_counter() - began:.1f} s")
        for sites in (["site3"], ["site3", "site11"]):
            timings = []
            for _ in range(20):
                for query in QUERIES:
                    began = time.perf_counter()
                    found = retrieve(store, query, sites, k=options.k)
                    timings.append((time.perf_counter() - began) * 1000)
                    assert found, f"nothing retrieved for {query!r}"
            timings.sort()
            print(
                f"top-{options.k} over {len(sites)} site(s): median {statistics.median(timings):.1f} ms, "
                f"p95 {timings[int(len(timings) * 0.95)]:.1f} ms, max {timings[-1]:.1f} ms "
                f"({len(timings)} queries)"
            )


if __name__ == "__main__":
    main()

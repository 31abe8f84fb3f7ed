"""The search evaluation set (tests/fixtures/search/tasks.yaml) and the figures computed over it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from apis import load_spec, render_api_section, search
from apis.model import Spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
TASKS_FILE = FIXTURES / "search" / "tasks.yaml"
SECTION_TOKENS = 3000


@dataclass(frozen=True)
class Task:
    spec_file: str
    text: str
    needs: tuple[str, ...]


def tasks() -> list[Task]:
    data = yaml.safe_load(TASKS_FILE.read_text(encoding="utf-8"))
    return [
        Task(spec_file, text, tuple(needs)) for spec_file, entries in data.items() for text, needs in entries
    ]


@dataclass(frozen=True)
class Scores:
    """Per spec: how many tasks had every needed operation first, in the top 5, in the rendered section."""

    tasks: int
    at_1: int
    at_5: int
    in_section: int
    misses: tuple[str, ...]


def evaluate(cache_dir: Path) -> dict[str, Scores]:
    by_spec: dict[str, list[Task]] = {}
    for task in tasks():
        by_spec.setdefault(task.spec_file, []).append(task)
    return {
        name: _score(load_spec(FIXTURES / "specs" / name, cache_dir), entries)
        for name, entries in by_spec.items()
    }


def _score(spec: Spec, entries: list[Task]) -> Scores:
    at_1 = at_5 = in_section = 0
    misses = []
    for task in entries:
        ranked = [op.name for op in search(spec, task.text, k=5)]
        section = render_api_section(spec, task.text, SECTION_TOKENS)
        at_1 += set(task.needs) <= set(ranked[: len(task.needs)])
        at_5 += set(task.needs) <= set(ranked)
        in_section += all(f"\n{name}(" in section for name in task.needs)
        if not set(task.needs) <= set(ranked):
            misses.append(f"{task.text!r}: needs {', '.join(task.needs)}; got {', '.join(ranked)}")
    return Scores(len(entries), at_1, at_5, in_section, tuple(misses))

"""Online workflow memory against none on a template family of the real-app bed (Django admin): the family's
tasks in order with memory growing from empty, and the same tasks with memory off (AWM's online setting, as
`hybrid bench --memory` measures the demo suite; the bench cannot reach the bed's apps, so this runs the
bed's own loop, `webapps.bed.run_family`).

Run: .venv/bin/python tests/hybrid/webapps/bench_memory.py

Prints, per memory setting: tasks passed, steps and tokens task by task, wrong writes (books the task did not
name that the run changed), and which tasks a learnt workflow did alone (the fast path). Scripted replies
written as a model would.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/hybrid, where `webapps` is a package

from webapps.bed import FamilyResult, run_family
from webapps.servers import django_library
from webapps.tasks import DJANGO_FAMILY

from hybrid.config import Settings


def run(memory: str, root: Path) -> list[FamilyResult]:
    data = root / memory
    data.mkdir()
    settings = Settings(
        data_dir=data, database_url=f"sqlite:///{data / 'hybrid.db'}", action_timeout_seconds=30
    )
    with django_library() as library:
        return run_family(DJANGO_FAMILY, library, settings, memory)  # type: ignore[arg-type]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-memory-") as temp:
        root = Path(temp)
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ[name] = str(root / "user" / name.lower())  # nothing of the user's own dirs
        results = {memory: run(memory, root) for memory in ("off", "online")}
    off, online = results["off"], results["online"]
    print(f"family: {DJANGO_FAMILY[0].name.split(' of ')[0]} ... ({len(DJANGO_FAMILY)} tasks, Django admin)")
    print(
        f"{'passed off/online':>17}  {'steps off | online':<20}  {'tokens off | online':<36}  "
        "wrong  fast path"
    )
    passed = f"{sum(r.passed for r in off)}/{sum(r.passed for r in online)} of {len(online)}"
    steps = f"{' '.join(str(r.steps) for r in off)} | {' '.join(str(r.steps) for r in online)}"
    tokens = f"{' '.join(str(r.tokens) for r in off)} | {' '.join(str(r.tokens) for r in online)}"
    wrong = f"{sum(r.wrong_writes for r in off)}/{sum(r.wrong_writes for r in online)}"
    fast = ", ".join(f"task {i + 1}: {r.workflow}" for i, r in enumerate(online) if r.workflow) or "none"
    print(f"{passed:>17}  {steps:<20}  {tokens:<36}  {wrong:<5}  {fast}")


if __name__ == "__main__":
    main()

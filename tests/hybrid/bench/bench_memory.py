"""Online workflow memory against none, per template family (AWM's online setting): the demo suite's
tasks in order with memory growing from empty, and the same tasks with memory off, as reference.

    .venv/bin/python tests/hybrid/bench/bench_memory.py [--tasks 0-14]

Prints, per family: tasks passed, steps and tokens task by task, and wrong writes (API writes the task did
not ask for: on an object its evaluator does not check, or in a task whose evaluator checks only the
answer; see hybrid.bench.side_effects), off/online. Uses the reference model (each task's reference
solution replayed).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from hybrid.bench.report import Report, TaskResult
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings


def families(report: Report) -> dict[int | None, list[TaskResult]]:
    grouped: dict[int | None, list[TaskResult]] = {}
    for result in sorted(report.results, key=lambda r: r.task_id):
        grouped.setdefault(result.template, []).append(result)
    return grouped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default="0-14", help="task ids and ranges (default: 0-14)")
    tasks = parser.parse_args().tasks
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch)
        settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'runs.sqlite'}")
        reports = {
            memory: run_benchmark(
                settings,
                BenchOptions(model="reference", tasks=tasks, memory=memory, report=data / f"{memory}.json"),  # type: ignore[arg-type]
            )
            for memory in ("off", "online")
        }
    off, online = families(reports["off"]), families(reports["online"])
    print(
        f"{'family':>6}  {'passed off/online':>17}  {'steps off | online':<28}  "
        f"{'tokens off | online':<40}  wrong"
    )
    for family, results in online.items():
        without = off[family]
        steps = f"{' '.join(str(r.steps) for r in without)} | {' '.join(str(r.steps) for r in results)}"
        tokens = f"{' '.join(str(r.tokens) for r in without)} | {' '.join(str(r.tokens) for r in results)}"
        passed = f"{sum(r.passed for r in without)}/{sum(r.passed for r in results)} of {len(results)}"
        wrong = f"{sum(r.wrong_writes for r in without)}/{sum(r.wrong_writes for r in results)}"
        print(f"{family!s:>6}  {passed:>17}  {steps:<28}  {tokens:<40}  {wrong}")


if __name__ == "__main__":
    main()

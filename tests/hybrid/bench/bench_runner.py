"""Wall time of `hybrid bench` on the demo suite with the reference (scripted) model, for --parallel 1, 2, 4.

    .venv/bin/python tests/hybrid/bench/bench_runner.py [--category api] [--parallel 1 2 4]

Each figure is one fresh benchmark in a new data dir: worker start-up, per-task kernels, the agent loop,
the site and the judging, with no model latency. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--category", action="append", default=[], choices=["api", "ui", "mixed"])
    parser.add_argument("--executor", default="local", choices=["local", "ray"])
    arguments = parser.parse_args()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    print(
        f"{os.cpu_count()} cores; demo "
        f"suite{' (' + ', '.join(arguments.category) + ')' if arguments.category else ''}"
        f", model reference, executor {arguments.executor}"
    )
    baseline = None
    for parallel in arguments.parallel:
        with tempfile.TemporaryDirectory(prefix="hybrid-bench-") as directory:
            settings = Settings(data_dir=Path(directory))
            began = time.monotonic()
            report = run_benchmark(
                settings,
                BenchOptions(
                    model="reference",
                    parallel=parallel,
                    categories=tuple(arguments.category),
                    executor=arguments.executor,
                ),
            )
            wall = time.monotonic() - began
        baseline = baseline or wall
        everything = report.summary[-1]
        print(
            f"--parallel {parallel}: {wall:6.1f} s wall for {everything.tasks} tasks "
            f"({everything.seconds:.2f} s per task inside a worker, {everything.success_rate:.0%} passed), "
            f"speed-up {baseline / wall:.2f}x"
        )


if __name__ == "__main__":
    main()

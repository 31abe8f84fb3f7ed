"""Search quality over the evaluation set: recall@1, recall@5 and rendered-section coverage per spec.

    .venv/bin/python tests/apis/bench_search.py [--misses]

A task counts at @1 when its needed operations are the first ones ranked (one operation: ranked
first), at @5 when all are in the top five, in-section when all appear in the 3,000-token API section.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.apis.search_eval import evaluate


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        results = evaluate(Path(cache))
    total = [0, 0, 0, 0]
    print(f"{'spec':28} {'tasks':>5} {'@1':>7} {'@5':>7} {'section':>8}")
    for name, s in results.items():
        print(
            f"{name:28} {s.tasks:5} {s.at_1 / s.tasks:7.1%} {s.at_5 / s.tasks:7.1%} "
            f"{s.in_section / s.tasks:8.1%}"
        )
        for i, value in enumerate((s.tasks, s.at_1, s.at_5, s.in_section)):
            total[i] += value
    n = total[0]
    print(f"{'all':28} {n:5} {total[1] / n:7.1%} {total[2] / n:7.1%} {total[3] / n:8.1%}")
    if "--misses" in sys.argv:
        for name, s in results.items():
            for miss in s.misses:
                print(f"{name}: {miss}")


if __name__ == "__main__":
    main()

"""Operation search on requests phrased by people: RestBench (TMDB, Spotify) and our user-phrased sets.

    .venv/bin/python tests/apis/bench_restbench.py [--misses]

Per set: each needed operation in the top 5 of a search with the request's own words (goal >= 80%),
requests with every needed operation in the 3,000-token API section (goal >= 90%), and the largest
section in tokens, for `apis.search` beside plain BM25 (rank-bm25) over the same fields. Then learning
from runs, held out: one half of each RestBench set (even positions, then odd) is remembered with its
solutions' operations, and the other half's top 5 is given before and after.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apis import search
from tests.apis.request_sets import (
    bm25_baseline,
    held_out,
    held_out_table,
    measure,
    restbench_sets,
    table,
    user_sets,
)


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        restbench = restbench_sets(Path(cache))
        sets = restbench + user_sets(Path(cache))
        reference = bm25_baseline()
        rows = [(s.name, measure(s, search), measure(s, reference)) for s in sets]
        learning = [
            (f"{s.name}, {halves}", *held_out(s, learn_from))
            for s in restbench
            for learn_from, halves in ((0, "even -> odd"), (1, "odd -> even"))
        ]
    print(table(rows))
    print()
    print(held_out_table(learning))
    if "--misses" in sys.argv:
        for name, ours, _ in rows:
            for miss in ours.misses:
                print(f"{name}: {miss}")


if __name__ == "__main__":
    main()

"""Operation search on requests phrased by people: RestBench (TMDB, Spotify) and our user-phrased sets.

    .venv/bin/python tests/apis/bench_restbench.py [--misses]

Per set: each needed operation in the top 5 of a search with the request's own words (goal >= 80%),
requests with every needed operation in the 3,000-token API section (goal >= 90%), and the largest
section in tokens, for `apis.search` beside plain BM25 (rank-bm25) over the same fields.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from apis import search
from tests.apis.request_sets import bm25_baseline, measure, restbench_sets, table, user_sets


def main() -> None:
    with tempfile.TemporaryDirectory() as cache:
        sets = restbench_sets(Path(cache)) + user_sets(Path(cache))
        reference = bm25_baseline()
        rows = [(s.name, measure(s, search), measure(s, reference)) for s in sets]
    print(table(rows))
    if "--misses" in sys.argv:
        for name, ours, _ in rows:
            for miss in ours.misses:
                print(f"{name}: {miss}")


if __name__ == "__main__":
    main()

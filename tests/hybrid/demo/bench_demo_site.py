"""Figures for the demo site: start-up time and request latencies. Run: python
tests/hybrid/demo/bench_demo_site.py"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import httpx

from hybrid.demo import demo_site

RUNS = 20


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:.1f} ms"


def main() -> None:
    cold = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import time; t = time.perf_counter(); from hybrid.demo import demo_site\n"
                "with demo_site() as s: print(time.perf_counter() - t)"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    print(f"cold start in a new process (imports included): {float(cold.stdout) * 1000:.0f} ms")
    starts = []
    for _ in range(RUNS):
        began = time.perf_counter()
        with demo_site():
            starts.append(time.perf_counter() - began)
    print(f"start + stop in-process, median of {RUNS}: {median_ms(starts)}")
    with demo_site() as site, httpx.Client(base_url=site.base_url) as client:
        headers = {"Authorization": f"Bearer {site.token_for('alice')}"}
        client.post("/login", data={"username": "alice", "password": site.password})
        for label, path, kwargs in [
            (
                "API list_issues (100 per page)",
                "/api/v1/projects/alice/tracker-core/issues",
                {"params": {"per_page": 100, "state": "all"}, "headers": headers},
            ),
            ("API get_issue", "/api/v1/projects/alice/tracker-core/issues/7", {"headers": headers}),
            ("UI issue list page", "/alice/tracker-core/issues", {}),
        ]:
            samples = []
            for _ in range(RUNS):
                began = time.perf_counter()
                client.get(path, **kwargs).raise_for_status()
                samples.append(time.perf_counter() - began)
            print(f"{label}: median {median_ms(samples)}")
        resets = []
        for _ in range(RUNS):
            began = time.perf_counter()
            site.reset()
            resets.append(time.perf_counter() - began)
        print(f"reset to seed: median {median_ms(resets)}")


if __name__ == "__main__":
    main()

"""Figures for the command line's speed, end to end as a user starts it: `hybrid --help`, `hybrid runs list`,
and a fast-path `hybrid run` (a task a verified workflow matches: no model call), beside `python -c pass`
and a plain httpx GET of the same data in a new process.

Run: .venv/bin/python tests/hybrid/bench_cli.py [--repeat N]
Everything lives in a temporary data directory, against the demo site started here on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import apis
from hybrid.agent.models import scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo

SUITE = {task.task_id: task for task in load_suite()}
LEARNT, FAST = SUITE[3], SUITE[4]  # "Who is assigned to issue #N in ...?": one template, two arguments


def hybrid_command() -> list[str]:
    """The `hybrid` script installed beside this Python, as a user runs it."""
    script = Path(sys.executable).with_name("hybrid")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hybrid"]


def timed(command: list[str], env: dict[str, str], repeat: int) -> tuple[float, float]:
    """(median, fastest) wall-clock seconds of `command` over `repeat` runs; it must succeed."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
        samples.append(time.perf_counter() - began)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (the median is shown)")
    repeat = parser.parse_args().repeat
    home = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    env = {
        **os.environ,
        "HYBRID_DATA_DIR": str(home / "data"),
        "COLUMNS": "120",
        **{name: str(home / name.lower()) for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")},
    }
    for name in ("HYBRID_MODEL", "HYBRID_DATABASE_URL", "HYBRID_CONFIG", "HYBRID_FAST_PATH"):
        env.pop(name, None)
    hybrid = hybrid_command()
    try:
        with demo_site() as site:
            register_demo(apis.SiteRegistry(home / "data"), site, "alice")
            script = home / "replies.json"
            script.write_text(json.dumps(scripted_replies_for(LEARNT.reference_solution)))
            learnt = subprocess.run(
                [*hybrid, "run", LEARNT.intent, "--json", "--model", f"scripted:{script}"],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            workflow = json.loads(learnt.stdout.splitlines()[-1])["workflow"]
            if not workflow or workflow["status"] != "verified":
                raise SystemExit(f"the first run did not become a verified workflow: {learnt.stdout}")
            get = (
                f"import httpx; httpx.get({site.api_url + '/projects/alice/tracker-core/issues/17'!r}, "
                f"headers={{'Authorization': 'Bearer {site.token_for('alice')}'}}).raise_for_status()"
            )
            rows = [
                ("python -c pass", [sys.executable, "-c", "pass"]),
                ("python: httpx GET of the issue", [sys.executable, "-c", get]),
                ("hybrid --help", [*hybrid, "--help"]),
                ("hybrid runs list", [*hybrid, "runs", "list"]),
                ("hybrid run (fast path, no model)", [*hybrid, "run", FAST.intent]),
            ]
            print(
                f"{'command':<36} {'median':>8} {'fastest':>8}   ({repeat} runs each, {os.cpu_count()} cores)"
            )
            for label, command in rows:
                median, fastest = timed(command, env, repeat)
                print(f"{label:<36} {median:>7.2f}s {fastest:>7.2f}s")
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

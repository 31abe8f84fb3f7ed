"""Figures for the command line's speed, end to end as a user starts it, each beside its reference from the
same run: a fast-path `hybrid run` (a task a verified workflow matches: no model call) beside a python+httpx
script making the same call and beside a scripted-model run of the same task; `hybrid --help`; and the
listing commands (`runs list`, `runs show`, `workflows list`, `sites list`) with many runs stored.

Wall time, CPU time and peak memory (the largest resident size of the process or of a child it waited
for) of each command in a new process; the median of each over the runs. CPU is the whole process tree's
(`perf stat`'s task-clock, which counts the sandboxed kernel a run starts and kills) where perf runs, else
user + system time of the process and the children it waited for (which misses that kernel).

Run: .venv/bin/python tests/hybrid/bench_cli.py [--repeat N] [--runs N]
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
from dataclasses import dataclass
from pathlib import Path

import apis
from hybrid.agent.models import scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo
from workflows.store import RunStore, StepRecord

SUITE = {task.task_id: task for task in load_suite()}
LEARNT, FAST = SUITE[3], SUITE[4]  # "Who is assigned to issue #N in ...?": one template, two arguments


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    peak_mib: float


def hybrid_command() -> list[str]:
    """The `hybrid` script installed beside this Python, as a user runs it."""
    script = Path(sys.executable).with_name("hybrid")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hybrid"]


# Starts the command and reports its own resource use: measured from this (large) process, a child's peak
# would be at least this process's size, which a forked child inherits until it execs.
LAUNCHER = """import json, os, subprocess, sys, time
began = time.perf_counter()
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
print(json.dumps([time.perf_counter() - began, usage.ru_utime + usage.ru_stime, usage.ru_maxrss,
                  os.waitstatus_to_exitcode(status)]), file=open(sys.argv[1], "w"))
"""


def perf_works() -> bool:
    """Whether `perf stat` can count a command's task-clock here."""
    if shutil.which("perf") is None:
        return False
    done = subprocess.run(
        ["perf", "stat", "-x,", "-e", "task-clock", "--", "true"], capture_output=True, check=False
    )
    return done.returncode == 0


PERF = perf_works()


def measured(command: list[str], env: dict[str, str]) -> Sample:
    """One run of `command`, which must succeed."""
    with (
        tempfile.TemporaryFile() as output,
        tempfile.NamedTemporaryFile("r") as report,
        tempfile.NamedTemporaryFile("r") as counted,
    ):
        counting = ["perf", "stat", "-x,", "-e", "task-clock", "-o", counted.name, "--"] if PERF else []
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, report.name, *counting, *command],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=True,
        )
        wall, cpu, peak_kib, code = json.loads(report.read())
        if code != 0:
            output.seek(0)
            raise SystemExit(f"{' '.join(command)} failed:\n{output.read().decode(errors='replace')}")
        if PERF:  # a line `1134.94,msec,task-clock,...`
            line = next(line for line in counted.read().splitlines() if ",task-clock," in line)
            cpu = float(line.split(",")[0]) / 1000
    return Sample(wall, cpu, peak_kib / 1024)


def median(command: list[str], env: dict[str, str], repeat: int) -> Sample:
    samples = [measured(command, env) for _ in range(repeat)]
    return Sample(
        *(statistics.median(getattr(s, name) for s in samples) for name in ("wall", "cpu", "peak_mib"))
    )


def store_runs(database_url: str, count: int) -> str:
    """`count` finished runs of three steps each, as many days of use leave; returns the last one's id."""
    store = RunStore(database_url)
    run_id = ""
    for number in range(count):
        run_id = store.start_run(
            f"Stored task {number}: who is assigned to issue #{number}?",
            sites=["demo"],
            model="m",
            policy="allow",
        ).id
        for index in range(3):
            store.add_step(run_id, StepRecord(index=index, code=f"print({index})", observation=str(index)))
        store.end_run(run_id, "finished", answer="bob")
    return run_id


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command (the median is shown)")
    parser.add_argument("--runs", type=int, default=1000, help="runs stored before the listing commands")
    options = parser.parse_args()
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
            learnt_script, fast_script = home / "learnt.json", home / "fast.json"
            learnt_script.write_text(json.dumps(scripted_replies_for(LEARNT.reference_solution)))
            fast_script.write_text(json.dumps(scripted_replies_for(FAST.reference_solution)))
            # Ten API-only steps: the host's peak memory for a run of that length.
            ten_script = home / "ten.json"
            call = (
                "issue = api.demo.get_issue(owner='bob', project='mobile-app', number={n})\n"
                "print(issue['title'])"
            )
            ten_script.write_text(
                json.dumps(
                    scripted_replies_for([call.format(n=n) for n in range(1, 10)] + ["finish('done')"])
                )
            )
            learnt = subprocess.run(
                [*hybrid, "run", LEARNT.intent, "--json", "--model", f"scripted:{learnt_script}"],
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
                f"import httpx; httpx.get({site.api_url + '/projects/bob/mobile-app/issues/5'!r}, "
                f"headers={{'Authorization': 'Bearer {site.token_for('alice')}'}}).raise_for_status()"
            )
            model_env = {**env, "HYBRID_FAST_PATH": "false", "HYBRID_INDUCE_WORKFLOWS": "false"}
            fast_rows = [
                ("python -c pass", [sys.executable, "-c", "pass"], env),
                ("python + httpx: GET of the issue", [sys.executable, "-c", get], env),
                ("hybrid --help", [*hybrid, "--help"], env),
                ("hybrid run: fast path, no model", [*hybrid, "run", FAST.intent], env),
                (
                    "hybrid run: scripted model, same task",
                    [*hybrid, "run", FAST.intent, "--model", f"scripted:{fast_script}"],
                    model_env,
                ),
                (
                    "hybrid run: scripted model, 10 API steps",
                    [*hybrid, "run", "Read issues 1 to 9.", "--model", f"scripted:{ten_script}"],
                    model_env,
                ),
            ]
            last_run = store_runs(f"sqlite:///{home / 'data' / 'hybrid.db'}", options.runs)
            list_rows = [
                ("hybrid runs list", [*hybrid, "runs", "list"], env),
                ("hybrid runs show RUN", [*hybrid, "runs", "show", last_run], env),
                ("hybrid workflows list", [*hybrid, "workflows", "list"], env),
                ("hybrid sites list", [*hybrid, "sites", "list"], env),
            ]
            print(
                f"{'command':<40} {'wall':>7} {'CPU':>7} {'peak':>8}   "
                f"(median of {options.repeat}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
                f"CPU {'of the process tree, perf' if PERF else 'of the process and waited children'})"
            )
            figures: dict[str, Sample] = {}
            for title, rows in (("", fast_rows), (f"with {options.runs} runs stored:", list_rows)):
                if title:
                    print(title)
                for label, command, row_env in rows:
                    figures[label] = sample = median(command, row_env, options.repeat)
                    print(f"{label:<40} {sample.wall:>6.2f}s {sample.cpu:>6.2f}s {sample.peak_mib:>5.0f} MiB")
            fast, script = (
                figures["hybrid run: fast path, no model"],
                figures["python + httpx: GET of the issue"],
            )
            model = figures["hybrid run: scripted model, same task"]
            print(
                f"fast path / script: {fast.wall / script.wall:.1f}x wall, {fast.cpu / script.cpu:.1f}x CPU; "
                f"fast path / model path: {fast.wall / model.wall:.2f}x wall"
            )
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()

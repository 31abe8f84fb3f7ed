"""The CLI's output in a pipe: nothing cropped or wrapped at 80 columns (the commands run in a process of
their own, stdout a pipe, COLUMNS unset)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import apis
from hybrid.agent.models import scripted_replies_for
from hybrid.demo.registration import register_demo
from workflows.memory import Workflow, WorkflowStore
from workflows.store import RunStore, StepRecord

TASK = (
    "Find every open issue labelled wontfix in alice/tracker-core, close each of them, and tell me how many "
    "there were in all, with their titles"
)
LONG_CODE = (
    "issues = api.demo.list_issues(owner='alice', project='tracker-core', labels='wontfix', state='open', "
    "per_page=100)"
)


def piped(data_dir: Path, *arguments: str, timeout: float = 120) -> list[str]:
    """`hybrid ARGUMENTS` with stdout a pipe and no COLUMNS: the lines it printed."""
    environment = {**os.environ, "HYBRID_DATA_DIR": str(data_dir)}
    for name in ("COLUMNS", "HYBRID_MODEL", "HYBRID_FAST_PATH", "HYBRID_CONFIG", "HYBRID_POLICY"):
        environment.pop(name, None)
    completed = subprocess.run(
        [sys.executable, "-m", "hybrid", *arguments],
        capture_output=True,  # stdout a pipe, as in `hybrid runs list | less`
        stdin=subprocess.DEVNULL,
        text=True,
        timeout=timeout,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.splitlines()


def line_with(lines: list[str], text: str) -> str:
    found = [line for line in lines if text in line]
    assert found, f"no line holds {text!r}:\n" + "\n".join(lines)
    return found[0]


@pytest.fixture
def data_dir(tmp_path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HYBRID_DATABASE_URL", database_url)
    return tmp_path / "data"


def test_runs_list_and_show_keep_ids_tasks_and_lines_whole(data_dir: Path, database_url: str) -> None:
    store = RunStore(database_url)
    run = store.start_run(
        TASK, sites=["demo"], model="scripted:/a/long/path/to/the/replies.json", policy="allow"
    )
    store.add_step(run.id, StepRecord(index=0, thought="Read them.", code=LONG_CODE, observation="y" * 150))

    listed = line_with(piped(data_dir, "runs", "list"), run.id)
    assert TASK in listed  # was cut at 80 columns: ids folded, the task clipped

    shown = piped(data_dir, "runs", "show", run.id)
    assert line_with(shown, f"run {run.id}").endswith("cost unknown")  # the run's line, on one line
    assert LONG_CODE in shown  # the code line whole, on a line of its own
    assert "y" * 150 in line_with(shown, "yyy")
    step = line_with(shown, "step 1 ·")
    assert "run 0.00 s" in step and len(step) < 120  # a rule as long as its title, not 10,000 columns


def test_workflows_show_keeps_code_lines_whole(data_dir: Path, database_url: str) -> None:
    body = f"def list_wontfix(owner, project):\n    {LONG_CODE}\n    return issues\n"
    WorkflowStore(database_url).add_workflow(
        Workflow(name="list_wontfix", site="demo", body=body, fingerprint="f", parameters=[])
    )
    shown = piped(data_dir, "workflows", "show", "list_wontfix")
    assert any(line.strip() == LONG_CODE for line in shown), "\n".join(shown)


@pytest.mark.kernel
def test_a_run_in_a_pipe_prints_each_line_whole(data_dir: Path, tmp_path, demo) -> None:
    register_demo(apis.SiteRegistry(data_dir), demo, "alice")
    script = tmp_path / "replies.json"
    code = f"{LONG_CODE}\nprint(len(issues))"
    script.write_text(json.dumps(scripted_replies_for([code, "finish(str(len(issues)))"])))
    lines = piped(data_dir, "run", TASK, "--site", "demo", "--model", f"scripted:{script}")
    header = line_with(lines, "sites demo")
    assert f"model scripted:{script}" in header and "sandbox" in header
    assert LONG_CODE in line_with(lines, "api.demo.list_issues(")
    assert re.search(r" · run id: [0-9a-f]{12}$", line_with(lines, "status: finished"))
    width = max(map(len, lines))
    assert width < 400, f"a line of {width} characters: boxes fit what they hold"

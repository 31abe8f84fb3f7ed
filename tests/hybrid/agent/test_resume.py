"""A run survives its process: killed or interrupted mid-action, it resumes from its checkpoint (in SQLite,
or in PostgreSQL when the database is PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import apis
from hybrid.agent.graph import INTERRUPTED_ACTION_NOTICE, RESUMED_NOTICE
from hybrid.agent.models import scripted_replies_for
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from tests.waits import scaled
from workflows.store import RunStore

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True),
    pytest.mark.kernel,
]


ISSUE = {"owner": "bob", "project": "mobile-app", "number": 5}
MARK = "the second action is running"


def write_script(path: Path) -> Path:
    """Step 2 leaves a comment, then hangs until the run is stopped; on resume the script goes on with step
    3."""
    steps = [
        "me = api.demo.get_current_user()\nprint(me['username'])",
        (
            f"api.demo.create_comment(**{ISSUE!r}, body={{'body': {MARK!r}}})\n"
            "import time\ntime.sleep(120)\nprint('second step done')"
        ),
        "finish('done')",
    ]
    path.write_text(json.dumps(scripted_replies_for(steps)))
    return path


def start_run(settings, script: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hybrid",
            "run",
            "Say who I am.",
            "--site",
            "demo",
            "--model",
            f"scripted:{script}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "HYBRID_DATA_DIR": str(settings.data_dir)},
    )


def wait_for_the_second_action(store: RunStore, demo: DemoSite, process: subprocess.Popen) -> str:
    """The run's id, once its second action is running: it has left its comment and sleeps."""
    comments = f"/projects/{ISSUE['owner']}/{ISSUE['project']}/issues/{ISSUE['number']}/comments"
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('bob')}"}
    ) as client:
        deadline = time.monotonic() + scaled(60)
        while time.monotonic() < deadline:
            if any(comment["body"] == MARK for comment in client.get(comments).raise_for_status().json()):
                return store.list_runs(1)[0].id
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.1)
    raise AssertionError("the second action never started")


def resume(settings, run_id: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybrid", "runs", "resume", run_id, "--json"],
        capture_output=True,
        text=True,
        timeout=scaled(120),
        check=False,
        env={**os.environ, "HYBRID_DATA_DIR": str(settings.data_dir)},
    )


@pytest.mark.slow
@pytest.mark.timeout(scaled(300))
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGINT], ids=["killed", "ctrl-c"])
def test_a_stopped_run_resumes_to_the_end(stop_signal, settings, demo: DemoSite, tmp_path) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "bob")
    store = RunStore(settings.effective_database_url)
    process = start_run(settings, write_script(tmp_path / "script.json"))
    try:
        run_id = wait_for_the_second_action(store, demo, process)
        process.send_signal(stop_signal)
        output, _ = process.communicate(timeout=scaled(30))
    finally:
        process.kill()
    if stop_signal == signal.SIGINT:
        assert process.returncode == 130 and "hybrid runs resume" in output
        assert store.get_run(run_id).status == "interrupted"
    else:
        assert store.get_run(run_id).status == "running"

    completed = resume(settings, run_id)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert json.loads(completed.stdout)["status"] == "finished"
    run = store.get_run(run_id)
    steps = store.steps_of(run_id)
    assert (run.status, run.answer) == ("finished", "done")
    assert [s.index for s in steps] == [0, 1, 2]
    # The action that was running is not run again (it may have partly run); the model is told so.
    assert RESUMED_NOTICE in steps[1].observation and INTERRUPTED_ACTION_NOTICE in steps[1].observation
    assert "second step done" not in steps[1].observation


def test_a_finished_run_cannot_be_resumed(settings) -> None:
    store = RunStore(settings.effective_database_url)
    run = store.start_run("Say hi.", sites=["demo"], model="scripted", policy="allow")
    store.end_run(run.id, "finished", answer="hi")
    again = resume(settings, run.id)
    assert again.returncode == 1 and "already ended (finished)" in again.stderr

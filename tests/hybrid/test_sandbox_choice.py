"""`hybrid run` and the sandbox: isolated by default, refused where bubblewrap cannot run, opt-out
recorded."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import apis
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TASK = "How many projects can alice see?"
REPLY = "Thought: count.\n```python\nfinish(len(api.demo.list_projects()))\n```"


def hybrid_run(
    settings: Settings, tmp_path: Path, *options: str, path: str | None = None
) -> subprocess.CompletedProcess:
    script = tmp_path / "replies.json"
    script.write_text(json.dumps([REPLY]))
    environment = {**os.environ, "COLUMNS": "200"}
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "hybrid",
            "run",
            TASK,
            "--site",
            "demo",
            "--model",
            f"scripted:{script}",
            *options,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_a_run_is_isolated_by_default_and_says_so(settings: Settings, demo: DemoSite, tmp_path: Path) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    completed = hybrid_run(settings, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "sandbox bubblewrap, no network" in completed.stdout
    assert RunStore(settings.effective_database_url).list_runs(1)[0].sandbox == "bubblewrap"


@pytest.mark.slow
def test_without_bubblewrap_the_run_is_refused_in_one_line_until_the_user_opts_out(
    settings: Settings, demo: DemoSite, tmp_path: Path
) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    tools = tmp_path / "bin"  # what a machine without bubblewrap has on PATH
    tools.mkdir()
    for tool in ("prlimit", "setpriv", "chromium"):
        if found := shutil.which(tool):
            (tools / tool).symlink_to(found)
    refused = hybrid_run(settings, tmp_path, path=str(tools))
    assert refused.returncode == 1
    assert (
        refused.stderr.count("\n") == 1
        and "bubblewrap" in refused.stderr
        and "--sandbox none" in refused.stderr
    )
    opted_out = hybrid_run(settings, tmp_path, "--sandbox", "none", path=str(tools))
    assert opted_out.returncode == 0, opted_out.stderr
    assert "sandbox none (code actions run unisolated" in opted_out.stdout
    runs = RunStore(settings.effective_database_url).list_runs(5)
    assert [run.sandbox for run in runs] == ["none"]  # the refused run never started

"""The `hybrid` command line as a user meets it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from hybrid.cli import cli


def test_help_lists_every_command_group() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for group in ("run", "sites", "workflows", "runs", "demo", "bench", "config"):
        assert f"  {group} " in result.output


@pytest.mark.parametrize("group", ["workflows", "bench"])
def test_unbuilt_groups_say_so_and_fail(group: str) -> None:
    result = CliRunner().invoke(cli, [group, "anything", "--flag"])
    assert result.exit_code != 0
    assert "not built yet" in result.output and "Nothing was done" in result.output


def test_config_shows_values_and_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_MAX_STEPS", "9")
    result = CliRunner().invoke(cli, ["config", "--json"])
    assert result.exit_code == 0
    settings = json.loads(result.output)["settings"]
    assert settings["max_steps"] == {"value": 9, "origin": "env HYBRID_MAX_STEPS"}


def test_config_error_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_POLICY", "sometimes")
    completed = subprocess.run([sys.executable, "-m", "hybrid", "config"], capture_output=True, text=True, check=False,
                               timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.startswith("hybrid: configuration error:") and "policy" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_demo_token_rejects_unknown_users() -> None:
    result = CliRunner().invoke(cli, ["demo", "token", "zed"])
    assert result.exit_code == 2 and "no demo user 'zed'" in result.output
    assert CliRunner().invoke(cli, ["demo", "token", "bob"]).output.startswith("demo_")


def test_demo_serve_starts_quickly_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen([sys.executable, "-m", "hybrid", "demo", "serve"], stdout=subprocess.PIPE,
                               text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        deadline = time.monotonic() + 30
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if "Demo site running at" in line:
                url = line.split(" at ")[1].strip()
        assert url, "the demo site never said where it runs"
        assert httpx.get(f"{url}/api/v1/openapi.json").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert "Demo site stopped." in process.stdout.read()
    finally:
        process.kill()

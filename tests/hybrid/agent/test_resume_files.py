"""A run given the user's files (`hybrid run --file`) keeps its own read-only copies: when it is resumed,
its fresh kernel gets them again, even if the user's file has gone since, and they go once the run ends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hybrid.cli import cli
from tests.hybrid.test_cli import scripted

pytestmark = pytest.mark.kernel


def test_a_resumed_run_gets_the_files_it_was_given_again(settings, tmp_path) -> None:
    # A web-only site the run never browses: no browser starts.
    assert CliRunner().invoke(cli, ["sites", "add", "acme", "--web-url", "http://127.0.0.1:9"]).exit_code == 0
    notes = tmp_path / "mine" / "notes.txt"
    notes.parent.mkdir()
    notes.write_text("first draft")
    read = 'print(open("notes.txt").read())'
    # One reply only: the run stops at its second model call, resumable.
    stopped = CliRunner().invoke(
        cli,
        ["run", "Read my notes", "--file", str(notes), "--json", "--model", scripted(tmp_path, [read])],
    )
    outcome = json.loads(stopped.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "error", stopped.output
    kept = settings.data_dir / "run-files" / outcome["run_id"]
    assert [path.name for path in kept.iterdir()] == ["notes.txt"]

    notes.unlink()  # the user's own file is gone; the run's copy is not
    steps = [read, 'import os; print(os.listdir("."), os.access("notes.txt", os.W_OK)); finish("read")']
    scripted(tmp_path, steps)  # the same script file, now with the reply the run stopped for
    resumed = CliRunner().invoke(cli, ["runs", "resume", outcome["run_id"], "--json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["status"] == "finished"
    shown = CliRunner().invoke(cli, ["runs", "show", outcome["run_id"], "--json"])
    observations = [step["observation"] for step in json.loads(shown.stdout)["steps"]]
    assert "first draft" in observations[0]
    assert "['notes.txt'] False" in observations[1]  # the same read-only copy, in the fresh kernel
    assert not kept.exists()  # ended for good: nothing left to resume, so the copies are gone

"""`hybrid sites add-mcp` and the MCP side of list/show/search/remove, against the notes server fixture."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid.cli import cli

NOTES_SERVER = Path(__file__).parents[2] / "fixtures" / "notes_mcp_server.py"
COMMAND = shlex.join([sys.executable, str(NOTES_SERVER)])


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYBRID_CONFIG", str(tmp_path / "hybrid.toml"))
    monkeypatch.setenv("COLUMNS", "250")  # tables on one line
    (tmp_path / "hybrid.toml").write_text("")
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["sites", *args], catch_exceptions=False)


def test_add_list_show_search_remove_an_mcp_server(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TOKEN_FOR_TESTS", "tok-9")
    added = run("add-mcp", "notes", "--command", COMMAND, "--env", "NOTES_TOKEN=env:NOTES_TOKEN_FOR_TESTS")
    assert added.exit_code == 0, added.output
    assert "Added notes: MCP server (stdio) with 5 tools, 5 of them writing" in added.output
    assert "The server hints these only read: list_notes, get_note, whoami." in added.output
    listed = run("list").output
    assert (
        "notes" in listed and "NOTES_TOKEN from env:NOTES_TOKEN_FOR_TESTS" in listed and "tok-9" not in listed
    )
    shown = run("show", "notes").output
    assert "get_note(note_id) - Read one note by its id. [writes; the server hints read-only]" in shown
    found = run("search", "notes", "remove a note", "-k", "1").output
    assert found.splitlines() == ["delete_note(note_id) - Delete a note for good. [writes]"]
    assert run("remove", "notes").exit_code == 0
    assert "No sites yet" in run("list").output


def test_add_mcp_refuses_literal_secrets_and_servers_that_do_not_answer(run) -> None:
    literal = run("add-mcp", "notes", "--command", COMMAND, "--env", "NOTES_TOKEN=tok-9")
    assert literal.exit_code == 1 and "is not a reference" in literal.output
    dead = run(
        "add-mcp",
        "dead",
        "--command",
        shlex.join([sys.executable, "-c", "raise SystemExit('no config here')"]),
    )
    assert dead.exit_code == 1 and "the MCP server dead" in dead.output and "cannot be used" in dead.output
    assert "no config here" in dead.output  # the end of its log
    both = run("add-mcp", "both", "--command", COMMAND, "--url", "http://127.0.0.1:9/mcp")
    assert both.exit_code == 1 and "not both" in both.output
    assert "No sites yet" in run("list").output


def test_edit_marks_an_mcp_servers_tool_as_a_read(run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTES_TOKEN_FOR_TESTS", "tok-9")
    assert run("add-mcp", "notes", "--command", COMMAND, "--env", "NOTES_TOKEN=env:NOTES_TOKEN_FOR_TESTS")
    edited = run("edit", "notes", "--read", "get_note")
    assert edited.exit_code == 0, edited.output
    assert edited.output.splitlines() == ["notes.get_note: reads"]
    shown = run("show", "notes").output
    assert "get_note(note_id) - Read one note by its id." in shown
    assert "get_note(note_id) - Read one note by its id. [writes" not in shown

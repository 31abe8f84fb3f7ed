"""MCP servers as sites: the registry of servers and their secret references, the host-side connection
(stdio and streamable HTTP, against a server written with the SDK), and the tools' docs and search."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from apis import AuthError, RegistryError, Site, SiteRegistry
from apis.mcpsites import (
    McpConnection,
    McpRegistry,
    McpServer,
    McpServerError,
    McpTool,
    McpToolError,
    parse_reference_pairs,
    render_mcp_section,
    search_tools,
    tool_help,
)
from apis.mcpsites.connection import python_name

NOTES_SERVER = Path(__file__).parents[1] / "fixtures" / "notes_mcp_server.py"


def test_servers_are_stored_with_references_never_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = McpRegistry(tmp_path)
    env = parse_reference_pairs(["NOTES_TOKEN=env:MY_NOTES_TOKEN"], "--env")
    registry.add(McpServer("notes", command=["notes-server", "--quiet"], env=env))
    assert registry.has("notes") and registry.get("notes").env == {"NOTES_TOKEN": "env:MY_NOTES_TOKEN"}
    with pytest.raises(RegistryError, match="is not a reference"):
        parse_reference_pairs(["Authorization=Bearer abc"], "--header")
    with pytest.raises(
        AuthError, match="NOTES_TOKEN of an MCP server reads the environment variable MY_NOTES_TOKEN"
    ):
        registry.resolve(registry.get("notes").env)
    monkeypatch.setenv("MY_NOTES_TOKEN", "t-1")
    registry.secrets.set("tracker_auth", "Bearer t-2")
    assert registry.resolve(
        {"NOTES_TOKEN": "env:MY_NOTES_TOKEN", "Authorization": "secret:tracker_auth"}
    ) == {"NOTES_TOKEN": "t-1", "Authorization": "Bearer t-2"}
    with pytest.raises(RegistryError, match="already exists; pass --replace to replace it"):
        registry.add(McpServer("notes", url="http://127.0.0.1:1/mcp"))
    with pytest.raises(RegistryError, match="not both"):
        registry.add(McpServer("both", command=["x"], url="http://127.0.0.1:1/mcp"))
    SiteRegistry(tmp_path).add(Site("demo", str(tmp_path / "spec.json"), "http://127.0.0.1:1"))
    with pytest.raises(RegistryError, match="An API site named 'demo' exists"):
        registry.add(McpServer("demo", command=["x"]))
    registry.remove("notes")
    assert registry.list() == []


def test_a_stdio_server_is_called_from_sync_code(tmp_path: Path) -> None:
    # Marked by the user, by the tool's name on the server or in Python; the server's hints decide nothing.
    reads = {"list_notes": "read", "get_note": "read", "whoami": "read", "delete-note": "write"}
    server = McpServer("notes", command=[sys.executable, str(NOTES_SERVER)], effects=reads)
    with McpConnection(server, env={"NOTES_TOKEN": "t-3"}, timeout=30).open() as notes:
        assert [(t.python_name, t.writes, t.hinted_read_only) for t in notes.tools] == [
            ("list_notes", False, True),
            ("get_note", False, True),
            ("add_note", True, False),
            ("delete_note", True, False),
            ("whoami", False, True),
        ]
        assert notes.call("add_note", {"title": "new"}) == 3
        assert notes.call("delete_note", {"note_id": 3}) == "deleted"  # by its Python name: delete-note
        assert notes.call("list_notes", {"contains": "idea"}) == [{"id": 2, "title": "ideas"}]
        assert notes.call("whoami", {}) == "t-3" and notes.secrets == ["t-3"]
        with pytest.raises(McpToolError, match="no note 9"):
            notes.call("get_note", {"note_id": 9})
        with pytest.raises(KeyError, match="no tool 'nope'"):
            notes.call("nope", {})
        for process in psutil.Process().children(recursive=True):
            if str(NOTES_SERVER) in process.cmdline():
                process.kill()  # the server dies: calls say so, they do not hang
        with pytest.raises(McpServerError, match="the MCP server notes could not answer whoami"):
            notes.call("whoami", {})


@pytest.fixture
def notes_over_http() -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, str(NOTES_SERVER), "--port", str(port)], stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (
                    "the notes server did not listen"
                )
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_http_server_gets_its_headers(notes_over_http: str) -> None:
    server = McpServer("notes", url=notes_over_http)
    with McpConnection(server, headers={"X-Notes-Token": "t-4"}, timeout=30).open() as notes:
        assert notes.call("whoami", {}) == "t-4"
        assert notes.call("get_note", {"note_id": 1})["title"] == "groceries"


def tool(name: str, description: str, writes: bool = False, **properties: dict) -> McpTool:
    schema = {"type": "object", "properties": properties, "required": list(properties)[:1]}
    return McpTool(
        name=name, python_name=python_name(name), description=description, input_schema=schema, writes=writes
    )


def test_tools_are_documented_in_tiers_and_searched() -> None:
    tools = [
        tool(f"get-thing-{i}", f"Get thing number {i}. More words.", number={"type": "integer"})
        for i in range(60)
    ]
    tools.append(
        tool(
            "send_email",
            "Send an email to someone.",
            True,
            to={"type": "string"},
            subject={"type": "string", "description": "The subject line"},
        )
    )
    assert python_name("2fa-check") == "tool_2fa_check" and python_name("class") == "tool_class"
    section = render_mcp_section("mail", tools, "send an email to bob", token_budget=200)
    lines = section.splitlines()
    assert lines[0].startswith("mcp.mail: MCP server (61 tools)")
    assert lines[2] == "send_email(to, subject=?) - Send an email to someone. [writes]"
    assert lines[-1].endswith("mcp.mail.search('words') lists others.") and len(lines) < 30
    assert len(render_mcp_section("mail", tools[-1:], "anything").splitlines()) == 2  # all fit: no footer
    assert search_tools(tools, "email", k=1) == [tools[-1]]
    assert "  subject: string, optional - The subject line" in tool_help("mail", tools[-1])

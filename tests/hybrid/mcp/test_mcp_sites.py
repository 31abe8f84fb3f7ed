"""MCP servers as sites: the agent calls a real MCP server (the SDK's, over stdio) as mcp.<server>.<tool>
through the bridge, with the run's policy, record and redaction."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from mcp import Client

from apis.mcpsites import McpRegistry, McpServer
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import Agent, AgentError
from hybrid.cli import cli
from hybrid.config import Settings
from hybrid.mcp.server import HybridMcp

from .conftest import run_async

pytestmark = pytest.mark.kernel

NOTES_SERVER = Path(__file__).parents[2] / "fixtures" / "notes_mcp_server.py"
TOKEN = "notes-token-5b1e"


@pytest.fixture
def notes(settings: Settings) -> McpRegistry:
    registry = McpRegistry(settings.data_dir)
    registry.add(
        McpServer(
            "notes",
            command=[sys.executable, str(NOTES_SERVER)],
            env={"NOTES_TOKEN": "secret:notes_token"},
            effects={"list_notes": "read", "get_note": "read", "whoami": "read"},  # as the user marked them
        )
    )
    registry.secrets.set("notes_token", TOKEN)
    return registry


def agent_for(settings: Settings, steps: list[str], **options) -> Agent:
    model = ScriptedChatModel(replies=scripted_replies_for(steps))
    return open_agent(
        settings, model=model, model_name="scripted", sites=["notes"], use_browser=False, **options
    )


def test_the_agent_uses_an_mcp_server_through_the_bridge(settings: Settings, notes: McpRegistry) -> None:
    steps = [
        "print(mcp.notes.search('add a note', k=2))\nprint(mcp.notes.list_notes())",
        (
            "key = mcp.notes.add_note(title='from the agent', body='hello')\nprint(mcp.notes.get_note(key))\n"
            "print(mcp.notes.whoami())"
        ),
        "finish(key)",
    ]
    with agent_for(settings, steps) as agent:
        prompt = agent.runtime.system_prompt("prompt-only", "Add a note", max_steps=5)
        result = agent.run("Add a note titled 'from the agent' and tell me its id.")
        steps_recorded = agent.store.steps_of(result.run_id)
        calls = [call for step in steps_recorded for call in agent.store.calls_of(step.id)]
    assert "mcp.notes: MCP server (5 tools)" in prompt
    assert "add_note(title, body=?) - Add a note; returns its id. [writes]" in prompt
    assert "delete_note(note_id) - Delete a note for good. [writes]" in prompt
    assert (result.status, result.answer) == ("finished", "3")
    assert "add_note(title, body=?)" in steps_recorded[0].observation.split("groceries")[0]
    assert "from the agent" in steps_recorded[1].observation
    mcp_calls = [(call.target, call.writes, call.status) for call in calls if call.capability == "mcp"]
    assert mcp_calls == [
        ("notes.search", False, "ok"),
        ("notes.list_notes", False, "ok"),
        ("notes.add_note", True, "ok"),
        ("notes.get_note", False, "ok"),
        ("notes.whoami", False, "ok"),
    ]
    # The token the host gave the server never reaches what the model or the record shows.
    shown = " ".join(
        [
            steps_recorded[1].observation,
            steps_recorded[1].full_output or "",
            *(call.result or "" for call in calls),
        ]
    )
    assert TOKEN not in shown and "notes.whoami" in shown


def test_read_only_refuses_a_tool_not_annotated_read_only(settings: Settings, notes: McpRegistry) -> None:
    steps = [
        (
            "try:\n    mcp.notes.add_note(title='nope')\nexcept PermissionError as exc:\n    "
            "print('refused:', exc)\n"
            "print(len(mcp.notes.list_notes()))"
        ),
        "finish('refused')",
    ]
    with agent_for(settings, steps, policy="read-only") as agent:
        result = agent.run("Add a note.")
        first = agent.store.steps_of(result.run_id)[0]
        calls = agent.store.calls_of(first.id)
    assert (
        "refused: mcp.notes.add_note was refused: it writes, and this session is read-only"
        in first.observation
    )
    assert [(call.target, call.status) for call in calls] == [
        ("notes.add_note", "denied"),
        ("notes.list_notes", "ok"),
    ]
    assert "\n2\n" in f"\n{first.observation}"


def test_a_server_that_cannot_start_stops_the_agent_with_a_reason(settings: Settings) -> None:
    McpRegistry(settings.data_dir).add(
        McpServer("broken", command=[sys.executable, "-c", "raise SystemExit(3)"])
    )
    with pytest.raises(AgentError, match="the MCP server broken .* cannot be used"):
        open_agent(
            settings, model=ScriptedChatModel(replies=["finish(1)"]), sites=["broken"], use_browser=False
        )


def test_a_run_on_mcp_tools_becomes_a_workflow_that_calls_them(
    settings: Settings, notes: McpRegistry
) -> None:
    steps = ["note = mcp.notes.get_note(note_id=2)\nprint(note['title'])", "finish(note['title'])"]
    with agent_for(settings, steps) as agent:
        result = agent.run("What is the title of note 2?")
        learnt = [w for w in agent.store.list_workflows(sites=["notes"]) if w.kind == "program"]
    assert (result.status, result.answer) == ("finished", "ideas")
    assert len(learnt) == 1 and learnt[0].operations == ["mcp.notes.get_note"]
    assert learnt[0].status == "verified" and not learnt[0].writes and "mcp.notes.get_note(" in learnt[0].body
    # The next run is offered it, and calls it as wf.<name>(...) in a kernel that has mcp.
    with agent_for(settings, [f"finish(wf.{learnt[0].name}(2))"], fast_path=False) as agent:
        again = agent.run("What is the title of note 2?")
    assert (again.status, again.answer) == ("finished", "ideas")


def test_hybrid_run_on_the_only_registered_site_an_mcp_server(
    settings: Settings, notes: McpRegistry, tmp_path: Path
) -> None:
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(scripted_replies_for(["finish(len(mcp.notes.list_notes(contains='i')))"])))
    result = CliRunner().invoke(
        cli,
        ["run", "How many notes have an i in the title?", "--model", f"scripted:{replies}", "--json"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[-1])["answer"] == "2"


def test_hybrid_mcp_serve_offers_an_mcp_server_site_like_an_api(
    settings: Settings, notes: McpRegistry
) -> None:
    hybrid = HybridMcp(settings, sites=["notes"], policy="read-only")

    async def drive():
        async with Client(hybrid.build()) as client:
            found = await client.call_tool(
                "search_operations", {"site": "notes", "query": "remove a note", "k": 1}
            )
            described = await client.call_tool(
                "describe_operation", {"site": "notes", "operation": "delete-note"}
            )
            read = await client.call_tool("call_operation", {"site": "notes", "operation": "whoami"})
            write = await client.call_tool(
                "call_operation", {"site": "notes", "operation": "add_note", "arguments": {"title": "no"}}
            )
            return found, described, read, write

    try:
        found, described, read, write = run_async(drive())
    finally:
        hybrid.close()
    assert found.structured_content["result"] == ["delete_note(note_id) - Delete a note for good. [writes]"]
    assert described.content[0].text.startswith("mcp.notes.delete_note(note_id)\nMCP tool 'delete-note'")
    assert not read.is_error and read.content[0].text == "[REDACTED]"  # the server's token, never shown
    assert write.is_error and "mcp.notes.add_note was refused: it writes, and this session is read-only" in (
        write.content[0].text
    )
    runs = {run.task: run for run in hybrid.store.list_runs()}
    refused = runs["mcp.notes.add_note(**{'title': 'no'})"]
    calls = hybrid.store.calls_of(hybrid.store.steps_of(refused.id)[0].id)
    assert refused.status == "error" and [(c.capability, c.target, c.status) for c in calls] == [
        ("mcp", "notes.add_note", "denied")
    ]

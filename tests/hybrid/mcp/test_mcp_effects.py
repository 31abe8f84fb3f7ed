"""An MCP server's tools are writes unless the user marks them read: a server that calls a deleting tool
read-only is not taken at its word, and its hint is shown as a hint."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from apis.mcpsites import McpRegistry, McpServer, tool_line
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings

pytestmark = pytest.mark.kernel

LIAR = Path(__file__).parents[2] / "fixtures" / "lying_mcp_server.py"


def tidy_under_read_only(settings: Settings, victim: Path) -> None:
    steps = [f"print(mcp.liar.tidy(path={str(victim)!r}))", "finish('done')"]
    model = ScriptedChatModel(replies=scripted_replies_for(steps))
    with open_agent(
        settings, model=model, model_name="scripted", sites=["liar"], policy="read-only", use_browser=False
    ) as agent:
        agent.run("Look at the file.")


def test_a_tool_the_server_calls_read_only_is_a_write_until_the_user_marks_it(
    settings: Settings, tmp_path: Path
) -> None:
    registry = McpRegistry(settings.data_dir)
    registry.add(McpServer("liar", command=[sys.executable, str(LIAR)]))
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    with registry.connect("liar") as connection:
        (tool,) = connection.tools
    assert tool.writes and tool.hinted_read_only
    assert tool_line(tool) == "tidy(path) - Look at a file (it says). [writes; the server hints read-only]"
    tidy_under_read_only(settings, victim)
    assert victim.read_text() == "precious"

    registry.mark("liar", {"tidy": "read"})  # the user's word, which is taken
    tidy_under_read_only(settings, victim)
    assert not victim.exists()

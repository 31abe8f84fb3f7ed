"""`hybrid mcp serve` driven by the SDK's own client: over stdio and streamable HTTP as a subprocess, and
in process for confirm mode (elicitation)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.types import ElicitResult

import apis
from hybrid.agent.models import scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from hybrid.mcp.server import HybridMcp
from tests.waits import scaled
from workflows.memory import Workflow, WorkflowStore

from .conftest import run_async

pytestmark = pytest.mark.kernel

TASK = load_suite()[0]  # How many open issues labelled bug are there in alice/tracker-core?
COUNT_BUGS = '''
def count_open_bugs(owner: str, project: str):
    """Count the open issues labelled bug in a project."""
    return len(api.demo.list_issues(owner=owner, project=project, state='open', labels='bug', per_page=100))
'''
TOKEN = "test-token-" + "x" * 20
NEW_LABEL = {"name": "from-mcp", "color": "#00aa00"}
ADD_LABEL = '''
def add_label(name: str):
    """Add a green label to alice/tracker-core."""
    body = {'name': name, 'color': '#00aa00'}
    return api.demo.create_label(owner='alice', project='tracker-core', body=body)['name']
'''


def open_bugs(demo: DemoSite) -> int:
    response = httpx.get(
        f"{demo.api_url}/projects/alice/tracker-core/issues",
        params={"state": "open", "labels": "bug", "per_page": 1},
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    )
    return int(response.headers["X-Total-Count"])


@pytest.fixture
def served(settings: Settings, demo: DemoSite, tmp_path: Path) -> Path:
    """The demo site registered, a verified workflow on it, and a scripted model's replies for TASK."""
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    WorkflowStore(settings.effective_database_url).add_workflow(
        Workflow(
            name="count_open_bugs",
            site="demo",
            status="verified",
            body=COUNT_BUGS,
            fingerprint="c",
            description="Count the open issues labelled bug in a project.",
            intent_template="Count bugs of {owner}/{project}",
            parameters=[{"name": "owner", "type": "str"}, {"name": "project", "type": "str"}],
            operations=["api.demo.list_issues"],
        )
    )
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(scripted_replies_for(TASK.reference_solution)))
    return replies


def serve_args(replies: Path, *extra: str) -> list[str]:
    return ["-m", "hybrid", "mcp", "serve", "--site", "demo", "--model", f"scripted:{replies}", *extra]


async def exercise_read_only(client: Client, expected: int) -> dict[str, object]:
    """Everything a client does with a read-only server; returns what the tests check."""
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    found = await client.call_tool("search_operations", {"site": "demo", "query": "list the issues", "k": 3})
    described = await client.call_tool("describe_operation", {"site": "demo", "operation": "create_label"})
    read = await client.call_tool(
        "call_operation",
        {
            "site": "demo",
            "operation": "get_project",
            "arguments": {"owner": "alice", "project": "tracker-core"},
        },
    )
    write = await client.call_tool(
        "call_operation",
        {
            "site": "demo",
            "operation": "create_label",
            "arguments": {"owner": "alice", "project": "tracker-core", "body": NEW_LABEL},
        },
    )
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    task = await client.call_tool("run_task", {"task": TASK.intent}, progress_callback=on_progress)
    tools_after = {tool.name for tool in (await client.list_tools()).tools}
    workflow = await client.call_tool("count_open_bugs", {"owner": "alice", "project": "tracker-core"})
    run_id = task.structured_content["run_id"]
    record = json.loads((await client.read_resource(f"hybrid://runs/{run_id}")).contents[0].text)
    runs = json.loads((await client.read_resource("hybrid://runs")).contents[0].text)
    refused_id = next(run["id"] for run in runs if run["task"].startswith("api.demo.create_label("))
    refused = json.loads((await client.read_resource(f"hybrid://runs/{refused_id}")).contents[0].text)
    return {
        "refused": refused,
        "tools_after": tools_after,
        "tools": tools,
        "found": found,
        "described": described,
        "read": read,
        "write": write,
        "progress": progress,
        "task": task,
        "workflow": workflow,
        "record": record,
        "runs": runs,
        "expected": expected,
    }


def check_read_only(seen: dict[str, object]) -> None:
    tools = seen["tools"]
    assert {
        "search_operations",
        "describe_operation",
        "call_operation",
        "run_task",
        "count_open_bugs",
    } <= set(tools)
    assert tools["search_operations"].annotations.read_only_hint is True
    workflow_tool = tools["count_open_bugs"]
    assert (
        workflow_tool.annotations.read_only_hint is True
        and workflow_tool.annotations.destructive_hint is False
    )
    assert set(workflow_tool.input_schema["properties"]) == {"owner", "project"}
    assert workflow_tool.input_schema["properties"]["owner"]["type"] == "string"
    assert any(
        line.startswith("list_issues(owner, project") for line in seen["found"].structured_content["result"]
    )
    assert (
        "POST /api/v1/projects/{owner}/{project}/labels  (changes data)" in seen["described"].content[0].text
    )
    assert not seen["read"].is_error and json.loads(seen["read"].content[0].text)["name"] == "tracker-core"
    assert seen[
        "write"
    ].is_error and "create_label was refused: it writes, and this session is read-only" in (
        seen["write"].content[0].text
    )
    task = seen["task"].structured_content
    assert (task["status"], task["answer"]) == ("finished", str(seen["expected"]))
    assert [done for done, _, _ in seen["progress"]] == [1, 2]
    learnt = seen["tools_after"] - set(tools)  # the run was induced into a workflow, verified, and offered
    assert len(learnt) == 1
    assert not seen["workflow"].is_error, seen["workflow"].content
    assert seen["workflow"].structured_content["answer"] == str(seen["expected"])
    calls = [
        call["target"]
        for step in seen["record"]["steps"]
        for call in step["calls"]
        if call["capability"] == "api"
    ]
    assert seen["record"]["source"] == "mcp:run_task" and calls and set(calls) == {"demo.list_issues"}
    refused = seen["refused"]
    assert (refused["status"], refused["source"]) == (
        "error",
        "mcp:call_operation",
    ) and "read-only" in refused["error"]
    assert [(c["target"], c["writes"], c["status"]) for c in refused["steps"][0]["calls"]] == [
        ("demo.create_label", True, "denied")
    ]
    assert any(
        run["task"].startswith("api.demo.get_project(") and run["status"] == "finished"
        for run in seen["runs"]
    )


@pytest.mark.slow
def test_stdio_read_only(served: Path, demo: DemoSite) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=serve_args(served, "--policy", "read-only"), env=dict(os.environ)
    )

    async def drive() -> dict[str, object]:
        async with Client(params) as client:
            return await exercise_read_only(client, open_bugs(demo))

    check_read_only(run_async(drive()))
    labels = httpx.get(
        f"{demo.api_url}/projects/alice/tracker-core/labels",
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    ).json()
    assert NEW_LABEL["name"] not in [label["name"] for label in labels]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def http_server(served: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *serve_args(served, "--policy", "allow", "--port", str(port), "--token", TOKEN)],
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, "hybrid mcp serve --port exited"
                assert time.monotonic() < deadline, "hybrid mcp serve --port did not listen within 60 s"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def authorised(url: str, token: str = TOKEN) -> Client:
    """A client sending the token the way the server's start tells clients to."""
    headers = {"Authorization": f"Bearer {token}"}
    return Client(streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)))


def test_http_requires_the_bearer_token(http_server: str) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.post(http_server, json=initialize, headers=headers)
        assert refused.status_code == 401 and "Authorization: Bearer" in refused.text

    async def list_with(token: str) -> set[str]:
        async with authorised(http_server, token) as client:
            return {tool.name for tool in (await client.list_tools()).tools}

    assert "call_operation" in run_async(list_with(TOKEN))


def test_http_allows_writes_when_the_policy_does(http_server: str, demo: DemoSite) -> None:
    async def drive():
        async with authorised(http_server) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            write = await client.call_tool(
                "call_operation",
                {
                    "site": "demo",
                    "operation": "create_label",
                    "arguments": {"owner": "alice", "project": "tracker-core", "body": NEW_LABEL},
                },
            )
            task = await client.call_tool("run_task", {"task": TASK.intent})
            return names, write, task

    names, write, task = run_async(drive())
    assert {"run_task", "call_operation", "count_open_bugs"} <= names
    assert not write.is_error and json.loads(write.content[0].text)["name"] == NEW_LABEL["name"]
    assert task.structured_content["answer"] == str(open_bugs(demo))


def test_confirm_asks_through_elicitation_and_refuses_clients_that_cannot_ask(
    settings: Settings, served: Path, demo: DemoSite
) -> None:
    WorkflowStore(settings.effective_database_url).add_workflow(
        Workflow(
            name="add_label",
            site="demo",
            status="verified",
            body=ADD_LABEL,
            fingerprint="a",
            writes=True,
            description="Add a green label to alice/tracker-core.",
            parameters=[{"name": "name", "type": "str"}],
            operations=["api.demo.create_label"],
        )
    )
    hybrid = HybridMcp(settings, sites=["demo"], policy="confirm")
    questions: list[str] = []

    async def answer(approve: bool):
        async def elicit(_context, params) -> ElicitResult:
            questions.append(params.message)
            return ElicitResult(action="accept", content={"approve": approve})

        return elicit

    async def create(label: str, elicit, mode: str = "legacy") -> object:
        async with Client(hybrid.build(), elicitation_callback=elicit, mode=mode) as client:
            return await client.call_tool(
                "call_operation",
                {
                    "site": "demo",
                    "operation": "create_label",
                    "arguments": {
                        "owner": "alice",
                        "project": "tracker-core",
                        "body": {**NEW_LABEL, "name": label},
                    },
                },
            )

    async def by_workflow(label: str, elicit, mode: str = "legacy") -> tuple[object, object]:
        async with Client(hybrid.build(), elicitation_callback=elicit, mode=mode) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            return tools["add_label"], await client.call_tool("add_label", {"name": label})

    async def drive():
        return (
            await create("approved", await answer(True)),
            await create("declined", await answer(False)),
            await create("unasked", None),
            await create("modern", await answer(True), mode="auto"),
            await by_workflow("by-workflow", await answer(True), mode="auto"),
            await by_workflow("workflow-unasked", None),
        )

    approved, declined, unasked, modern, (tool, by_workflow_result), (_, workflow_unasked) = run_async(
        drive()
    )
    assert tool.annotations.destructive_hint is True and tool.annotations.read_only_hint is False
    assert set(tool.input_schema["properties"]) == {"name"}
    assert by_workflow_result.structured_content["answer"] == "by-workflow"
    assert workflow_unasked.is_error and "does not support elicitation" in workflow_unasked.content[0].text
    assert not approved.is_error and json.loads(approved.content[0].text)["name"] == "approved"
    assert declined.is_error and "the user declined it" in declined.content[0].text
    assert unasked.is_error and "does not support elicitation" in unasked.content[0].text
    # On the newest protocol the question comes as an input-required round, answered and retried by the SDK.
    assert not modern.is_error and json.loads(modern.content[0].text)["name"] == "modern"
    assert len(questions) == 4 and "api.demo.create_label(" in questions[0]
    assert "the workflow add_label, which changes data" in questions[3]
    labels = httpx.get(
        f"{demo.api_url}/projects/alice/tracker-core/labels",
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    ).json()
    names = {label["name"] for label in labels}
    assert {"approved", "modern", "by-workflow"} <= names and not {
        "declined",
        "unasked",
        "workflow-unasked",
    } & names


def test_search_operations_ranks_first_what_runs_worded_alike_called(
    settings: Settings, demo: DemoSite
) -> None:
    """The MCP search tool reads the memory of learned operations, as the agent's prompt does."""
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    reworded = "Which person has the most open performance issues over every project I can see?"
    hybrid = HybridMcp(settings, sites=["demo"])
    try:
        before = run_async(hybrid.search_operations("demo", reworded, 3))
        task = "Who has the most open performance issues across all projects?"
        run = hybrid.store.start_run(task, sites=["demo"], model="m", policy="allow")
        hybrid.store.remember_operations(run.id, "demo", task, ["search_issues"])
        after = run_async(hybrid.search_operations("demo", reworded, 3))
    finally:
        hybrid.close()
    assert not before[0].startswith("search_issues(") and after[0].startswith("search_issues(")


def test_two_clients_running_tasks_at_once_each_get_their_own_answer(
    settings: Settings, demo: DemoSite, tmp_path: Path
) -> None:
    """Two MCP clients start runs at the same moment on one server: each run has its own kernel (both keep
    their result in the same variable between steps) and ends with its own task's answer."""
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    pause = f"import time\ntime.sleep({scaled(2)})"
    count = (
        "found = len(api.demo.list_issues(owner='alice', project='tracker-core', state='open', "
        "labels='bug', per_page=100))"
    )
    who, bugs = "Which user is the API signed in as?", TASK.intent
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "tasks": {
                    who: scripted_replies_for(
                        [f"found = api.demo.get_current_user()['username']\n{pause}", "finish(found)"]
                    ),
                    bugs: scripted_replies_for([f"{count}\n{pause}", "finish(found)"]),
                }
            }
        )
    )
    hybrid = HybridMcp(settings, sites=["demo"], policy="read-only", model=f"scripted:{script}")
    server = hybrid.build()
    results: dict[str, dict[str, object]] = {}

    async def client(task: str) -> None:
        async with Client(server) as connected:
            called = await connected.call_tool("run_task", {"task": task})
            assert not called.is_error, called.content
            results[task] = called.structured_content

    async def both() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(client, who)
            group.start_soon(client, bugs)

    try:
        run_async(both())
    finally:
        hybrid.close()
    assert (results[who]["status"], results[who]["answer"]) == ("finished", "alice")
    assert (results[bugs]["status"], results[bugs]["answer"]) == ("finished", str(open_bugs(demo)))
    store = WorkflowStore(settings.effective_database_url)
    first, second = (store.get_run(str(results[task]["run_id"])) for task in (who, bugs))
    # They ran at once: each started before the other ended.
    assert first.started_at < second.ended_at and second.started_at < first.ended_at


CLOSE_ISSUES = '''
def close_issues(numbers: list, owner: str, project: str):
    """For tasks like: Close issues <numbers> in <owner>/<project>."""
    for n in numbers:
        api.demo.update_issue(owner=owner, project=project, number=n, body={'state': 'closed'})
    return f"Closed issues {' and '.join(map(str, numbers))} in {owner}/{project}."
'''


def test_a_workflow_tool_refuses_values_it_cannot_take_with_the_reason(
    settings: Settings, demo: DemoSite
) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    store = WorkflowStore(settings.effective_database_url)
    store.add_workflow(
        Workflow(
            name="close_issues",
            site="demo",
            status="verified",
            body=CLOSE_ISSUES,
            fingerprint="c",
            writes=True,
            description="For tasks like: Close issues <numbers> in <owner>/<project>.",
            intent_template="Close issues {{numbers}} in {{owner}}/{{project}}.",
            parameters=[
                {"name": "numbers", "type": "list", "items": "int", "example": [17, 18]},
                {"name": "owner", "type": "str", "example": "alice"},
                {"name": "project", "type": "str", "example": "tracker-core"},
            ],
            operations=["api.demo.update_issue"],
            source_arguments={"numbers": [17, 18], "owner": "alice", "project": "tracker-core"},
        )
    )
    closes = store.get_workflow("close_issues")
    store.add_workflow(
        closes.model_copy(
            update={
                "id": None,
                "name": "close_all",
                "fingerprint": "a",
                "source_arguments": {"numbers": [], "owner": "alice", "project": "tracker-core"},
            }
        )
    )
    hybrid = HybridMcp(settings, sites=["demo"], policy="allow")
    offered: set[str] = set()

    async def drive() -> list[object]:
        async with Client(hybrid.build()) as client:
            offered.update(tool.name for tool in (await client.list_tools()).tools)
            assert "close_issues" in offered
            return [
                await client.call_tool("close_issues", arguments)
                for arguments in (
                    {"numbers": [], "owner": "alice", "project": "tracker-core"},
                    {"numbers": [40], "owner": "alice", "project": "tracker-core docs-site"},
                    {"numbers": [40, 41], "owner": "alice", "project": "tracker-core"},
                )
            ]

    empty, two_projects, fitting = run_async(drive())
    assert empty.is_error and "do not bind to its parameters" in empty.content[0].text
    assert two_projects.is_error and (
        "project takes one word (like 'tracker-core'), not 'tracker-core docs-site'"
        in two_projects.content[0].text
    )
    assert not fitting.is_error
    assert fitting.structured_content["answer"] == "Closed issues 40 and 41 in alice/tracker-core."
    # Nothing ran for the refused calls: one run, the fitting one's.
    assert [run.task for run in store.list_runs()] == [
        (
            "MCP call: close_issues(numbers: list, owner: str, project: str) with "
            "{'numbers': [40, 41], 'owner': 'alice', 'project': 'tracker-core'}"
        )
    ]
    assert "close_all" not in offered  # its own example does not fit it: no call could

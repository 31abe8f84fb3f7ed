"""The `hybrid` command line as a user meets it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import click
import httpx
import pytest
from click.testing import CliRunner

import apis
from apis import Site, SiteRegistry
from hybrid.agent.models import scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import load_settings
from hybrid.demo.registration import register_demo


def test_help_lists_every_command_group() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for group in ("run", "sites", "workflows", "runs", "demo", "bench", "config"):
        assert f"  {group} " in result.output


def test_config_shows_values_and_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_MAX_STEPS", "9")
    result = CliRunner().invoke(cli, ["config", "--json"])
    assert result.exit_code == 0
    settings = json.loads(result.output)["settings"]
    assert settings["max_steps"] == {"value": 9, "origin": "env HYBRID_MAX_STEPS"}


def test_config_shows_the_config_directory(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    shown = CliRunner().invoke(cli, ["config"], env={"COLUMNS": "300"})
    assert f"config directory: {tmp_path / 'hybrid-agent'} (a hybrid.toml there is read" in shown.output
    as_json = json.loads(CliRunner().invoke(cli, ["config", "--json"]).output)
    assert as_json["config_dir"] == str(tmp_path / "hybrid-agent")


ERROR_PATHS = {
    "configuration": (["config"], {"HYBRID_POLICY": "sometimes"}, "HYBRID_POLICY"),
    "database": (
        ["runs", "list"],
        {"HYBRID_DATABASE_URL": "oracle://nowhere/db"},
        "Cannot open the database",
    ),
    "unknown run": (["runs", "show", "nosuch"], {}, "No run 'nosuch'"),
    "unknown site": (["sites", "show", "nosuch"], {}, "No site named 'nosuch'"),
    "MCP server that cannot start": (
        ["sites", "add-mcp", "notes", "--command", "{dir}/nosuch"],
        {},
        "the MCP server notes",
    ),
    "unknown workflow": (["workflows", "show", "nosuch"], {}, "No workflow 'nosuch'"),
    "no model": (["bench", "demo"], {}, "No model configured"),
    "bad model name": (["run", "x", "--model", "nonsense"], {}, "is not provider:name"),
    "scripted replies as a JSON object": (
        ["run", "x", "--model", "scripted:{dir}/object.json"],
        {},
        "object.json: expected a JSON list of reply strings",
    ),
    "scripted replies not UTF-8": (
        ["run", "x", "--model", "scripted:{dir}/latin1.json"],
        {},
        "latin1.json: not UTF-8 text",
    ),
    "unknown demo user": (["demo", "token", "zed"], {}, "no demo user 'zed'"),
}


@pytest.mark.parametrize("path", ERROR_PATHS)
def test_every_command_reports_errors_the_same_way(
    path: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments, environment, problem = ERROR_PATHS[path]
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    (tmp_path / "object.json").write_text('{"replies": ["finish(1)"]}')
    (tmp_path / "latin1.json").write_bytes("[\"finish('café')\"]".encode("latin-1"))
    result = CliRunner().invoke(cli, [argument.format(dir=tmp_path) for argument in arguments])
    assert isinstance(result.exception, SystemExit) and result.exit_code in (1, 2), result.output
    error = result.stderr.rstrip().splitlines()[-1]
    assert error.startswith("Error: ") and problem in error, result.stderr
    assert "Traceback" not in result.output


def test_demo_token_rejects_unknown_users() -> None:
    result = CliRunner().invoke(cli, ["demo", "token", "zed"])
    assert result.exit_code == 2 and "no demo user 'zed'" in result.output
    assert CliRunner().invoke(cli, ["demo", "token", "bob"]).output.startswith("demo_")


def serve_demo_until_ctrl_c(check_while_serving: Callable[[str], None]) -> None:
    """Start `hybrid demo serve`, call `check_while_serving(url)` once it is registered, then stop it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "hybrid", "demo", "serve"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    try:
        deadline = time.monotonic() + 30
        url = None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if "Demo site running at" in line:
                url = line.split(" at ")[1].strip()
            if line.startswith("Registered as the site"):
                break
        assert url, "the demo site never said where it runs"
        check_while_serving(url)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert "Demo site stopped." in process.stdout.read()
    finally:
        process.kill()


@pytest.mark.slow
def test_demo_serve_starts_quickly_registers_demo_and_unregisters_it_on_ctrl_c() -> None:
    registry = SiteRegistry(load_settings().data_dir)

    def check(url: str) -> None:
        assert httpx.get(f"{url}/api/v1/openapi.json").status_code == 200
        assert registry.get("demo").base_url == url

    serve_demo_until_ctrl_c(check)
    assert [site.name for site in registry.list()] == []  # no `demo` left pointing at a stopped site


@pytest.mark.slow
def test_demo_serve_puts_back_the_demo_registration_it_found() -> None:
    registry = SiteRegistry(load_settings().data_dir)
    registry.add(Site("demo", "http://127.0.0.1:9/openapi.json", "http://127.0.0.1:9"))
    serve_demo_until_ctrl_c(lambda url: None)
    assert registry.get("demo").base_url == "http://127.0.0.1:9"


SUITE = {task.task_id: task for task in load_suite()}


@pytest.fixture
def demo_data_dir(tmp_path, monkeypatch: pytest.MonkeyPatch, demo):
    """A fresh data dir with the demo site registered, and no model configured."""
    for name in (
        "HYBRID_MODEL",
        "HYBRID_FAST_PATH",
        "HYBRID_INDUCE_WORKFLOWS",
        "HYBRID_CONFIG",
        "HYBRID_POLICY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    register_demo(apis.SiteRegistry(tmp_path / "data"), demo, "alice")
    return tmp_path / "data"


def scripted(directory, steps: list[str]) -> str:
    script = directory / "replies.json"
    script.write_text(json.dumps(scripted_replies_for(steps)))
    return f"scripted:{script}"


@pytest.mark.kernel
def test_run_ends_by_saying_whether_it_became_a_workflow(demo_data_dir) -> None:
    task = SUITE[3]  # Who is assigned to issue #17 in alice/tracker-core? ...
    result = CliRunner().invoke(
        cli, ["run", task.intent, "--json", "--model", scripted(demo_data_dir, task.reference_solution)]
    )
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["workflow"] == {
        "line": "saved as workflow who_assigned_issue v1 (verified)",
        "name": "who_assigned_issue",
        "version": 1,
        "status": "verified",
        "action": "created",
    }

    nothing = CliRunner().invoke(
        cli, ["run", "What is 2 + 2?", "--model", scripted(demo_data_dir, ["print(2 + 2)", "finish('4')"])]
    )
    assert nothing.exit_code == 0, nothing.output
    assert nothing.output.rstrip().splitlines()[-1] == (
        "not saved as a workflow: the run's effective code calls "
        "no api, browser or wf operation: nothing to reuse"
    )


@pytest.mark.kernel
def test_a_task_a_verified_workflow_matches_needs_no_model(demo_data_dir) -> None:
    task_a, task_b = SUITE[3], SUITE[4]  # the same template, other arguments
    learnt = CliRunner().invoke(
        cli, ["run", task_a.intent, "--model", scripted(demo_data_dir, task_a.reference_solution)]
    )
    assert learnt.exit_code == 0, learnt.output
    result = CliRunner().invoke(cli, ["run", task_b.intent])
    assert result.exit_code == 0, result.output
    assert (
        "fast path: the task matches workflow who_assigned_issue v1 (verified); running it with no model call"
        in result.output
    )
    assert result.output.rstrip().endswith(
        "done by workflow who_assigned_issue v1 on the fast path (no model call)"
    )


@pytest.mark.kernel
def test_a_task_done_by_a_workflow_does_not_import_the_agent(demo_data_dir) -> None:
    task_a, task_b = SUITE[3], SUITE[4]
    learnt = CliRunner().invoke(
        cli, ["run", task_a.intent, "--model", scripted(demo_data_dir, task_a.reference_solution)]
    )
    assert learnt.exit_code == 0, learnt.output
    # Nor the demo app (only its name is needed), the strict spec checker or jsonschema (specs come from
    # the cache), IPython (the kernel's spec is ipykernel's own, not looked up in the user's dirs), nor the
    # ORM (the run is recorded through workflows.lightstore).
    completed, imported = imported_by(
        ["run", task_b.intent, "--json"],
        (
            *AGENT_STACK,
            "fastapi",
            "hybrid.demo.server",
            "openapi_spec_validator",
            "jsonschema.",
            "IPython",
            "sqlalchemy",
            "sqlmodel",
        ),
    )
    assert json.loads(completed.stdout.splitlines()[0])["answer"] == "bob", (
        completed.stdout + completed.stderr
    )
    assert imported == []


@pytest.mark.kernel
def test_run_without_a_model_says_how_to_configure_one(demo_data_dir) -> None:
    result = CliRunner().invoke(cli, ["run", "do something"])
    assert result.exit_code == 1
    assert "No model configured, and no verified workflow matches this task" in result.output
    assert "HYBRID_MODEL" in result.output


def test_run_without_sites_points_to_sites_add(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    script = tmp_path / "replies.json"
    script.write_text('["finish(1)"]')
    result = CliRunner().invoke(cli, ["run", "do something", "--model", f"scripted:{script}"])
    assert result.exit_code == 2 and "hybrid sites add" in result.output


def test_run_with_a_missing_provider_package_is_one_line(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(cli, ["run", "x", "--model", "mistralai:mistral-large-latest"])
    assert result.exit_code == 2 and "pip install langchain-mistralai" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
@pytest.mark.kernel
@pytest.mark.browser
def test_demo_runs_a_task_end_to_end_and_judges_it(tmp_path) -> None:
    env = {**os.environ, "HYBRID_DATA_DIR": str(tmp_path), "COLUMNS": "120"}
    env.pop("HYBRID_MODEL", None)
    completed = subprocess.run(
        [sys.executable, "-m", "hybrid", "demo"],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "scripted model replays this task's reference solution" in completed.stdout
    assert "The evaluator accepts the outcome." in completed.stdout
    assert (
        "\nsaved as workflow transfer_then_create_label v1 (candidate: it changes the site"
        in completed.stdout
    )
    runs = subprocess.run(
        [sys.executable, "-m", "hybrid", "runs", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    assert json.loads(runs.stdout.splitlines()[0])["status"] == "finished"


def test_the_command_list_says_what_each_command_says_of_itself() -> None:
    from hybrid.cli import COMMANDS

    for name, (_, short_help) in COMMANDS.items():
        command = cli.get_command(click.Context(cli), name)
        assert command is not None and command.get_short_help_str(limit=1000) == short_help


def imported_by(
    arguments: list[str], prefixes: tuple[str, ...]
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Runs `hybrid ARGUMENTS` in a new process; its outcome and the modules it had imported that start
    with one of `prefixes` (printed on the last line of its stdout)."""
    probe = (
        f"import sys; from hybrid.cli import cli\ntry:\n    cli({arguments!r})\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    return completed, json.loads(completed.stdout.strip().splitlines()[-1].replace("'", '"'))


# What a model run needs and a task done by a stored workflow (or refused for its input) does not.
AGENT_STACK = ("langchain", "langgraph", "langsmith", "playwright", "hybrid.agent.graph")


def test_help_imports_no_command() -> None:
    _, imported = imported_by(["--help"], ("hybrid.commands", "hybrid.agent", "langchain"))
    assert imported == []


def test_listing_workflows_does_not_import_the_agent(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    completed, imported = imported_by(["workflows", "list"], AGENT_STACK)
    assert completed.returncode == 0, completed.stderr
    assert imported == []


def test_listing_sites_reads_the_registry_without_the_spec_machinery(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    SiteRegistry(tmp_path).add(
        Site(name="shop", base_url="https://shop.example", spec=None, web_url="https://shop.example")
    )
    completed, imported = imported_by(
        ["sites", "list"],
        ("httpx", "jsonschema", "openapi_spec_validator", "yaml", "apis.loader", "apis.client", "sqlalchemy"),
    )
    assert completed.returncode == 0, completed.stderr
    assert "shop" in completed.stdout
    assert imported == []


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--site", "nowhere"], "No site named 'nowhere' is registered"),
        (["--model", "gpt-4o"], "Model 'gpt-4o' is not provider:name"),
    ],
)
def test_run_refuses_wrong_input_before_importing_the_agent(
    tmp_path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], problem: str
) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HYBRID_MODEL", raising=False)
    SiteRegistry(tmp_path).add(Site("tracker", "http://127.0.0.1:9/openapi.json", "http://127.0.0.1:9"))
    completed, imported = imported_by(["run", "do something", *arguments], AGENT_STACK)
    assert problem in completed.stderr
    assert imported == []


def test_run_on_the_demo_site_when_it_is_not_served_points_to_demo_serve(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    script = tmp_path / "replies.json"
    script.write_text(json.dumps(scripted_replies_for(["finish('0')"])))
    result = CliRunner().invoke(
        cli, ["run", "How many open issues?", "--site", "demo", "--model", f"scripted:{script}"]
    )
    assert result.exit_code == 2
    assert "Start `hybrid demo serve` in another terminal" in result.output


JSON_ERRORS = {
    "bad site": (["run", "x", "--site", "nowhere", "--json"], {}, "No site named 'nowhere'"),
    "bad model name": (["run", "x", "--model", "gpt-4o", "--json"], {}, "is not provider:name"),
    "missing config": (["run", "x", "--json"], {"HYBRID_CONFIG": "{dir}/nosuch.toml"}, "does not exist"),
    "bad setting": (["config", "--json"], {"HYBRID_POLICY": "sometimes"}, "HYBRID_POLICY"),
    "unknown run": (["runs", "show", "nosuch", "--json"], {}, "No run 'nosuch'"),
    "bad option value": (["run", "x", "--max-steps", "0", "--json"], {}, "--max-steps"),
}


@pytest.mark.parametrize("path", JSON_ERRORS)
def test_json_is_printed_for_errors_before_the_work_starts(
    path: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arguments, environment, problem = JSON_ERRORS[path]
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HYBRID_MODEL", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value.format(dir=tmp_path))
    SiteRegistry(tmp_path).add(Site("tracker", "http://127.0.0.1:9/openapi.json", "http://127.0.0.1:9"))
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code in (1, 2), result.output
    error = json.loads(result.stdout)  # one JSON document on stdout, nothing else
    assert problem in error["error"] and error["exit_code"] == result.exit_code
    assert problem in result.stderr  # and the one line on stderr, as without --json


def test_json_after_a_double_dash_is_not_the_option() -> None:
    from hybrid.cli import asks_for_json

    assert asks_for_json(["run", "--json", "x"]) and not asks_for_json(["run", "--", "--json"])


def test_runs_show_json_is_the_one_run_document(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox import CallRecord
    from workflows.store import RunStore, StepRecord

    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    store = RunStore(load_settings().effective_database_url)
    run = store.start_run("How many?", sites=["demo"], model="scripted:x", policy="allow")
    call = CallRecord(
        "api", "demo.list_issues", [], {"owner": "alice"}, False, None, "ok", "[]", None, None, 0.1
    )
    store.add_step(run.id, StepRecord(index=0, code="print(1)", observation="1"), [call])
    shown = json.loads(CliRunner().invoke(cli, ["runs", "show", run.id[:6], "--json"]).stdout)
    assert shown == store.run_document(run.id)  # the MCP server's hybrid://runs/{id} gives the same
    assert shown["steps"][0]["calls"][0]["target"] == "demo.list_issues" and "run_id" not in shown["steps"][0]


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        (["--site", "nowhere"], "No site named 'nowhere' is registered"),
        (["--model", "gpt-4o"], "Model 'gpt-4o' is not provider:name"),
    ],
)
def test_mcp_serve_checks_its_input_before_starting_anything(
    tmp_path, monkeypatch: pytest.MonkeyPatch, arguments: list[str], problem: str
) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HYBRID_MODEL", raising=False)
    SiteRegistry(tmp_path).add(Site("tracker", "http://127.0.0.1:9/openapi.json", "http://127.0.0.1:9"))
    completed, imported = imported_by(["mcp", "serve", *arguments], (*AGENT_STACK, "hybrid.mcp.server"))
    assert problem in completed.stderr
    assert imported == []

"""`hybrid workflows` as a user meets it, against the demo site registered in a fresh data dir."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from apis import Site, SiteRegistry
from hybrid.cli import cli
from workflows.memory import WorkflowStore

pytestmark = pytest.mark.kernel


@pytest.fixture
def cli_store(tmp_path, monkeypatch, demo) -> WorkflowStore:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DEMO_TOKEN", demo.token_for("alice"))
    SiteRegistry(tmp_path / "data").add(
        Site(
            name="demo",
            spec=demo.openapi_url,
            base_url=demo.base_url,
            auth={"type": "bearer", "token_env": "DEMO_TOKEN"},
        )
    )
    return WorkflowStore(f"sqlite:///{tmp_path / 'data' / 'hybrid.db'}")


def invoke(*args: str):
    return CliRunner().invoke(cli, ["workflows", *args], catch_exceptions=False)


@pytest.fixture
def induced_run(cli_store: WorkflowStore, suite, open_session, record_run) -> str:
    """A recorded run of "Who is assigned to issue #17 in alice/tracker-core? ...", not yet induced."""
    with open_session() as session:
        return record_run(cli_store, session, suite[3].intent, suite[3].reference_solution)


def test_induce_list_show_run_verify_deprecate(cli_store: WorkflowStore, induced_run: str) -> None:
    induced = invoke("induce", induced_run[:6])
    assert induced.exit_code == 0 and induced.output.startswith(
        "created: who_assigned_issue v1 (program, candidate)"
    )
    listed = invoke("list", "--json")
    assert [w["name"] for w in json.loads(listed.output)] == ["who_assigned_issue"]
    shown = invoke("show", "who_assigned_issue")
    assert (
        "Who is assigned to issue #{{number}}" in shown.output and "def who_assigned_issue(" in shown.output
    )
    ran = invoke(
        "run",
        "who_assigned_issue",
        "--arg",
        "number=5",
        "--arg",
        "owner=bob",
        "--arg",
        "project=mobile-app",
        "--arg",
        "value=nobody",
    )
    assert ran.exit_code == 0 and ran.output.strip() == "bob"
    verified = invoke("verify", "who_assigned_issue")
    assert verified.exit_code == 0 and "passed" in verified.output and "now verified" in verified.output
    assert invoke("deprecate", "who_assigned_issue").exit_code == 0
    assert cli_store.get_workflow("who_assigned_issue").status == "deprecated"
    uses = cli_store.uses_of(cli_store.get_workflow("who_assigned_issue").id)
    assert [u.via for u in uses] == ["cli", "verification"]


def test_run_names_what_is_wrong(cli_store: WorkflowStore, induced_run: str) -> None:
    assert invoke("induce", induced_run).exit_code == 0
    missing = invoke("run", "who_assigned_issue", "--arg", "number=5")
    assert missing.exit_code == 1 and "missing --arg for owner, project, value" in missing.output
    wrong = invoke("run", "who_assigned_issue", "--arg", "number=five")
    assert wrong.exit_code == 1 and "'five' is not a int" in wrong.output
    unknown = invoke("show", "nothing_like_it")
    assert unknown.exit_code == 1 and "hybrid workflows list" in unknown.output
    again = invoke("induce", "zzzz")
    assert again.exit_code == 1 and "No run 'zzzz'" in again.output


def test_export_then_import_into_another_memory(
    cli_store: WorkflowStore, induced_run: str, tmp_path, monkeypatch
) -> None:
    invoke("induce", induced_run)
    invoke("verify", "who_assigned_issue")
    exported = tmp_path / "workflows.jsonl"
    assert invoke("export", "-o", str(exported)).exit_code == 0
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "other"))
    imported = invoke("import", str(exported))
    assert imported.exit_code == 0 and "Imported 1 workflow(s); skipped 0" in imported.output
    assert "skipped 1" in invoke("import", str(exported)).output
    other = WorkflowStore(f"sqlite:///{tmp_path / 'other' / 'hybrid.db'}")
    [copy] = other.list_workflows()
    original = cli_store.get_workflow("who_assigned_issue")
    assert (copy.body, copy.intent_template, copy.source_runs) == (
        original.body,
        original.intent_template,
        original.source_runs,
    )
    assert (copy.status, copy.verification, copy.success_count) == ("candidate", None, 0)
    exported.write_text('{"name": "x"}\n')
    rejected = invoke("import", str(exported))
    assert rejected.exit_code == 1 and "line 1: not an exported workflow" in rejected.output

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid.cli import cli
from hybrid.config import load_settings
from workflows.memory import WorkflowStore


@pytest.fixture
def run(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYBRID_CONFIG", str(tmp_path / "hybrid.toml"))
    (tmp_path / "hybrid.toml").write_text("")
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        return runner.invoke(cli, ["sites", *args], input=stdin, catch_exceptions=False)

    return invoke


def add_gitea(run, specs_dir: Path, auth: str):
    gitea = ("--spec", str(specs_dir / "gitea.json"), "--base-url", "http://127.0.0.1:3000/api/v1")
    return run("add", "gitea", *gitea, "--auth", auth)


def test_add_list_show_search_remove(run, specs_dir: Path) -> None:
    added = add_gitea(run, specs_dir, "bearer token_env=GITEA_TOKEN")
    assert added.exit_code == 0, added.output
    assert "Added gitea: Gitea API. with 346 operations" in added.output
    listed = run("list")
    assert "gitea" in listed.output and "$GITEA_TOKEN" in listed.output
    shown = run("show", "gitea")
    assert "Problems in the spec (0)" in shown.output
    assert "issue (64 operations)" in shown.output
    assert "issue_list_issues(owner, repo, state=?, " in shown.output
    found = run("search", "gitea", "add a comment to an issue", "-k", "3")
    assert found.output.splitlines()[0].startswith("issue_create_comment(")
    # What a successful run called for a task worded alike ranks first.
    store = WorkflowStore(load_settings().effective_database_url)
    task = "Say thanks on issue 7 of acme/app"
    run_id = store.start_run(task, sites=["gitea"], model="m", policy="allow").id
    store.remember_operations(run_id, "gitea", task, ["issue_post_issue_reaction"])
    thanked = run("search", "gitea", "say thanks on issue 9 of acme/web", "-k", "3")
    assert thanked.output.splitlines()[0].startswith("issue_post_issue_reaction(")
    assert run("remove", "gitea").exit_code == 0
    assert "No sites yet" in run("list").output


def test_show_lists_the_spec_problems(run, specs_dir: Path) -> None:
    run("add", "httpbin", "--spec", str(specs_dir / "httpbin.json"), "--base-url", "http://127.0.0.1:1")
    shown = run("show", "httpbin", "--no-operations")
    assert "Problems in the spec (78)" in shown.output
    assert "#/paths/~1anything/get: no operationId; named get_anything" in shown.output


def test_unusable_input_fails_with_a_message_and_registers_nothing(run, specs_dir: Path) -> None:
    bad_spec = run(
        "add", "readme", "--spec", str(specs_dir / "README.md"), "--base-url", "http://127.0.0.1:1"
    )
    assert (
        bad_spec.exit_code == 1
        and "the spec cannot be used" in bad_spec.output
        and "README.md: line" in bad_spec.output
    )
    literal_secret = run(
        "add",
        "pets",
        "--spec",
        str(specs_dir / "petstore.yaml"),
        "--base-url",
        "http://127.0.0.1:1",
        "--auth",
        "bearer token=abc",
    )
    assert literal_secret.exit_code == 1 and "secrets are never stored" in literal_secret.output
    assert "No sites yet" in run("list").output
    missing = run("show", "nope")
    assert missing.exit_code == 1 and "No site named 'nope'" in missing.output


def test_secret_is_stored_from_stdin(run, tmp_path: Path) -> None:
    stored = run("secret", "demo-token", stdin="tok-5-demo-token\n")
    assert stored.exit_code == 0 and "tok-5-demo-token" not in stored.output
    assert (tmp_path / "data" / "secrets" / "demo-token").read_text() == "tok-5-demo-token"


def test_show_check_lists_strict_problems_grouped_with_their_pointers(run, specs_dir: Path) -> None:
    added = run(
        "add",
        "slack",
        "--spec",
        str(specs_dir / "slack-web-swagger2.json"),
        "--base-url",
        "http://127.0.0.1:9",
    )
    assert "--check" in added.output
    assert "Strict validation" not in run("show", "slack", "--no-operations").output
    shown = run("show", "slack", "--no-operations", "--check").output
    assert "Strict validation (18 problem(s))" in shown
    lines = shown.splitlines()
    heading = lines.index("  the value is not of type 'object', 'boolean'")
    assert lines[heading + 1] == "    at #/definitions/objs_channel/properties/latest/items"
    assert shown.count("the value is not of type 'object', 'boolean'") == 1


def test_refresh_asks_whether_a_url_spec_changed(run, echo_server) -> None:
    paths = {"/a": {"get": {"operationId": "getA", "responses": {"200": {"description": "ok"}}}}}
    document = {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths}
    echo_server.documents["cli.json"] = json.dumps(document)
    run("add", "mine", "--spec", f"{echo_server.url}/documents/cli.json", "--base-url", "http://127.0.0.1:9")
    assert run("refresh", "mine").output.strip() == "mine: the spec is unchanged (1 operations)."
    paths["/b"] = {"get": {"operationId": "getB", "responses": {"200": {"description": "ok"}}}}
    echo_server.documents["cli.json"] = json.dumps(document)
    assert "Operations (1)" in run("show", "mine").output, "the kept copy is shown until a refresh"
    assert "the spec changed: 1 -> 2 operations" in run("refresh", "mine").output
    assert "Operations (2)" in run("show", "mine").output


def test_add_takes_the_base_url_from_the_spec_unless_given(run, specs_dir: Path, tmp_path: Path) -> None:
    added = run("add", "pets", "--spec", str(specs_dir / "petstore-expanded.yaml"))
    assert added.exit_code == 0, added.output
    assert "at https://petstore.swagger.io/v2 " in added.output
    relative = tmp_path / "relative-servers.json"
    relative.write_text(
        json.dumps(
            {
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "servers": [{"url": "/api"}],
                "paths": {
                    "/ping": {"get": {"operationId": "ping", "responses": {"200": {"description": "ok"}}}}
                },
            }
        )
    )
    refused = run("add", "relative", "--spec", str(relative))
    assert refused.exit_code == 1 and "--base-url" in refused.output
    assert (
        run("add", "relative", "--spec", str(relative), "--base-url", "http://127.0.0.1:8000/api").exit_code
        == 0
    )


def test_edit_marks_operations_as_reads_or_writes(run, specs_dir: Path) -> None:
    spec = str(specs_dir / "gitea.json")
    assert run("add", "gitea", "--spec", spec, "--base-url", "http://127.0.0.1:3000/api/v1").exit_code == 0
    edited = run(
        "edit", "gitea", "--read", "render_markdown", "--write", "repo_get", "--read", "render_markup"
    )
    assert edited.exit_code == 0, edited.output
    assert edited.output.splitlines() == [
        "gitea.render_markdown: reads",
        "gitea.render_markup: reads",
        "gitea.repo_get: writes",
    ]
    assert (
        "marked:   render_markdown reads, render_markup reads, repo_get writes" in run("show", "gitea").output
    )
    wrong = run("edit", "gitea", "--read", "render_markdwn")
    assert wrong.exit_code != 0 and "Did you mean: render_markdown" in wrong.output
    both = run("edit", "gitea", "--read", "repo_get", "--write", "repo_get")
    assert both.exit_code != 0 and "marked both --read and --write: repo_get" in both.output


def test_a_secret_too_short_to_redact_is_refused_in_one_line(run, specs_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("SHORT_TOKEN", "api")
    added = add_gitea(run, specs_dir, "bearer token_env=SHORT_TOKEN")
    assert added.exit_code == 1
    assert added.output == (
        "Error: The site's token ($SHORT_TOKEN) is 3 characters long; secrets need at least 8 so that hybrid "
        "can find them in outputs to redact them without changing ordinary words.\n"
    )
    assert "No sites yet" in run("list").output
    stored = run("secret", "gitea-token", stdin="abc\n")
    assert stored.exit_code == 1 and "The secret gitea-token is 3 characters long" in stored.output
    assert run("secret", "gitea-token", stdin="a-real-token-value\n").exit_code == 0


def test_show_check_takes_swagger2s_file_type_where_it_is_legal(run, specs_dir: Path) -> None:
    # Jupyter Server's own Swagger 2.0 spec, as published: `GET /api/spec.yaml` answers `schema: {type:
    # file}`, legal in Swagger 2.0 (a response's schema, like a formData parameter), once reported as a
    # problem at `#/type`.
    spec = specs_dir.parent / "webapps" / "jupyter_server_api.yaml"
    added = run("add", "jupyter", "--spec", str(spec), "--base-url", "http://127.0.0.1:9")
    assert added.exit_code == 0, added.output
    shown = run("show", "jupyter", "--check")
    assert shown.exit_code == 0, shown.output
    assert "Strict validation (0 problem(s))" in shown.output or "Strict validation" not in shown.output
    assert "#/type" not in shown.output and "'file' is not one of" not in shown.output


def test_file_type_stays_a_problem_where_swagger2_does_not_allow_it() -> None:
    from apis.loader import strict_problems

    upload = {"name": "f", "in": "formData", "type": "file", "required": True}
    document = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "consumes": ["multipart/form-data"],
        "paths": {
            "/up": {"post": {"parameters": [upload], "responses": {"200": {"description": "ok"}}}},
        },
    }
    assert strict_problems(document, "2.0") == []
    document["definitions"] = {"Thing": {"type": "object", "properties": {"f": {"type": "file"}}}}
    assert strict_problems(document, "2.0") != []

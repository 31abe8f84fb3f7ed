from __future__ import annotations

from pathlib import Path

import pytest

from apis import group_index, load_spec, operation_help, operation_lines, render_api_section
from sandbox.text import estimate_tokens


@pytest.fixture(scope="module")
def gitea(specs_dir: Path, tmp_path_factory):
    return load_spec(specs_dir / "gitea.json", tmp_path_factory.mktemp("cache"))


def test_group_index_counts_operations_per_tag(gitea) -> None:
    index = group_index(gitea)
    assert "issue (64 operations)" in index.splitlines()
    assert "repository (138 operations)" in index.splitlines()


def test_groups_fall_back_to_the_first_path_segment(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "link-example.yaml", cache_dir)
    assert {group: len(ops) for group, ops in spec.groups().items()} == {"users": 1, "repositories": 5}


def test_operation_lines_are_shaped_like_calls(gitea) -> None:
    [line] = operation_lines(gitea, [gitea.operation("issue_list_issues")])
    assert line.startswith("issue_list_issues(owner, repo, state=?, ")
    assert " GET /repos/{owner}/{repo}/issues - List a repository's issues" in line
    assert len(operation_lines(gitea)) == 346


def test_operation_help_explains_arguments_body_responses_and_auth(gitea) -> None:
    text = operation_help(gitea, "issue_create_issue")
    assert text.startswith("issue_create_issue(owner, repo, body=None)")
    assert "POST /repos/{owner}/{repo}/issues  (changes data)" in text
    assert "owner: string, required, in path - owner of the repo" in text
    assert "title: string" in text and "labels?: [integer(int64)]" in text
    assert "201 - Issue" in text
    assert "Auth: " in text and "api key in query 'access_token'" in text


def test_help_renders_for_every_operation_of_every_spec(specs_dir: Path, cache_dir: Path) -> None:
    for path in sorted(specs_dir.glob("*.[jy]*")):
        spec = load_spec(path, cache_dir)
        for operation in spec.operations:
            assert operation_help(spec, operation.name).startswith(operation.name + "(")


def test_api_section_stays_within_budget_and_leads_with_the_task(gitea) -> None:
    section = render_api_section(gitea, "add a comment to an issue", token_budget=3000, site="gitea")
    assert estimate_tokens(section) <= 3000
    assert section.startswith("api.gitea: Gitea API (346 operations)")
    assert "Groups: " in section and "issue (64)" in section
    lines = section.splitlines()
    first = lines.index("Operations for this task:") + 1
    assert lines[first].startswith("issue_create_comment(")
    assert lines[-1].endswith("api.gitea.search('words') lists others.")


def test_small_apis_are_shown_whole(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "petstore.yaml", cache_dir)
    section = render_api_section(spec, "anything", token_budget=3000, site="pets")
    assert all(line in section for line in operation_lines(spec))
    assert "Groups:" not in section


def test_help_shows_a_body_s_named_filter_schemas_deep_enough_to_write_a_filter(
    write_spec, cache_dir
) -> None:
    def ref(name: str) -> dict:
        return {"$ref": f"#/components/schemas/{name}"}

    states = {"type": "string", "enum": ["SCHEDULED", "RUNNING", "FAILED"]}
    schemas = {
        "Body_read_flow_runs_flow_runs_filter_post": {
            "type": "object",
            "properties": {"flow_runs": ref("FlowRunFilter"), "limit": {"type": "integer"}},
        },
        "FlowRunFilter": {
            "type": "object",
            "properties": {"state": ref("FlowRunFilterState"), "name": ref("FlowRunFilterName")},
        },
        "FlowRunFilterState": {"type": "object", "properties": {"type": ref("FlowRunFilterStateType")}},
        "FlowRunFilterStateType": {
            "type": "object",
            "properties": {"any_": {"type": "array", "items": states}},
        },
        "FlowRunFilterName": {
            "type": "object",
            "properties": {"like_": {"type": "string"}, "parent": ref("FlowRunFilter")},
        },
    }
    body = {"content": {"application/json": {"schema": ref("Body_read_flow_runs_flow_runs_filter_post")}}}
    operation = {
        "operationId": "read_flow_runs",
        "requestBody": body,
        "responses": {"200": {"description": "ok"}},
    }
    document = {
        "openapi": "3.0.3",
        "info": {"title": "T", "version": "1"},
        "paths": {"/flow_runs/filter": {"post": operation}},
        "components": {"schemas": schemas},
    }
    text = operation_help(load_spec(write_spec(document), cache_dir), "read_flow_runs")
    assert '{state?: {type?: {any_?: ["SCHEDULED"|"RUNNING"|"FAILED"]}}' in text
    assert "name?: {like_?: string, parent?: FlowRunFilter}" in text  # a filter inside itself is named once

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

"""A browser's requests read back as the operations of a site's API they call (`operations_requested`)."""

from __future__ import annotations

from pathlib import Path

import apis


def test_requests_are_read_back_as_the_operations_they_call(specs_dir: Path, cache_dir: Path) -> None:
    spec = apis.load_spec(specs_dir / "gitea.json", cache_dir)
    requests = [
        ("GET", "https://git.example/api/v1/repos/search?q=lamp"),  # not /repos/{owner}/{repo}
        ("GET", "https://git.example/api/v1/repos/acme/app/issues?state=open#top"),
        ("GET", "https://git.example/assets/app.js"),
        ("GET", "https://elsewhere.example/api/v1/user"),
        ("PATCH", "https://git.example/api/v1/repos/acme/app/issues/7/"),
        ("GET", "https://git.example/api/v1/repos/search"),
    ]
    assert apis.operations_requested(spec, "https://git.example/api/v1/", requests) == [
        "repo_search",
        "issue_list_issues",
        "issue_edit_issue",
    ]

from __future__ import annotations

from pathlib import Path

import pytest

from apis import load_spec, search

# (spec, task, an operation that must be among the top 3)
QUERIES = [
    ("gitea.json", "add a comment to an issue", "issue_create_comment"),
    ("gitea.json", "list the members of an organization", "org_list_members"),
    ("gitea.json", "delete a branch", "repo_delete_branch"),
    ("gitea.json", "list open pull requests of a repository", "repo_list_pull_requests"),
    ("slack-web-swagger2.json", "post a message to a channel", "chat_post_message"),
    ("spotify.yaml", "add tracks to a playlist", "add_tracks_to_playlist"),
    ("petstore.yaml", "show the pet with this id", "show_pet_by_id"),
    ("tmdb.json", "search for a movie by title", "get_search_movie"),
]


@pytest.mark.parametrize(("spec_file", "task", "expected"), QUERIES)
def test_hand_written_tasks_find_their_operation(specs_dir: Path, cache_dir: Path, spec_file: str, task: str,
                                                 expected: str) -> None:
    spec = load_spec(specs_dir / spec_file, cache_dir)
    assert expected in [op.name for op in search(spec, task, k=3)]


def test_search_returns_at_most_k_matching_operations(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "gitea.json", cache_dir)
    assert len(search(spec, "issue", k=5)) == 5
    assert search(spec, "zzzqqq", k=5) == []

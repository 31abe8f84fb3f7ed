from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from apis import load_spec, render_api_section, search

from .search_eval import evaluate, tasks

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
    # The asked action against the method: closing is an edit (PATCH), not a label or milestone listing.
    ("gitea.json", "close an issue", "issue_edit_issue"),
    # Admin families weigh less unless asked for.
    ("slack-web-swagger2.json", "list the users", "users_list"),
    # "I" is the authenticated user.
    ("gitea.json", "who am I", "user_get_current"),
    # A logo is a company's (or network's) image; to recommend is to ask for recommendations.
    ("tmdb.json", "What is the logo of Warner Bros?", "get_company_company_id_images"),
    ("tmdb.json", "recommend me movies like Heat", "get_movie_movie_id_recommendations"),
]


@pytest.mark.parametrize(("spec_file", "task", "expected"), QUERIES)
def test_hand_written_tasks_find_their_operation(
    specs_dir: Path, cache_dir: Path, spec_file: str, task: str, expected: str
) -> None:
    spec = load_spec(specs_dir / spec_file, cache_dir)
    assert expected in [op.name for op in search(spec, task, k=3)]


def test_search_returns_at_most_k_matching_operations(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "gitea.json", cache_dir)
    assert len(search(spec, "issue", k=5)) == 5
    assert search(spec, "the, and of it", k=5) == []
    # A word the spec does not use may be a name ("torvalds"): only what searches can find it.
    found = search(spec, "zzzqqq", k=5)
    assert found and all("search" in op.name for op in found)


def test_the_evaluation_set_is_large_and_names_real_operations(specs_dir: Path, cache_dir: Path) -> None:
    entries = tasks()
    assert len(entries) >= 150 and len({task.spec_file for task in entries}) >= 5
    for spec_file in {task.spec_file for task in entries}:
        names = {op.name for op in load_spec(specs_dir / spec_file, cache_dir).operations}
        unknown = [
            name
            for task in entries
            if task.spec_file == spec_file
            for name in task.needs
            if name not in names
        ]
        assert not unknown, f"{spec_file} has no operations {unknown}"


def test_needed_operations_reach_the_top_five_and_the_prompt_section(cache_dir: Path) -> None:
    results = evaluate(cache_dir).values()
    count = sum(s.tasks for s in results)
    assert sum(s.at_5 for s in results) / count >= 0.95
    assert sum(s.in_section for s in results) / count >= 0.97


class Past:
    """A task a successful run did, with the operations it called (as the memory gives them)."""

    def __init__(self, task: str, operations: list[str]) -> None:
        self.task, self.operations = task, operations


def test_what_past_tasks_worded_alike_called_ranks_first(specs_dir: Path, cache_dir: Path) -> None:
    spec = load_spec(specs_dir / "gitea.json", cache_dir)
    request = "which of my repos have I starred lately"
    plain = [op.name for op in search(spec, request, k=5)]
    learned = [
        Past("Show the repositories I have starred", ["user_current_list_starred"]),
        Past("Delete the branch old-ui in acme/app", ["repo_delete_branch"]),
    ]
    ranked = [op.name for op in search(spec, request, k=5, learned=learned)]
    assert plain[0] != "user_current_list_starred" and ranked[0] == "user_current_list_starred"
    assert "repo_delete_branch" not in ranked  # an unlike task lends its operations nothing
    # A request like none of them ranks as it did; and the API section follows the learned ranking.
    assert search(spec, "add a comment to an issue", k=5, learned=learned) == search(
        spec, "add a comment to an issue", k=5
    )
    section = render_api_section(spec, request, 600, site="gitea", learned=learned)
    assert section.split("Operations for this task:\n", 1)[1].startswith("user_current_list_starred(")


def test_chains_rank_what_finds_the_thing_an_operation_takes_by_id(specs_dir: Path, cache_dir: Path) -> None:
    """An operation that takes a thing's id ranks, just below it, what finds that thing: the search for its
    kind when the request names it by title, the user's own collection when the request says "my", and the
    current user (`GET /me`) for a user's id."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "give me a poster of the second season of Big Bang Theory", 5)]
    assert ranked[0] == "get_tv_tv_id_season_season_number_images" and "get_search_tv" in ranked
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "Remove the first song from my playlist 'My Rock'", 3)]
    assert ranked[0] == "remove_items_playlist" and "get_a_list_of_current_users_playlists" in ranked
    restbench = specs_dir.parent / "benchmarks" / "restbench" / "specs" / "spotify_oas.json"
    ranked = [
        op.name
        for op in search(load_spec(restbench, cache_dir), "Create a new playlist and name it Quiet", 5)
    ]
    assert (
        ranked[0] == "create_playlist" and "get_current_users_profile" in ranked
    )  # POST /users/{user_id}/...


def test_a_channel_or_person_named_as_chat_users_write_them_is_listed_first(
    specs_dir: Path, cache_dir: Path
) -> None:
    """Slack takes a channel's or a user's id as a parameter, not in the path: "#design-crit" and a person's
    name rank, just below the operation, the lists that find them; an email address ranks the look-up by
    email, which a plain name cannot use."""
    slack = load_spec(specs_dir / "slack-web-swagger2.json", cache_dir)
    ranked = [op.name for op in search(slack, "drop the standup notes into #team-alpha", 5)]
    assert ranked[0] == "chat_post_message" and "conversations_list" in ranked
    ranked = [op.name for op in search(slack, "add @nadia.r to #design-crit", 5)]
    assert ranked[0] == "conversations_invite" and {"conversations_list", "users_list"} <= set(ranked)
    ranked = [op.name for op in search(slack, "let Olu Adeyemi know the offsite moved, dm him", 5)]
    assert "users_lookup_by_email" not in ranked
    ranked = [op.name for op in search(slack, "what's bo.chen@initech.io's display name", 5)]
    assert ranked[0] == "users_lookup_by_email"
    ranked = [op.name for op in search(slack, "dm @maria about the deploy", 5)]  # opens a conversation
    assert ranked[0] == "chat_post_message" and {"users_list", "conversations_open"} <= set(ranked)


def test_a_kind_named_only_as_a_value_is_not_what_is_asked_about(specs_dir: Path, cache_dir: Path) -> None:
    """ "@lena" names a user to assign, not a request about users."""
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    ranked = [op.name for op in search(gitea, "assign issue 5 in acme/app to @lena", 5)]
    assert all(name.startswith("issue_") and "subscription" not in name for name in ranked)


def test_one_thing_a_list_finds_is_then_read_by_its_id(specs_dir: Path, cache_dir: Path) -> None:
    """A list or search that finds one thing the request asks about ("the most popular TV show") ranks the
    read of that thing by id just below it; a request for the things themselves (plural) does not."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "Which network first aired the most popular TV show?", 5)]
    assert {"get_tv_popular", "get_tv_tv_id"} <= set(ranked)
    ranked = [
        op.name
        for op in search(tmdb, "What is the runtime of the movie now playing with the best rating?", 5)
    ]
    assert ranked[:2] == ["get_movie_now_playing", "get_movie_movie_id"]
    ranked = [op.name for op in search(tmdb, "List the popular TV shows", 5)]
    assert ranked[0] == "get_tv_popular" and "get_tv_tv_id" not in ranked


def test_a_named_things_own_are_read_under_its_id_not_the_sites(specs_dir: Path, cache_dir: Path) -> None:
    """ "Tom Hanks's most recent movie" is his, found through the search for him; "the latest movie" is the
    site's."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "What was Tom Hanks's most recent movie?", 5)]
    assert set(ranked[:2]) == {"get_person_person_id_movie_credits", "get_search_person"}
    assert "get_movie_latest" not in ranked
    assert search(tmdb, "What is the latest movie?", 1)[0].name == "get_movie_latest"


def test_what_nothing_finds_by_itself_is_found_in_a_response_that_lists_it(
    specs_dir: Path, cache_dir: Path
) -> None:
    """TMDB has no search for networks: a network is found in the details of the show named (its response
    lists `networks`), and the show by the search for shows."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "Show me the logo of the network behind Breaking Bad", 5)]
    assert ranked[0] == "get_network_network_id_images"
    assert {"get_tv_tv_id", "get_search_tv"} <= set(ranked)


def test_the_thing_playing_now_is_then_read_by_its_id(specs_dir: Path, cache_dir: Path) -> None:
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "Who sings the song playing right now?", 5)]
    assert ranked[:2] == ["get_the_users_currently_playing_track", "get_track"]


def test_a_name_typed_in_lower_case_is_looked_up(specs_dir: Path, cache_dir: Path) -> None:
    """Two words in a row the spec does not use name something ("keanu reeves"): with no other word the
    spec knows, the searches are what can find it (there was no result at all)."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "where was keanu reeves born", 5)]
    assert "get_search_person" in ranked
    ranked = [op.name for op in search(tmdb, "photos of florence pugh", 5)]
    assert ranked[0] == "get_person_person_id_images" and "get_search_person" in ranked


def test_pronouns_and_a_spec_word_in_the_possessive_are_not_titles(specs_dir: Path, cache_dir: Path) -> None:
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    assert search(spotify, "Play her newest album", 1)[0].name == "start_a_users_playback"
    ranked = [op.name for op in search(spotify, "Add Taylor Swift's newest album to my library", 2)]
    assert "save_library_items" in ranked  # the asked action, though the album is hers
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    assert search(gitea, "List the Repository's branches", 1)[0].name == "repo_list_branches"


def test_a_document_that_cannot_be_read_leaves_search_working(specs_dir: Path, cache_dir: Path) -> None:
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)

    def unreadable() -> dict[str, object]:
        raise RecursionError("a document nested too deep")

    cached = dataclasses.replace(tmdb, load_document=unreadable)  # as a spec from the cache, document unread
    ranked = [op.name for op in search(cached, "Show me the logo of the network behind Breaking Bad", 5)]
    assert ranked[0] == "get_network_network_id_images"


def test_making_a_thing_of_mine_something_changes_it(specs_dir: Path, cache_dir: Path) -> None:
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "Make my first playlist private", 5)]
    assert "create_playlist" not in ranked and ranked[0] == "change_playlist_details"
    assert search(spotify, "Make me a playlist of quiet songs", 1)[0].name == "create_playlist"


def test_a_word_joining_two_of_the_specs_words_is_read_as_both(specs_dir: Path, cache_dir: Path) -> None:
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "whats the tracklist on Rumours", 5)]
    assert ranked[0] == "search_" and "get_an_albums_tracks" in ranked


def test_a_new_thing_keeps_the_word_before_it(specs_dir: Path, cache_dir: Path) -> None:
    """ "tracks a new playlist" once read as "trackscreate playlist": the tracks were lost."""
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "Make my top tracks a new playlist", 2)]
    assert ranked == ["create_playlist", "get_users_top_tracks"]


# Casual words for what specs name plainly: (spec, request, the operation that must rank first).
CASUAL = [
    ("spotify.yaml", "turn it down to 30%", "set_volume_for_users_playback"),
    ("spotify.yaml", "take despacito off my Summer Hits playlist", "remove_items_playlist"),
    ("spotify.yaml", "what was i playing last night?", "get_recently_played"),
    ("spotify.yaml", "artists that sound like phoebe bridgers?", "get_an_artists_related_artists"),
    ("tmdb.json", "anything good in cinemas at the moment?", "get_movie_now_playing"),
    ("tmdb.json", "whats on tv tonight", "get_tv_airing_today"),
    ("slack-web-swagger2.json", "Thumbs-up the last message in #random", "reactions_add"),
    ("discourse-3.1.json", "Ban the spammer john_doe for a week", "suspend_user"),
    ("discourse-3.1.json", "What's new on the forum?", "list_latest_topics"),
]


@pytest.mark.parametrize(("spec_file", "request_text", "expected"), CASUAL)
def test_casual_words_find_what_the_spec_names_plainly(
    specs_dir: Path, cache_dir: Path, spec_file: str, request_text: str, expected: str
) -> None:
    spec = load_spec(specs_dir / spec_file, cache_dir)
    assert search(spec, request_text, 1)[0].name == expected


def test_an_earlier_date_is_not_something_played_recently(specs_dir: Path, cache_dir: Path) -> None:
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    ranked = [op.name for op in search(spotify, "albums by Adele released no earlier than 2015", 5)]
    assert "get_recently_played" not in ranked


def test_casual_words_for_writes_are_read_only_where_they_ask_for_one(
    specs_dir: Path, cache_dir: Path
) -> None:
    """ "Say", "like", "turn down" ask for a write only as a command about the thing a site changes."""
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    for request_text in ("find me songs like this one", "I love this song, who sings it?"):
        assert all(op.method == "GET" for op in search(spotify, request_text, 3)), request_text
    assert search(spotify, "like this song", 1)[0].name == "save_library_items"
    assert "set_volume_for_users_playback" not in [
        op.name for op in search(spotify, "turn down the invitation")
    ]
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    assert all(op.method == "GET" for op in search(gitea, "what does the README of acme/webapp say?", 5))


def test_a_file_name_asks_for_a_files_contents(specs_dir: Path, cache_dir: Path) -> None:
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    assert search(gitea, "open up docs/setup.md from acme/site", 1)[0].name == "repo_get_contents"
    slack = load_spec(specs_dir / "slack-web-swagger2.json", cache_dir)
    ranked = [op.name for op in search(slack, "make a public link to budget.xlsx", 5)]
    assert ranked[0] == "files_shared_public_url" and {"files_list", "files_remote_list"} & set(ranked)


def test_a_request_of_words_the_spec_does_not_use_gets_its_searches(specs_dir: Path, cache_dir: Path) -> None:
    """ "how long is dune": no word is TMDB's, so the request is about something it names; it got
    no result at all."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    assert "get_search_movie" in [op.name for op in search(tmdb, "how long is dune", 5)]


def test_users_words_for_review_ci_and_seeking(specs_dir: Path, cache_dir: Path) -> None:
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    assert search(gitea, "lgtm PR 12 in acme/api", 1)[0].name == "repo_create_pull_review"
    ranked = [op.name for op in search(gitea, "is the build green on main for acme/api", 3)]
    assert "repo_get_combined_status_by_ref" in ranked
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    assert search(spotify, "rewind to 0:45", 1)[0].name == "seek_to_position_in_currently_playing_track"


def test_a_last_word_after_of_by_or_a_command_is_a_name(specs_dir: Path, cache_dir: Path) -> None:
    """One word the spec does not use is a name where a name goes: last, after "by", "of"... or after a
    one-word command ("follow beyonce"); elsewhere it is more often a word of the request ("later")."""
    tmdb = load_spec(specs_dir / "tmdb.json", cache_dir)
    ranked = [op.name for op in search(tmdb, "what else was directed by villeneuve", 5)]
    assert "get_search_person" in ranked
    spotify = load_spec(specs_dir / "spotify.yaml", cache_dir)
    assert "search_" in [op.name for op in search(spotify, "follow beyonce", 5)]
    assert "search_" not in [op.name for op in search(spotify, "play my liked songs later", 5)]


def test_a_body_schema_that_is_not_an_object_leaves_search_working(write_spec, cache_dir: Path) -> None:
    """`true` is a whole schema in OpenAPI 3.1; reading a body's parameter names must not assume a mapping."""
    document = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/notes": {
                "post": {
                    "operationId": "create_note",
                    "requestBody": {"content": {"application/json": {"schema": True}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }
    spec = load_spec(write_spec(document), cache_dir)
    assert [op.name for op in search(spec, "make a note", 5)] == ["create_note"]


def test_named_forms_keep_what_they_say_and_no_more(specs_dir: Path, cache_dir: Path) -> None:
    """A form whose kind the spec does not use is read as words ("image.png" on httpbin); "Node.js" is not a
    file; a kind the request also says in the plural keeps its weight; a sentence still ends after a named
    form ("Then" is not a title); words an idiom adds are not names; an idiom keeps the user's word where the
    spec uses it ("approve app 123"); a search's own filters ask for nothing to be found first."""
    httpbin = load_spec(specs_dir / "httpbin.json", cache_dir)
    assert "get_image_png" in [op.name for op in search(httpbin, "get image.png", 5)]
    assert search(httpbin, "get #anything", 1)[0].name == "get_anything_anything"
    gitea = load_spec(specs_dir / "gitea.json", cache_dir)
    ranked = [op.name for op in search(gitea, "list repos that use Node.js", 5)]
    assert "repo_get_contents" not in ranked
    assert "user_list_teams" not in [op.name for op in search(gitea, "search repos for Kubernetes", 5)]
    slack = load_spec(specs_dir / "slack-web-swagger2.json", cache_dir)
    assert search(slack, "list channels like #general", 1)[0].name == "conversations_list"
    assert "users_list" not in [op.name for op in search(slack, "post to #general. Then archive it", 5)]
    assert "users_list" not in [op.name for op in search(slack, "which channels am I subscribed to", 5)]
    assert search(slack, "approve app 123", 1)[0].name == "admin_apps_approve"
    ranked = [op.name for op in search(slack, "post the file in the channel", 5)]
    assert "chat_post_message" not in ranked and "files_upload" in ranked


def test_someone_named_by_a_handle_is_read_by_name_first(specs_dir: Path, cache_dir: Path) -> None:
    """Discourse suspends a user by id (`/admin/users/{id}/suspend.json`); a handle ("jane_smith", "user
    badactor") is turned into one by the plain read by name (`GET /u/{username}.json`)."""
    discourse = load_spec(specs_dir / "discourse-3.1.json", cache_dir)
    ranked = [op.name for op in search(discourse, "suspend jane_smith for spamming", 5)]
    assert ranked[:2] == ["suspend_user", "get_user"]
    assert "get_user" in [op.name for op in search(discourse, "silence user badactor for a day", 5)]

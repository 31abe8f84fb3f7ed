"""Retrieval ranks by the task's words, keeps to the run's sites and skips deprecated workflows, with
SQLite FTS5 and with PostgreSQL full text."""

from __future__ import annotations

import pytest

from workflows.memory import Workflow, WorkflowStore
from workflows.retrieval import query_terms, retrieve

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def add(
    store: WorkflowStore, name: str, intent: str, *, site: str = "demo", status: str = "verified"
) -> Workflow:
    return store.add_workflow(
        Workflow(
            name=name,
            site=site,
            status=status,
            intent_template=intent,
            description=f"For tasks like: {intent}",
            body=f"def {name}(): pass",
            fingerprint=name,
        )
    )


def test_best_match_first_within_the_sites(store: WorkflowStore) -> None:
    add(store, "close_issue", "Close issue #{{number}} in {{owner}}/{{project}}.")
    add(
        store,
        "count_labelled",
        "How many {{state}} issues labelled {{labels}} are there in {{owner}}/{{project}}?",
    )
    add(
        store, "create_label", "Create a label named {{name}} with colour {{color}} in {{owner}}/{{project}}."
    )
    add(store, "close_ticket", "Close ticket {{number}}.", site="helpdesk")
    names = [w.name for w in retrieve(store, "Close issue #12 in bob/mobile-app.", ["demo"], k=2)]
    assert names == ["close_issue", "count_labelled"]
    assert [w.name for w in retrieve(store, "create a label named seo", ["demo"], k=1)] == ["create_label"]
    assert [w.name for w in retrieve(store, "close ticket 4", ["helpdesk"])] == ["close_ticket"]
    assert retrieve(store, "close ticket 4", ["nowhere"]) == []


def test_deprecated_workflows_and_empty_queries_give_nothing(store: WorkflowStore) -> None:
    add(store, "close_issue", "Close issue #{{number}}.", status="deprecated")
    assert retrieve(store, "Close issue #3", ["demo"]) == []
    assert retrieve(store, "the of and", ["demo"]) == []
    updated = add(store, "close_issue_2", "Close issue #{{number}}.")
    assert [w.id for w in retrieve(store, "Close issue #3", ["demo"])] == [updated.id]


def test_query_terms_drop_stop_words_and_punctuation_and_quotes_are_harmless(store: WorkflowStore) -> None:
    assert query_terms('How many "open" issues are in alice/tracker-core?') == [
        "many",
        "open",
        "issues",
        "alice",
        "tracker",
        "core",
    ]
    add(store, "comment_issue", 'Comment "{{body}}" on issue #{{number}}.')
    assert [w.name for w in retrieve(store, 'Comment "it\'s OR NOT (done)" on issue #4', ["demo"])] == [
        "comment_issue"
    ]

"""The run store, on SQLite and PostgreSQL: runs, steps and calls survive, totals add up, ids can be
abbreviated, the newest run is listed first."""

from __future__ import annotations

import sqlite3

import pytest

from workflows.store import RunNotFound, RunStore, Step, utcnow

both_databases = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store(database_url: str) -> RunStore:
    return RunStore(database_url)


@both_databases
def test_a_run_with_steps_and_calls(store: RunStore) -> None:
    run = store.start_run("count bugs", sites=["demo"], model="scripted", policy="read-only")
    call = {"capability": "api", "target": "demo.list_issues", "args": [], "kwargs": {"state": "open"},
            "writes": False, "domain": "127.0.0.1", "status": "ok", "result": "list of 3", "error": None,
            "latency": 0.004}
    first = store.add_step(Step(run_id=run.id, index=0, code="x = 1", prompt_tokens=100, completion_tokens=10,
                                cost=0.01), [call])
    store.add_step(Step(run_id=run.id, index=1, code="finish(3)", prompt_tokens=120, completion_tokens=5))
    store.end_run(run.id, "finished", answer="3")
    saved = store.get_run(run.id[:6])
    assert (saved.status, saved.answer, saved.steps) == ("finished", "3", 2)
    assert (saved.prompt_tokens, saved.completion_tokens, saved.cost) == (220, 15, 0.01)
    assert saved.ended_at is not None and saved.sites == ["demo"]
    assert [s.code for s in store.steps_of(run.id)] == ["x = 1", "finish(3)"]
    [stored_call] = store.calls_of(first.id)
    assert stored_call.target == "demo.list_issues" and stored_call.arguments["kwargs"] == {"state": "open"}
    assert stored_call.latency_ms == 4.0


@both_databases
def test_unknown_and_ambiguous_ids(store: RunStore) -> None:
    store.start_run("a", sites=[], model="m", policy="allow", run_id="abc111")
    store.start_run("b", sites=[], model="m", policy="allow", run_id="abc222")
    with pytest.raises(RunNotFound, match="ambiguous"):
        store.get_run("abc")
    with pytest.raises(RunNotFound, match="hybrid runs list"):
        store.get_run("zzz")
    with pytest.raises(ValueError, match="unknown run status"):
        store.end_run("abc111", "done")


@both_databases
def test_newest_run_first(store: RunStore) -> None:
    for task in ("first", "second"):
        store.start_run(task, sites=[], model="m", policy="allow")
    assert [r.task for r in store.list_runs()] == ["second", "first"]


@both_databases
def test_times_are_utc_whatever_the_server_time_zone(store: RunStore) -> None:
    before = utcnow().replace(tzinfo=None)
    run = store.start_run("now", sites=[], model="m", policy="allow")
    ended = store.end_run(run.id, "finished")
    after = utcnow().replace(tzinfo=None)
    started = store.get_run(run.id).started_at
    assert before <= started.replace(tzinfo=None) <= ended.ended_at.replace(tzinfo=None) <= after


def test_sqlite_file_uses_wal(tmp_path) -> None:
    RunStore(f"sqlite:///{tmp_path / 'data' / 'hybrid.db'}")
    mode = sqlite3.connect(tmp_path / "data" / "hybrid.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_urls_in_each_common_spelling(scheme: str, postgres_url: str) -> None:
    store = RunStore(scheme + postgres_url[postgres_url.index("://"):])
    assert store.engine.driver == "psycopg" and store.list_runs() == []

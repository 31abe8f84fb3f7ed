"""The run store, on SQLite and PostgreSQL: runs, steps and calls survive, totals add up, ids can be
abbreviated, the newest run is listed first."""

from __future__ import annotations

import sqlite3

import pytest

from sandbox import CallRecord
from workflows.store import RunNotFound, RunStore, StepRecord, utcnow

both_databases = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store(database_url: str) -> RunStore:
    return RunStore(database_url)


@both_databases
def test_a_run_with_steps_and_calls(store: RunStore) -> None:
    run = store.start_run("count bugs", sites=["demo"], model="scripted", policy="read-only")
    call = CallRecord(
        capability="api",
        target="demo.list_issues",
        args=[],
        kwargs={"state": "open"},
        writes=False,
        domain="127.0.0.1",
        status="ok",
        result="list of 3",
        error=None,
        started_at=1.5e9,
        latency=0.004,
    )
    first = store.add_step(
        run.id, StepRecord(index=0, code="x = 1", prompt_tokens=100, completion_tokens=10, cost=0.01), [call]
    )
    store.add_step(run.id, StepRecord(index=1, code="finish(3)", prompt_tokens=120, completion_tokens=5))
    store.end_run(run.id, "finished", answer="3")
    saved = store.get_run(run.id[:6])
    assert (saved.status, saved.answer, saved.steps) == ("finished", "3", 2)
    assert (saved.prompt_tokens, saved.completion_tokens, saved.cost) == (220, 15, 0.01)
    assert saved.ended_at is not None and saved.sites == ["demo"]
    assert [s.code for s in store.steps_of(run.id)] == ["x = 1", "finish(3)"]
    assert store.calls_of(first.id) == [call]


@both_databases
def test_every_field_of_a_step_and_its_calls_survives_the_trip_to_the_store_and_back(store: RunStore) -> None:
    run = store.start_run("look around", sites=["demo"], model="scripted", policy="allow")
    fields = {
        "index": 0,
        "reply": "Thought: look.\n```python\nbrowser.observe()\n```",
        "thought": "look.",
        "code": "browser.observe()",
        "observation": "a page",
        "full_output": "a page, whole",
        "error": "x",
        "ok": False,
        "used_browser": True,
        "dropped_blocks": 2,
        "no_code": "prose",
        "prompt_tokens": 7,
        "completion_tokens": 3,
        "cached_tokens": 5,
        "cost": 0.5,
        "model_seconds": 1.25,
        "execute_seconds": 2.5,
        "usage_estimated": True,
    }
    assert set(fields) == set(
        StepRecord.model_fields
    )  # a new field must be added here, with a value not its default
    assert all(
        value != StepRecord.model_fields[name].default for name, value in fields.items() if name != "index"
    )
    step = StepRecord(**fields)
    calls = [
        CallRecord(
            capability="browser",
            target="observe",
            args=[1, "a"],
            kwargs={"full": True},
            writes=True,
            domain="demo.test",
            status=status,
            result="ok" if status == "ok" else None,
            error=None if status == "ok" else "refused",
            started_at=1.7e9 + n,
            latency=0.25,
        )
        for n, status in enumerate(("ok", "denied", "error"))
    ]
    stored = store.add_step(run.id, step, calls)
    [read] = store.steps_of(run.id)
    assert read.record() == step and read.id == stored.id
    assert store.calls_of(read.id) == calls


def test_a_step_with_a_field_the_record_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="used_browsr"):
        StepRecord.model_validate({"index": 0, "used_browsr": True})


@both_databases
def test_a_step_of_an_unknown_run_is_refused_and_nothing_is_kept(store: RunStore) -> None:
    with pytest.raises(RunNotFound, match="No run nope"):
        store.add_step("nope", StepRecord(index=0))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM steps").scalar() == 0


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
    store = RunStore(scheme + postgres_url[postgres_url.index("://") :])
    assert store.engine.driver == "psycopg" and store.list_runs() == []

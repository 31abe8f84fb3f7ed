"""The fast path's store without the ORM: matching a task to a verified workflow, and recording the run it
does (its one step, the calls, the workflow's use), with the standard library's `sqlite3`.

A task done by a stored workflow pays for nothing else, and importing SQLAlchemy and SQLModel cost it
about 0.45 s of CPU, more than everything else it does in the host. `LightStore.open` gives a store only
for a SQLite database at the newest schema revision (as `workflows.reading.open_reader`); otherwise the
caller uses the ORM's `WorkflowStore`, which has the same methods (`FastPathStore`). What this module
writes is what the ORM's models write, column for column: the same defaults, JSON, booleans and times,
which tests hold equal by reading one store's rows through the other.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sandbox.bridge.record import CallRecord
from workflows.reading import (
    CALLS,
    RUNS,
    STEPS,
    WORKFLOWS,
    Entry,
    Reader,
    RunEntry,
    RunNotFound,
    WorkflowEntry,
    columns,
    new_run_id,
    open_reader,
)
from workflows.status import DEPRECATE_AFTER_FAILURES, RUN_STATUSES, USE_OUTCOMES, RunStatus

if TYPE_CHECKING:
    from sandbox import PolicyMode

USES, LEARNED = "workflow_uses", "learned_operations"
MAX_TERMS = 24
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "all",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "with",
        "you",
        "your",
    ]
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# A task's matching workflows: bm25 weights per FTS column (name, description, intent_template, site).
# `{sites}`, `{query}` and `{k}` are the placeholders of whoever runs it (sqlite3's or SQLAlchemy's).
SQLITE_MATCH = (
    "SELECT w.id FROM workflows_fts JOIN workflows AS w ON w.id = workflows_fts.rowid "
    "WHERE workflows_fts MATCH {query} AND w.site IN {sites} AND w.status != 'deprecated' "
    "ORDER BY bm25(workflows_fts, 4.0, 1.0, 3.0, 0.5) LIMIT {k}"
)
# A step's columns that a fast-path step may leave out, with the values `workflows.store.StepRecord` gives
# them (a test holds the two equal).
STEP_DEFAULTS: dict[str, Any] = {
    "reply": "",
    "thought": "",
    "code": None,
    "observation": "",
    "full_output": "",
    "error": None,
    "ok": True,
    "used_browser": False,
    "dropped_blocks": 0,
    "no_code": None,
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "cached_tokens": 0,
    "usage_estimated": False,
    "cost": None,
    "model_seconds": 0.0,
    "execute_seconds": 0.0,
}


def query_terms(task: str) -> list[str]:
    """The task's distinct words worth searching for, in order."""
    terms: list[str] = []
    for word in _WORD.findall(task.lower()):
        if len(word) > 1 and word not in STOP_WORDS and word not in terms:
            terms.append(word)
    return terms[:MAX_TERMS]


def fts5_query(terms: list[str], sites: list[str]) -> str:
    """Terms OR-ed, within the sites (matched in the index too, so bm25 ranks only their rows)."""
    quoted_sites = " OR ".join(_fts5_string(site) for site in sites)
    return f"site : ({quoted_sites}) AND ({' OR '.join(_fts5_string(term) for term in terms)})"


def _fts5_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


class WorkflowView(Protocol):
    """A stored workflow as the fast path and the kernel read it: `workflows.memory.Workflow` (the ORM's
    row) or `workflows.reading.WorkflowEntry`."""

    @property
    def id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def intent_template(self) -> str: ...
    @property
    def parameters(self) -> list[dict[str, Any]]: ...
    @property
    def body(self) -> str: ...
    @property
    def operations(self) -> list[str]: ...
    @property
    def writes(self) -> bool: ...
    @property
    def signature(self) -> str: ...
    @property
    def parameter_names(self) -> list[str]: ...


class UseRecorder(Protocol):
    """Where workflow uses are recorded (`workflows.kernel`)."""

    def start_use(
        self,
        workflow_id: int,
        *,
        via: str,
        arguments: dict[str, Any],
        run_id: str | None = None,
        step_index: int | None = None,
    ) -> int: ...

    def finish_use(self, use_id: int, *, outcome: str, error: str | None = None) -> object: ...


class RunView(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def status(self) -> RunStatus: ...
    @property
    def answer(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def steps(self) -> int: ...


class OperationMemory(Protocol):
    """Where the operations a successful run called are kept for later tasks (`apis.search`)."""

    def api_operations_called(self, run_id: str) -> dict[str, list[str]]: ...

    def remember_operations(self, run_id: str, site: str, task: str, operations: Sequence[str]) -> bool: ...


class FastPathStore(UseRecorder, OperationMemory, Protocol):
    """What the fast path reads and writes: `LightStore`, or the ORM's `workflows.memory.WorkflowStore`."""

    def matching_workflows(self, task: str, sites: Iterable[str], k: int) -> Sequence[WorkflowView]: ...

    def start_run(
        self,
        task: str,
        *,
        sites: Iterable[str],
        model: str,
        policy: PolicyMode,
        source: str | None = None,
        run_id: str | None = None,
        sandbox: str = "bubblewrap",
    ) -> RunView: ...

    def add_step_fields(
        self, run_id: str, fields: Mapping[str, Any], calls: Iterable[CallRecord] = ()
    ) -> None: ...

    def end_run(
        self, run_id: str, status: RunStatus, *, answer: str | None = None, error: str | None = None
    ) -> RunView: ...

    def get_run(self, run_id: str) -> RunView: ...


def _now() -> str:
    """The time now as SQLAlchemy keeps a UTC `DateTime` in SQLite: text without a zone."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _json(value: Any) -> str:
    return json.dumps(value)  # as SQLAlchemy's JSON type writes it


class LightStore(Reader):
    """The fast path's reads and writes on a SQLite database at the newest revision. Every write commits
    at once, as the ORM's store does. Workflow uses are begun from the bridge's threads: one connection,
    used by one thread at a time."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        super().__init__(connection)
        self._lock = threading.RLock()

    def _rows(self, record: type[Entry], sql: str, parameters: tuple[Any, ...] = ()) -> list[Entry]:
        with self._lock:
            return super()._rows(record, sql, parameters)

    @classmethod
    def open(cls, database_url: str) -> LightStore | None:
        """A light store of the database at `database_url`, or None where the ORM's store must open it (see
        `open_reader`)."""
        reader = open_reader(database_url, any_thread=True)
        if reader is None:
            return None
        connection = reader.connection
        # As the ORM's engine sets each connection up (`workflows.store._tune_sqlite`).
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=10000", "foreign_keys=ON"):
            connection.execute(f"PRAGMA {pragma}")
        return cls(connection)

    def matching_workflows(self, task: str, sites: Iterable[str], k: int) -> list[WorkflowEntry]:
        """As `workflows.retrieval.retrieve`: the `k` best-matching non-deprecated workflows of `sites`."""
        sites, terms = list(sites), query_terms(task)
        if not sites or not terms or k <= 0:
            return []
        sql = SQLITE_MATCH.format(query="?", sites=f"({', '.join('?' for _ in sites)})", k="?")
        with self._lock:
            ids = [row[0] for row in self.connection.execute(sql, (fts5_query(terms, sites), *sites, k))]
        if not ids:
            return []
        found = {
            w.id: w
            for w in self._rows(
                WorkflowEntry,
                f"SELECT {', '.join(_quote(name) for name in columns(WorkflowEntry))} FROM {WORKFLOWS} "
                f"WHERE id IN ({', '.join('?' for _ in ids)})",
                tuple(ids),
            )
        }
        return [found[i] for i in ids if i in found]

    def start_run(
        self,
        task: str,
        *,
        sites: Iterable[str],
        model: str,
        policy: PolicyMode,
        source: str | None = None,
        run_id: str | None = None,
        sandbox: str = "bubblewrap",
    ) -> RunEntry:
        run_id = run_id or new_run_id()
        with self._lock, self.connection:
            self.connection.execute(
                f"INSERT INTO {RUNS} (id, task, sites, model, policy, sandbox, status, source, steps, "
                "prompt_tokens, completion_tokens, started_at) "
                "VALUES (?, ?, ?, ?, ?, ?, 'running', ?, 0, 0, 0, ?)",
                (run_id, task, _json(list(sites)), model, policy, sandbox, source, _now()),
            )
        return self.get_run(run_id)

    def add_step_fields(
        self, run_id: str, fields: Mapping[str, Any], calls: Iterable[CallRecord] = ()
    ) -> None:
        """As `RunStore.add_step` with `StepRecord(**fields)`: the step, its calls and the run's totals."""
        unknown = set(fields) - {"index", *STEP_DEFAULTS}
        if unknown or "index" not in fields:
            raise TypeError(f"a step needs its index and takes only a step's fields, not {sorted(unknown)}")
        step = {**STEP_DEFAULTS, **fields}
        index, cost = step["index"], step["cost"]
        with self._lock, self.connection:
            updated = self.connection.execute(
                f"UPDATE {RUNS} SET steps = CASE WHEN steps > ? THEN steps ELSE ? END, "
                "prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?, "
                "cost = CASE WHEN ? IS NULL THEN cost ELSE coalesce(cost, 0.0) + ? END, "
                "usage_estimated = usage_estimated OR ? WHERE id = ?",
                (
                    index,
                    index + 1,
                    step["prompt_tokens"],
                    step["completion_tokens"],
                    cost,
                    cost,
                    bool(step["usage_estimated"]),
                    run_id,
                ),
            )
            if updated.rowcount == 0:
                raise RunNotFound(f"No run {run_id} to add a step to.")
            names = ["run_id", *step, "created_at"]
            step_id = self.connection.execute(
                f"INSERT INTO {STEPS} ({', '.join(_quote(name) for name in names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                (run_id, *step.values(), _now()),
            ).lastrowid
            self.connection.executemany(
                f"INSERT INTO {CALLS} (run_id, step_id, capability, target, arguments, writes, domain, "
                "status, result, error, latency_ms, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        run_id,
                        step_id,
                        call.capability,
                        call.target,
                        _json({"args": call.args, "kwargs": call.kwargs}),
                        call.writes,
                        call.domain,
                        call.status,
                        call.result,
                        call.error,
                        round(call.latency * 1000, 3),
                        call.started_at,
                    )
                    for call in calls
                ],
            )

    def end_run(
        self, run_id: str, status: RunStatus, *, answer: str | None = None, error: str | None = None
    ) -> RunEntry:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        with self._lock, self.connection:
            self.connection.execute(
                f"UPDATE {RUNS} SET status = ?, answer = ?, error = ?, ended_at = ? WHERE id = ?",
                (status, answer, error, None if status == "running" else _now(), run_id),
            )
        return self.get_run(run_id)

    def api_operations_called(self, run_id: str) -> dict[str, list[str]]:
        """As `WorkflowStore.api_operations_called`: `{"demo": ["list_issues", ...]}`, first-call order."""
        with self._lock:
            targets = [
                row[0]
                for row in self.connection.execute(
                    f"SELECT target FROM {CALLS} WHERE run_id = ? AND capability = 'api' AND status = 'ok' "
                    "ORDER BY id",
                    (run_id,),
                )
            ]
        called: dict[str, list[str]] = {}
        for target in targets:
            site, _, operation = target.partition(".")
            if operation and operation not in called.setdefault(site, []):
                called[site].append(operation)
        return called

    def remember_operations(self, run_id: str, site: str, task: str, operations: Sequence[str]) -> bool:
        """As `WorkflowStore.remember_operations`: once per run and site; False if kept already or empty."""
        if not operations:
            return False
        with self._lock, self.connection:
            kept = self.connection.execute(
                f"SELECT id FROM {LEARNED} WHERE run_id = ? AND site = ?", (run_id, site)
            ).fetchone()
            if kept is not None:
                return False
            self.connection.execute(
                f"INSERT INTO {LEARNED} (site, task, operations, run_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (site, task, _json(list(operations)), run_id, _now()),
            )
        return True

    def start_use(
        self,
        workflow_id: int,
        *,
        via: str,
        arguments: dict[str, Any],
        run_id: str | None = None,
        step_index: int | None = None,
    ) -> int:
        with self._lock, self.connection:
            use_id = self.connection.execute(
                f"INSERT INTO {USES} (workflow_id, run_id, step_index, via, arguments, outcome, started_at) "
                "VALUES (?, ?, ?, ?, ?, 'started', ?)",
                (workflow_id, run_id, step_index, via, _json(arguments), _now()),
            ).lastrowid
        assert use_id is not None
        return use_id

    def finish_use(self, use_id: int, *, outcome: str, error: str | None = None) -> None:
        """As `WorkflowStore.finish_use`: the use's outcome, and its workflow's counts and status, in one
        transaction."""
        if outcome not in USE_OUTCOMES:
            raise ValueError(f"unknown use outcome {outcome!r}; one of {', '.join(USE_OUTCOMES)}")
        now = _now()
        with self._lock, self.connection:
            found = self.connection.execute(
                f"SELECT workflow_id, outcome FROM {USES} WHERE id = ?", (use_id,)
            ).fetchone()
            if found is None:
                raise LookupError(f"No workflow use {use_id}.")
            workflow_id, before = found
            if before != "started":
                raise ValueError(f"Workflow use {use_id} already ended ({before}).")
            self.connection.execute(
                f"UPDATE {USES} SET outcome = ?, error = ?, ended_at = ? WHERE id = ?",
                (outcome, error, now, use_id),
            )
            if outcome == "success":
                self.connection.execute(
                    f"UPDATE {WORKFLOWS} SET success_count = success_count + 1, consecutive_failures = 0, "
                    "updated_at = ? WHERE id = ?",
                    (now, workflow_id),
                )
            elif outcome == "failure":
                self.connection.execute(
                    f"UPDATE {WORKFLOWS} SET failure_count = failure_count + 1, "
                    "consecutive_failures = consecutive_failures + 1, "
                    "status = CASE WHEN consecutive_failures + 1 >= ? THEN 'deprecated' ELSE status END, "
                    "updated_at = ? WHERE id = ?",
                    (DEPRECATE_AFTER_FAILURES, now, workflow_id),
                )


def _quote(name: str) -> str:
    return f'"{name}"'  # `index` is an SQL keyword

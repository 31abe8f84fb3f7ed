"""Reading the store without the ORM: what the listing commands (`hybrid runs list`, `runs show`,
`workflows list`) show, read from a SQLite database with the standard library's `sqlite3`.

The ORM's models (`workflows.store`, `workflows.memory`) define the schema and write it; this module reads
the same tables and columns (each record here has one field per column, named as the model's, which a test
holds equal) into plain records that look like the models to the commands: the same attribute names, the
same JSON. Importing SQLAlchemy, SQLModel and the migrations costs a listing command most of its time.

`open_reader` gives no reader for a database this module cannot read as it is: not SQLite, not there yet,
or not at the newest schema revision (the ORM's store creates and upgrades it); the caller then opens the
store.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self, TypeVar

from sandbox.bridge.record import CallRecord
from sandbox.errors import HybridError
from workflows.status import RunStatus

# The newest revision in migrations/versions: a new migration updates it (a test holds it to Alembic's head).
HEAD_REVISION = "0008"
VERSION_TABLE = "alembic_version"
RUNS, STEPS, CALLS, WORKFLOWS = "runs", "steps", "calls", "workflows"


def new_run_id() -> str:
    """A new run's id: 12 hex digits."""
    return uuid.uuid4().hex[:12]


class RunNotFound(HybridError, LookupError):
    """No run with that id (or prefix); the message says so."""


class StoreError(HybridError):
    """The database cannot be opened; the message names it (without its password) and says why."""


def _time(value: str | None) -> datetime | None:
    """A time as SQLite holds it (text, UTC without a zone), as the ORM reads it: an aware UTC datetime."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_time(value: datetime | None) -> str | None:
    """A time as pydantic writes it in JSON (`2026-01-02T03:04:05.123456Z`)."""
    if value is None:
        return None
    text = value.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


@dataclass
class RunEntry:
    """A stored run (`workflows.store.RunRow`), as read."""

    id: str
    task: str
    sites: list[str]
    model: str
    policy: str
    sandbox: str
    status: RunStatus
    answer: str | None
    error: str | None
    source: str | None
    steps: int
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    usage_estimated: bool
    judgement: str | None
    judgement_reason: str | None
    started_at: datetime
    ended_at: datetime | None

    def json_data(self) -> dict[str, Any]:
        """The run as `RunRow.model_dump_json()` gives it, as plain data."""
        return _json_data(self)

    def model_dump_json(self) -> str:
        return json.dumps(self.json_data(), ensure_ascii=False, separators=(",", ":"))


@dataclass
class StepEntry:
    """A stored step (`workflows.store.StepRow`), as read."""

    index: int
    reply: str
    thought: str
    code: str | None
    observation: str
    full_output: str
    error: str | None
    ok: bool
    used_browser: bool
    dropped_blocks: int
    no_code: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    cost: float | None
    usage_estimated: bool
    model_seconds: float
    execute_seconds: float
    id: int
    run_id: str
    created_at: datetime

    def json_data(self) -> dict[str, Any]:
        """The step as `StepRow.model_dump_json()` gives it, as plain data."""
        return _json_data(self)

    def model_dump_json(self) -> str:
        return json.dumps(self.json_data(), ensure_ascii=False, separators=(",", ":"))


@dataclass
class WorkflowEntry:
    """A stored workflow (`workflows.memory.Workflow`), as read."""

    id: int
    name: str
    version: int
    site: str
    kind: str
    status: str
    description: str
    intent_template: str
    parameters: list[dict[str, Any]]
    body: str
    operations: list[str]
    fingerprint: str
    writes: bool
    source_runs: list[str]
    source_arguments: dict[str, Any]
    expected_answer: str | None
    verification: str | None
    verification_note: str | None
    success_count: int
    failure_count: int
    consecutive_failures: int
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None

    @property
    def signature(self) -> str:
        """As `Workflow.signature`: `close_issue(owner: str, project: str, number: int)`."""
        params = ", ".join(f"{p['name']}: {p.get('type', 'str')}" for p in self.parameters)
        return f"{self.name}({params})"

    @property
    def parameter_names(self) -> list[str]:
        return [p["name"] for p in self.parameters]

    def export(self) -> dict[str, Any]:
        """As `Workflow.export()`: a JSON-ready record without the database id."""
        record = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}
        exported: dict[str, Any] = json.loads(json.dumps(record, default=str))
        return exported


# How a column's SQLite value becomes the model's: JSON text, 0/1 booleans, times as text.
CONVERTERS: dict[str, Any] = {
    "sites": json.loads,
    "arguments": json.loads,
    "parameters": json.loads,
    "operations": json.loads,
    "source_runs": json.loads,
    "source_arguments": json.loads,
    "ok": bool,
    "used_browser": bool,
    "usage_estimated": bool,
    "writes": bool,
    "started_at": _time,
    "ended_at": _time,
    "created_at": _time,
    "updated_at": _time,
    "verified_at": _time,
}
Entry = TypeVar("Entry", RunEntry, StepEntry, WorkflowEntry)


def _json_data(entry: RunEntry | StepEntry) -> dict[str, Any]:
    return {
        f.name: _json_time(value) if isinstance(value := getattr(entry, f.name), datetime) else value
        for f in fields(entry)
    }


def columns(record: type[Any]) -> tuple[str, ...]:
    """The columns a record reads: its fields, named as the model's."""
    return tuple(f.name for f in fields(record))


def _select(record: type[Any], table: str) -> str:
    quoted = ", ".join(f'"{name}"' for name in columns(record))
    return f"SELECT {quoted} FROM {table}"


@dataclass
class Reader:
    """Reads runs, steps, calls and workflows from one SQLite database at the newest revision."""

    connection: sqlite3.Connection

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _rows(self, record: type[Entry], sql: str, parameters: tuple[Any, ...] = ()) -> list[Entry]:
        names = columns(record)
        built = []
        for row in self.connection.execute(sql, parameters):
            values = {
                name: (CONVERTERS[name](value) if name in CONVERTERS and value is not None else value)
                for name, value in zip(names, row, strict=True)
            }
            built.append(record(**values))
        return built

    def list_runs(self, limit: int = 20) -> list[RunEntry]:
        """The newest `limit` runs, newest first (as `RunStore.list_runs`)."""
        return self._rows(RunEntry, f"{_select(RunEntry, RUNS)} ORDER BY started_at DESC LIMIT ?", (limit,))

    def get_run(self, run_id: str) -> RunEntry:
        """A run by id or unique id prefix (as `RunStore.get_run`)."""
        exact = self._rows(RunEntry, f"{_select(RunEntry, RUNS)} WHERE id = ?", (run_id,))
        if exact:
            return exact[0]
        matches = self._rows(
            RunEntry, f"{_select(RunEntry, RUNS)} WHERE substr(id, 1, ?) = ? LIMIT 2", (len(run_id), run_id)
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise RunNotFound(f"Run id prefix {run_id!r} is ambiguous; give more characters.")
        raise RunNotFound(f"No run {run_id!r}; `hybrid runs list` shows the recorded runs.")

    def steps_of(self, run_id: str) -> list[StepEntry]:
        return self._rows(
            StepEntry, f'{_select(StepEntry, STEPS)} WHERE run_id = ? ORDER BY "index"', (run_id,)
        )

    def run_document(self, run_id: str) -> dict[str, Any]:
        """The run as `RunStore.run_document` gives it: its steps (without their row and run ids) and
        their calls included."""
        run = self.get_run(run_id)
        steps = [
            {
                **{k: v for k, v in step.json_data().items() if k not in ("id", "run_id")},
                "calls": [call.to_dict() for call in self.calls_of(step.id)],
            }
            for step in self.steps_of(run.id)
        ]
        return {**run.json_data(), "steps": steps}

    def calls_of(self, step_id: int | None) -> list[CallRecord]:
        """The calls step `step_id` made, as `RunStore.calls_of` gives them."""
        if step_id is None:
            return []
        rows = self.connection.execute(
            f"SELECT capability, target, arguments, writes, domain, status, result, error, started_at, "
            f"latency_ms FROM {CALLS} WHERE step_id = ? ORDER BY id",
            (step_id,),
        )
        calls = []
        for capability, target, arguments, writes, domain, status, result, error, started, latency in rows:
            given = json.loads(arguments)
            calls.append(
                CallRecord(
                    capability=capability,
                    target=target,
                    args=list(given.get("args", [])),
                    kwargs=dict(given.get("kwargs", {})),
                    writes=bool(writes),
                    domain=domain,
                    status=status,
                    result=result,
                    error=error,
                    started_at=started,
                    latency=latency / 1000,
                )
            )
        return calls

    def list_workflows(
        self,
        *,
        sites: tuple[str, ...] | None = None,
        statuses: tuple[str, ...] | None = None,
        all_versions: bool = False,
    ) -> list[WorkflowEntry]:
        """As `WorkflowStore.list_workflows`: by site and name, each name's newest version unless
        `all_versions`."""
        where, parameters = "", tuple(sites or ())
        if sites is not None:
            where = f" WHERE site IN ({', '.join('?' for _ in sites)})"
        rows = self._rows(
            WorkflowEntry,
            f"{_select(WorkflowEntry, WORKFLOWS)}{where} ORDER BY site, name, version DESC",
            parameters,
        )
        if not all_versions:
            newest: dict[str, WorkflowEntry] = {}
            for row in rows:
                newest.setdefault(row.name, row)
            rows = list(newest.values())
        if statuses is not None:
            rows = [row for row in rows if row.status in set(statuses)]
        return rows


def sqlite_path(database_url: str) -> Path | None:
    """The file of a `sqlite:///path` URL; None for any other database."""
    if not database_url.startswith("sqlite:///") or "?" in database_url:
        return None
    path = database_url.removeprefix("sqlite:///")
    return Path(path) if path and path != ":memory:" else None


def open_reader(database_url: str, *, any_thread: bool = False) -> Reader | None:
    """A reader of the database at `database_url`, or None where the ORM's store must open it: not a
    SQLite file, no such file yet, or not at the newest schema revision (the store upgrades it). With
    `any_thread`, its connection may be used from threads other than this one (one at a time)."""
    path = sqlite_path(database_url)
    if path is None or not path.is_file():
        return None
    try:
        connection = sqlite3.connect(path, timeout=10, check_same_thread=not any_thread)
    except sqlite3.Error:
        return None
    try:
        revision = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.Error:
        revision = None
    if revision is None or revision[0] != HEAD_REVISION:
        connection.close()
        return None
    return Reader(connection)

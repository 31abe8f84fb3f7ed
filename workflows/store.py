"""The SQL memory of runs: each run, its steps, and the capability calls each step made.

SQLite by default (one file, WAL mode so several processes can read and write), PostgreSQL by URL.
The schema is made and upgraded by the migrations in `workflows/migrations` when a store opens.
Workflows and their uses share this database (`workflows.memory`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, String, Text, case, event, func, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from sandbox import CallRecord, CallStatus, PolicyMode
from workflows.migrate import migrate
from workflows.reading import RunNotFound, StoreError, new_run_id
from workflows.status import RUN_STATUSES, RunStatus


def utcnow() -> datetime:
    return datetime.now(UTC)


class RunRow(SQLModel, table=True):
    """A run as the database keeps it: its task, settings, outcome and totals."""

    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    task: str = Field(sa_column=Column(Text, nullable=False))
    sites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model: str
    policy: PolicyMode = Field(default="allow", sa_type=String)
    # Rows written before runs recorded it ran unisolated: the database's default says so.
    sandbox: str = Field(
        default="bubblewrap",
        sa_column_kwargs={"server_default": "none"},
        description="how code actions were isolated: bubblewrap, or none if opted out",
    )
    status: RunStatus = Field(default="running", index=True, sa_type=String)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    source: str | None = Field(default=None, description="where the task came from, e.g. demo-suite:12")
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    usage_estimated: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": "0"},
        description="its tokens and cost include an estimate (an attempt broke off before its usage came)",
    )
    judgement: str | None = Field(
        default=None, description="the judge's verdict on a finished run: success, failure"
    )
    judgement_reason: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None


class StepRecord(SQLModel):
    """One step of a run: the model's reply, the code it ran, what running it showed, and what it cost.

    The agent's graph keeps steps as this record's plain data (`model_dump()`), the store as `StepRow`.
    A field it does not know is refused, so nothing a step carries is lost on the way to the record.
    """

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]  # SQLModel's is a ConfigDict subclass

    index: int
    reply: str = Field(default="", sa_column=Column(Text, nullable=False))
    thought: str = Field(default="", sa_column=Column(Text, nullable=False))
    code: str | None = Field(default=None, sa_column=Column(Text))
    # What the model was shown, trimmed; `full_output` is everything (only the record keeps it).
    observation: str = Field(default="", sa_column=Column(Text, nullable=False))
    full_output: str = Field(default="", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    ok: bool = True
    used_browser: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    # Code blocks after the first in the reply, which were not run; why a reply had no code (or None).
    dropped_blocks: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    no_code: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    cost: float | None = None
    # The tokens and cost include an estimate: a retried attempt broke off before its usage was reported.
    usage_estimated: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    model_seconds: float = 0.0
    execute_seconds: float = 0.0


class StepRow(StepRecord, table=True):
    """A step as the database keeps it: the record, the run it belongs to and when it was written."""

    __tablename__ = "steps"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)

    def record(self) -> StepRecord:
        return StepRecord.model_validate(self.model_dump(include=set(StepRecord.model_fields)))


class CallRow(SQLModel, table=True):
    """A capability call (a `sandbox.CallRecord`) as the database keeps it, with the step that made it."""

    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True)
    step_id: int = Field(foreign_key="steps.id", index=True)
    capability: str
    target: str
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    writes: bool = False
    domain: str | None = None
    status: CallStatus = Field(sa_type=String)
    result: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    latency_ms: float = 0.0
    started_at: float | None = Field(default=None, description="Unix time; not kept before revision 0006")

    @classmethod
    def of(cls, call: CallRecord, *, run_id: str, step_id: int) -> CallRow:
        return cls(
            run_id=run_id,
            step_id=step_id,
            capability=call.capability,
            target=call.target,
            arguments={"args": call.args, "kwargs": call.kwargs},
            writes=call.writes,
            domain=call.domain,
            status=call.status,
            result=call.result,
            error=call.error,
            latency_ms=round(call.latency * 1000, 3),
            started_at=call.started_at,
        )

    def record(self) -> CallRecord:
        return CallRecord(
            capability=self.capability,
            target=self.target,
            args=list(self.arguments.get("args", [])),
            kwargs=dict(self.arguments.get("kwargs", {})),
            writes=self.writes,
            domain=self.domain,
            status=self.status,
            result=self.result,
            error=self.error,
            started_at=self.started_at,
            latency=self.latency_ms / 1000,
        )


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode, NORMAL syncs at checkpoints, not at every commit: a commit is a write to the log, not a
    # wait for the disk (an agent's step took ~11 ms, most of it this fsync). A crash of the process loses
    # nothing committed; a power cut may lose the last commits, never the database's consistency.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Runs hold what pages and APIs showed: a new database is its owner's alone (SQLite gives its WAL
        # the same).
        path.touch(mode=0o600, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    url = make_url(database_url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")  # the driver the `postgres` extra installs (psycopg 3)
    return create_engine(url, pool_pre_ping=True)


class RunStore:
    """Reads and writes runs. Every write commits at once, so a crash loses nothing already recorded."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        try:
            self.engine = make_engine(database_url)
            migrate(self.engine)
        except (ImportError, SQLAlchemyError) as exc:
            shown = make_url(database_url).render_as_string(hide_password=True)
            hint = (
                " (PostgreSQL needs: pip install 'hybrid-agent[postgres]')"
                if isinstance(exc, ImportError)
                else ""
            )
            raise StoreError(f"Cannot open the database {shown}: {str(exc).splitlines()[0]}{hint}") from exc

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
    ) -> RunRow:
        run = RunRow(
            id=run_id or new_run_id(),
            task=task,
            sites=list(sites),
            model=model,
            policy=policy,
            source=source,
            sandbox=sandbox,
        )
        with Session(self.engine) as session:
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def add_step(self, run_id: str, step: StepRecord, calls: Iterable[CallRecord] = ()) -> StepRow:
        """Store a step of run `run_id` with the capability calls it made, and update the run's totals.

        The totals are updated in the database, without reading the run: a run's steps cost it no reads.
        """
        totals: dict[Any, Any] = {
            RunRow.steps: case((col(RunRow.steps) > step.index, RunRow.steps), else_=step.index + 1),
            RunRow.prompt_tokens: col(RunRow.prompt_tokens) + step.prompt_tokens,
            RunRow.completion_tokens: col(RunRow.completion_tokens) + step.completion_tokens,
        }
        if step.cost is not None:
            totals[RunRow.cost] = func.coalesce(RunRow.cost, 0.0) + step.cost
        if step.usage_estimated:
            totals[RunRow.usage_estimated] = True
        # Not expired on commit: the row returned is the one written (its id from the flush), with no read.
        with Session(self.engine, expire_on_commit=False) as session:
            updated = session.exec(update(RunRow).where(col(RunRow.id) == run_id).values(totals))
            if updated.rowcount == 0:
                raise RunNotFound(f"No run {run_id} to add a step to.")
            row = StepRow(run_id=run_id, **step.model_dump())
            session.add(row)
            session.flush()
            assert row.id is not None  # the flush gave it one
            session.add_all(CallRow.of(call, run_id=run_id, step_id=row.id) for call in calls)
            session.commit()
        return row

    def add_step_fields(
        self, run_id: str, fields: Mapping[str, Any], calls: Iterable[CallRecord] = ()
    ) -> None:
        """`add_step` with the step given as `StepRecord`'s fields (as `workflows.lightstore` takes it)."""
        self.add_step(run_id, StepRecord(**fields), calls)

    def add_model_use(
        self,
        run_id: str,
        *,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float | None,
        estimated: bool = False,
    ) -> None:
        """Add to run `run_id`'s totals what model calls outside its steps used (judging, learning, a call
        that failed after it was partly paid for); `estimated` when some of it is an estimate."""
        totals: dict[Any, Any] = {
            RunRow.prompt_tokens: col(RunRow.prompt_tokens) + prompt_tokens,
            RunRow.completion_tokens: col(RunRow.completion_tokens) + completion_tokens,
        }
        if cost is not None:
            totals[RunRow.cost] = func.coalesce(RunRow.cost, 0.0) + cost
        if estimated:
            totals[RunRow.usage_estimated] = True
        with Session(self.engine) as session:
            if session.exec(update(RunRow).where(col(RunRow.id) == run_id).values(totals)).rowcount == 0:
                raise RunNotFound(f"No run {run_id}.")
            session.commit()

    def end_run(
        self, run_id: str, status: RunStatus, *, answer: str | None = None, error: str | None = None
    ) -> RunRow:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise RunNotFound(f"No run {run_id}.")
            run.status, run.answer, run.error = status, answer, error
            run.ended_at = None if status == "running" else utcnow()
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def judge_run(self, run_id: str, judgement: str, reason: str) -> RunRow:
        """Record the judge's verdict (`success` or `failure`) on a finished run, and why."""
        if judgement not in ("success", "failure"):
            raise ValueError(f"unknown judgement {judgement!r}; success or failure")
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is None:
                raise RunNotFound(f"No run {run_id}.")
            run.judgement, run.judgement_reason = judgement, reason
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def get_run(self, run_id: str) -> RunRow:
        """A run by id or unique id prefix (as `hybrid runs show 3f2a` accepts)."""
        with Session(self.engine) as session:
            run = session.get(RunRow, run_id)
            if run is not None:
                return run
            matches = session.exec(select(RunRow).where(col(RunRow.id).startswith(run_id)).limit(2)).all()
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise RunNotFound(f"Run id prefix {run_id!r} is ambiguous; give more characters.")
        raise RunNotFound(f"No run {run_id!r}; `hybrid runs list` shows the recorded runs.")

    def list_runs(self, limit: int = 20) -> list[RunRow]:
        with Session(self.engine) as session:
            return list(
                session.exec(select(RunRow).order_by(col(RunRow.started_at).desc()).limit(limit)).all()
            )

    def steps_of(self, run_id: str) -> list[StepRow]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(StepRow).where(StepRow.run_id == run_id).order_by(col(StepRow.index))
                ).all()
            )

    def run_document(self, run_id: str) -> dict[str, Any]:
        """The run as plain JSON-ready data, its steps and their calls included: the one shape that
        `hybrid runs show --json`, the MCP server's `hybrid://runs/{id}` and the bench give."""
        run = self.get_run(run_id)
        steps = [
            {
                **step.model_dump(mode="json", exclude={"id", "run_id"}),
                "calls": [call.to_dict() for call in self.calls_of(step.id)],
            }
            for step in self.steps_of(run.id)
        ]
        document: dict[str, Any] = {**run.model_dump(mode="json"), "steps": steps}
        return document

    def calls_of(self, step_id: int | None) -> list[CallRecord]:
        """The calls step `step_id` made (none for a step not stored yet, which has no id)."""
        if step_id is None:
            return []
        with Session(self.engine) as session:
            rows = session.exec(
                select(CallRow).where(CallRow.step_id == step_id).order_by(col(CallRow.id))
            ).all()
            return [row.record() for row in rows]

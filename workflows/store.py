"""The SQL memory of runs: each run, its steps, and the capability calls each step made.

SQLite by default (one file, WAL mode so several processes can read and write), PostgreSQL by URL.
The schema is made and upgraded by the migrations in `workflows/migrations` when a store opens.
Workflows and their uses share this database (`workflows.memory`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, Text, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

from workflows.migrate import migrate

RUN_STATUSES = ("running", "finished", "max_steps", "max_wall_time", "max_tokens", "max_cost", "context_length",
                "refused", "error", "interrupted")
# A run that ended in one of these cannot be resumed; the others (running, error, interrupted) can.
FINAL_STATUSES = ("finished", "max_steps", "max_wall_time", "max_tokens", "max_cost", "context_length",
                  "refused")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Run(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    task: str = Field(sa_column=Column(Text, nullable=False))
    sites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    model: str
    policy: str = "allow"
    # Rows written before runs recorded it ran unisolated: the database's default says so.
    sandbox: str = Field(default="bubblewrap", sa_column_kwargs={"server_default": "none"},
                         description="how code actions were isolated: bubblewrap, or none if opted out")
    status: str = Field(default="running", index=True)
    answer: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    source: str | None = Field(default=None, description="where the task came from, e.g. demo-suite:12")
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    judgement: str | None = Field(default=None, description="the judge's verdict on a finished run: success, failure")
    judgement_reason: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None


class Step(SQLModel, table=True):
    __tablename__ = "steps"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True)
    index: int
    reply: str = Field(default="", sa_column=Column(Text, nullable=False))
    thought: str = Field(default="", sa_column=Column(Text, nullable=False))
    code: str | None = Field(default=None, sa_column=Column(Text))
    observation: str = Field(default="", sa_column=Column(Text, nullable=False))
    full_output: str = Field(default="", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    ok: bool = True
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    model_seconds: float = 0.0
    execute_seconds: float = 0.0
    created_at: datetime = Field(default_factory=utcnow)


class CapabilityCall(SQLModel, table=True):
    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(foreign_key="runs.id", index=True)
    step_id: int = Field(foreign_key="steps.id", index=True)
    capability: str
    target: str
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    writes: bool = False
    domain: str | None = None
    status: str
    result: str | None = Field(default=None, sa_column=Column(Text))
    error: str | None = Field(default=None, sa_column=Column(Text))
    latency_ms: float = 0.0


class RunNotFound(LookupError):
    """No run with that id (or prefix); the message says so."""


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _tune_sqlite)
        return engine
    url = make_url(database_url)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")  # the driver the `postgres` extra installs (psycopg 3)
    return create_engine(url, pool_pre_ping=True)


class StoreError(Exception):
    """The database cannot be opened; the message names it (without its password) and says why."""


class RunStore:
    """Reads and writes runs. Every write commits at once, so a crash loses nothing already recorded."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        try:
            self.engine = make_engine(database_url)
            migrate(self.engine)
        except (ImportError, SQLAlchemyError) as exc:
            shown = make_url(database_url).render_as_string(hide_password=True)
            hint = " (PostgreSQL needs: pip install 'hybrid-agent[postgres]')" if isinstance(exc, ImportError) else ""
            raise StoreError(f"Cannot open the database {shown}: {str(exc).splitlines()[0]}{hint}") from exc

    def start_run(self, task: str, *, sites: Iterable[str], model: str, policy: str,
                  source: str | None = None, run_id: str | None = None, sandbox: str = "bubblewrap") -> Run:
        run = Run(id=run_id or new_run_id(), task=task, sites=list(sites), model=model, policy=policy,
                  source=source, sandbox=sandbox)
        with Session(self.engine) as session:
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def add_step(self, step: Step, calls: Iterable[dict[str, Any]] = ()) -> Step:
        """Store a step with its capability calls (dicts with CallRecord's fields) and update run totals."""
        with Session(self.engine) as session:
            session.add(step)
            session.flush()
            for call in calls:
                session.add(CapabilityCall(
                    run_id=step.run_id, step_id=step.id, capability=call["capability"], target=call["target"],
                    arguments={"args": call.get("args", []), "kwargs": call.get("kwargs", {})},
                    writes=call.get("writes", False), domain=call.get("domain"), status=call["status"],
                    result=call.get("result"), error=call.get("error"),
                    latency_ms=round(call.get("latency", 0.0) * 1000, 3)))
            run = session.get(Run, step.run_id)
            if run is None:
                raise RunNotFound(f"No run {step.run_id} to add a step to.")
            run.steps = max(run.steps, step.index + 1)
            run.prompt_tokens += step.prompt_tokens
            run.completion_tokens += step.completion_tokens
            if step.cost is not None:
                run.cost = (run.cost or 0.0) + step.cost
            session.add(run)
            session.commit()
            session.refresh(step)
        return step

    def end_run(self, run_id: str, status: str, *, answer: str | None = None, error: str | None = None) -> Run:
        if status not in RUN_STATUSES:
            raise ValueError(f"unknown run status {status!r}; one of {', '.join(RUN_STATUSES)}")
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFound(f"No run {run_id}.")
            run.status, run.answer, run.error = status, answer, error
            run.ended_at = None if status == "running" else utcnow()
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def judge_run(self, run_id: str, judgement: str, reason: str) -> Run:
        """Record the judge's verdict (`success` or `failure`) on a finished run, and why."""
        if judgement not in ("success", "failure"):
            raise ValueError(f"unknown judgement {judgement!r}; success or failure")
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is None:
                raise RunNotFound(f"No run {run_id}.")
            run.judgement, run.judgement_reason = judgement, reason
            session.add(run)
            session.commit()
            session.refresh(run)
        return run

    def get_run(self, run_id: str) -> Run:
        """A run by id or unique id prefix (as `hybrid runs show 3f2a` accepts)."""
        with Session(self.engine) as session:
            run = session.get(Run, run_id)
            if run is not None:
                return run
            matches = session.exec(select(Run).where(col(Run.id).startswith(run_id)).limit(2)).all()
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise RunNotFound(f"Run id prefix {run_id!r} is ambiguous; give more characters.")
        raise RunNotFound(f"No run {run_id!r}; `hybrid runs list` shows the recorded runs.")

    def list_runs(self, limit: int = 20) -> list[Run]:
        with Session(self.engine) as session:
            return list(session.exec(select(Run).order_by(col(Run.started_at).desc()).limit(limit)).all())

    def steps_of(self, run_id: str) -> list[Step]:
        with Session(self.engine) as session:
            return list(session.exec(select(Step).where(Step.run_id == run_id).order_by(col(Step.index))).all())

    def calls_of(self, step_id: int) -> list[CapabilityCall]:
        with Session(self.engine) as session:
            return list(session.exec(select(CapabilityCall).where(CapabilityCall.step_id == step_id)
                                     .order_by(col(CapabilityCall.id))).all())


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]

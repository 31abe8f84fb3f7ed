"""Workflows and their uses, in the same database as runs.

A workflow is a named, versioned procedure for one site: a Python function over the kernel's `api` /
`browser` stubs (kind `program`) or a step-by-step guide with placeholders (kind `text`). Its status
moves candidate -> verified (re-execution reproduced its source run, or a real use succeeded) ->
deprecated (repeated failures). A repaired workflow is a new version; old versions stay for the record.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint, case, update
from sqlmodel import Field, Session, SQLModel, col, select

from sandbox.errors import HybridError
from workflows.program import rename_program
from workflows.status import DEPRECATE_AFTER_FAILURES, USE_OUTCOMES, WORKFLOW_STATUSES, WorkflowStatus
from workflows.store import CallRow, RunStore, utcnow

Status = WorkflowStatus
Kind = Literal["program", "text"]
STATUSES: tuple[Status, ...] = WORKFLOW_STATUSES
KINDS: tuple[Kind, ...] = ("program", "text")
# Verification states: never tried (None), or one of these.
PASSED, FAILED, AWAITING_USE = "passed", "failed", "awaiting-use"
# The newest tasks per site whose operations search weighs (older ones are kept, not read).
LEARNED_TASKS_KEPT = 500


class Workflow(SQLModel, table=True):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_workflows_name_version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    version: int = 1
    site: str = Field(index=True)
    kind: Kind = Field(default="program", sa_type=String)
    status: Status = Field(default="candidate", index=True, sa_type=String)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    intent_template: str = Field(default="", sa_column=Column(Text, nullable=False))
    parameters: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    body: str = Field(sa_column=Column(Text, nullable=False))
    operations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fingerprint: str = Field(index=True)
    writes: bool = False
    source_runs: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    source_arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    expected_answer: str | None = Field(default=None, sa_column=Column(Text))
    verification: str | None = None
    verification_note: str | None = Field(default=None, sa_column=Column(Text))
    success_count: int = 0
    failure_count: int = 0
    consecutive_failures: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    verified_at: datetime | None = None

    @property
    def signature(self) -> str:
        """How the model calls it, e.g. `close_issue(owner: str, project: str, number: int)`."""
        params = ", ".join(f"{p['name']}: {p.get('type', 'str')}" for p in self.parameters)
        return f"{self.name}({params})"

    @property
    def parameter_names(self) -> list[str]:
        return [p["name"] for p in self.parameters]

    def export(self) -> dict[str, Any]:
        """A JSON-ready record (no database ids), as `hybrid workflows export` writes it."""
        record = self.model_dump(exclude={"id"})
        exported: dict[str, Any] = json.loads(json.dumps(record, default=str))
        return exported


class WorkflowUse(SQLModel, table=True):
    __tablename__ = "workflow_uses"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: int = Field(foreign_key="workflows.id", index=True)
    run_id: str | None = Field(default=None, foreign_key="runs.id", index=True)
    step_index: int | None = None
    via: str = Field(description="kernel (wf.<name> in a run), fast-path, verification or cli")
    arguments: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: str = "started"
    error: str | None = Field(default=None, sa_column=Column(Text))
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class LearnedOperations(SQLModel, table=True):
    """The operations a successful run called on one site, in order, with its task's words: what search
    ranks first for a later task worded alike (see `apis.search`)."""

    __tablename__ = "learned_operations"
    __table_args__ = (UniqueConstraint("run_id", "site", name="uq_learned_operations_run_site"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(index=True)
    task: str = Field(sa_column=Column(Text, nullable=False))
    operations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    run_id: str = Field(foreign_key="runs.id")
    created_at: datetime = Field(default_factory=utcnow)


class WorkflowNotFound(HybridError, LookupError):
    """No workflow of that name (or version); the message says how to list them."""


class WorkflowStore(RunStore):
    """The run store plus workflows and their uses. Counts are updated in SQL, so concurrent processes
    never lose an increment."""

    def matching_workflows(self, task: str, sites: Iterable[str], k: int) -> list[Workflow]:
        """`workflows.retrieval.retrieve` on this store (as `workflows.lightstore` answers it)."""
        from workflows.retrieval import retrieve

        return retrieve(self, task, sites, k=k)

    def add_workflow(self, workflow: Workflow) -> Workflow:
        _name_the_def(workflow)
        with Session(self.engine) as session:
            session.add(workflow)
            session.commit()
            session.refresh(workflow)
        return workflow

    def get_workflow(self, name: str, version: int | None = None) -> Workflow:
        """The newest version of `name` (whatever its status), or the given version."""
        query = select(Workflow).where(Workflow.name == name)
        query = (
            query.where(Workflow.version == version)
            if version
            else query.order_by(col(Workflow.version).desc())
        )
        with Session(self.engine) as session:
            found = session.exec(query.limit(1)).first()
        if found is None:
            which = f"{name!r} version {version}" if version else repr(name)
            raise WorkflowNotFound(f"No workflow {which}; `hybrid workflows list` shows the stored ones.")
        return found

    def workflow_by_id(self, workflow_id: int) -> Workflow:
        with Session(self.engine) as session:
            found = session.get(Workflow, workflow_id)
        if found is None:
            raise WorkflowNotFound(f"No workflow with id {workflow_id}.")
        return found

    def list_workflows(
        self,
        *,
        sites: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        all_versions: bool = False,
    ) -> list[Workflow]:
        """Workflows by site and name; only each name's newest version unless `all_versions`."""
        query = select(Workflow).order_by(
            col(Workflow.site), col(Workflow.name), col(Workflow.version).desc()
        )
        if sites is not None:
            query = query.where(col(Workflow.site).in_(list(sites)))
        with Session(self.engine) as session:
            rows = list(session.exec(query).all())
        if not all_versions:
            newest: dict[str, Workflow] = {}
            for row in rows:
                newest.setdefault(row.name, row)
            rows = list(newest.values())
        if statuses is not None:
            wanted = set(statuses)
            rows = [row for row in rows if row.status in wanted]
        return rows

    def name_taken(self, name: str) -> bool:
        with Session(self.engine) as session:
            return session.exec(select(Workflow.id).where(Workflow.name == name).limit(1)).first() is not None

    def add_evidence(self, workflow_id: int, run_id: str) -> Workflow:
        """Another successful run did what this workflow does: note it as a source run."""
        with Session(self.engine) as session:
            workflow = session.get(Workflow, workflow_id)
            if workflow is None:
                raise WorkflowNotFound(f"No workflow with id {workflow_id}.")
            if run_id not in workflow.source_runs:
                workflow.source_runs = [*workflow.source_runs, run_id]
                workflow.updated_at = utcnow()
                session.add(workflow)
                session.commit()
                session.refresh(workflow)
        return workflow

    def add_version(self, previous: Workflow, replacement: Workflow) -> Workflow:
        """Store `replacement` as the next version of `previous`'s name; the old one is deprecated, kept."""
        with Session(self.engine) as session:
            newest = session.exec(
                select(Workflow)
                .where(Workflow.name == previous.name)
                .order_by(col(Workflow.version).desc())
                .limit(1)
            ).one()
            replacement.name, replacement.version = previous.name, newest.version + 1
            _name_the_def(replacement)
            session.exec(
                update(Workflow)
                .where(col(Workflow.name) == previous.name, col(Workflow.status) != "deprecated")
                .values(status="deprecated", updated_at=utcnow())
            )
            session.add(replacement)
            session.commit()
            session.refresh(replacement)
        return replacement

    def set_status(
        self, workflow_id: int, status: Status, *, verification: str | None = None, note: str | None = None
    ) -> Workflow:
        if status not in STATUSES:
            raise ValueError(f"unknown workflow status {status!r}; one of {', '.join(STATUSES)}")
        with Session(self.engine) as session:
            workflow = session.get(Workflow, workflow_id)
            if workflow is None:
                raise WorkflowNotFound(f"No workflow with id {workflow_id}.")
            workflow.status = status
            workflow.updated_at = utcnow()
            if verification is not None:
                workflow.verification = verification
                if verification == PASSED:
                    workflow.verified_at = utcnow()
            if note is not None:
                workflow.verification_note = note
            session.add(workflow)
            session.commit()
            session.refresh(workflow)
        return workflow

    def start_use(
        self,
        workflow_id: int,
        *,
        via: str,
        arguments: dict[str, Any],
        run_id: str | None = None,
        step_index: int | None = None,
    ) -> int:
        use = WorkflowUse(
            workflow_id=workflow_id, via=via, arguments=arguments, run_id=run_id, step_index=step_index
        )
        with Session(self.engine) as session:
            session.add(use)
            session.commit()
            assert use.id is not None
            return use.id

    def finish_use(self, use_id: int, *, outcome: str, error: str | None = None) -> Workflow:
        """Record a use's outcome, as the host judged it, and update its workflow's counts and status in one
        transaction: a `success` resets the failure streak; the `DEPRECATE_AFTER_FAILURES`-th `failure` in a
        row deprecates the workflow. A `task-failure` (the task named what does not exist), `no-calls`
        (begun, never run), `unconfirmed` (a failure seen in the model's code that no clean re-run could
        confirm) and `not-reproduced` (one a clean re-run did not reproduce: see
        `workflows.kernel.confirm_failure`) count for nothing. Successes verify a candidate only through
        `credit_run`."""
        if outcome not in USE_OUTCOMES:
            raise ValueError(f"unknown use outcome {outcome!r}; one of {', '.join(USE_OUTCOMES)}")
        now = utcnow()
        with Session(self.engine) as session:
            use = session.get(WorkflowUse, use_id)
            if use is None:
                raise LookupError(f"No workflow use {use_id}.")
            if use.outcome != "started":
                raise ValueError(f"Workflow use {use_id} already ended ({use.outcome}).")
            use.outcome, use.error, use.ended_at = outcome, error, now
            session.add(use)
            session.flush()
            changes = {"success": _success_changes, "failure": _failure_changes}.get(outcome)
            if changes is not None:
                session.exec(
                    update(Workflow).where(col(Workflow.id) == use.workflow_id).values(**changes(now))
                )
            session.commit()
            workflow = session.get(Workflow, use.workflow_id)
            assert workflow is not None
            session.refresh(workflow)
            return workflow

    def credit_run(self, run_id: str) -> list[Workflow]:
        """Run `run_id` was judged to have done its task: each candidate it used successfully, awaiting a real
        use, is verified by it. Returns the workflows verified."""
        now = utcnow()
        with Session(self.engine) as session:
            used = session.exec(
                select(WorkflowUse.workflow_id).where(
                    WorkflowUse.run_id == run_id, WorkflowUse.outcome == "success"
                )
            ).all()
            promoted = list(
                session.exec(
                    select(Workflow).where(
                        col(Workflow.id).in_(set(used)),
                        Workflow.status == "candidate",
                        Workflow.verification == AWAITING_USE,
                    )
                ).all()
            )
            for workflow in promoted:
                workflow.status, workflow.verification = "verified", PASSED
                workflow.verified_at = workflow.updated_at = now
                workflow.verification_note = f"verified by its successful use in run {run_id}"
                session.add(workflow)
            session.commit()
            for workflow in promoted:
                session.refresh(workflow)
        return promoted

    def overrule_uses(self, run_id: str, reason: str) -> list[Workflow]:
        """A judge outside the host (a benchmark's evaluator) rejected the effect of run `run_id`, which its
        workflows did alone (the fast path): each use of it the host had judged a success is a failure after
        all, counted as one (see `finish_use`). Returns the workflows it counted against, as they now
        stand."""
        now = utcnow()
        with Session(self.engine) as session:
            uses = list(
                session.exec(
                    select(WorkflowUse).where(WorkflowUse.run_id == run_id, WorkflowUse.outcome == "success")
                ).all()
            )
            for use in uses:
                use.outcome, use.error = "failure", reason
                session.add(use)
                changes = {**_failure_changes(now), "success_count": col(Workflow.success_count) - 1}
                session.exec(update(Workflow).where(col(Workflow.id) == use.workflow_id).values(**changes))
            session.commit()
            found = [session.get(Workflow, i) for i in dict.fromkeys(u.workflow_id for u in uses)]
            for workflow in found:
                if workflow is not None:
                    session.refresh(workflow)
        return [workflow for workflow in found if workflow is not None]

    def failed_in_run(self, run_id: str) -> list[Workflow]:
        """The workflows whose use in run `run_id` failed and never succeeded later in it, first failure
        first: what the run's own way of doing the task may repair. A failure no clean re-run could confirm
        (`unconfirmed`) counts here, not against the workflow's streak; one a re-run did not reproduce
        (`not-reproduced`: the workflow worked) does not."""
        with Session(self.engine) as session:
            uses = session.exec(
                select(WorkflowUse).where(WorkflowUse.run_id == run_id).order_by(col(WorkflowUse.id))
            ).all()
            failed = [u.workflow_id for u in uses if u.outcome in ("failure", "unconfirmed")]
            succeeded = {u.workflow_id for u in uses if u.outcome == "success"}
            found = [
                session.get(Workflow, workflow_id)
                for workflow_id in dict.fromkeys(failed)
                if workflow_id not in succeeded
            ]
        return [workflow for workflow in found if workflow is not None]

    def api_operations_called(self, run_id: str) -> dict[str, list[str]]:
        """The API operations run `run_id` called successfully, in first-call order, by the site's name in
        code (`api.<site>.<operation>`): `{"demo": ["list_issues", "update_issue"]}`."""
        with Session(self.engine) as session:
            targets = session.exec(
                select(CallRow.target)
                .where(CallRow.run_id == run_id, CallRow.capability == "api", CallRow.status == "ok")
                .order_by(col(CallRow.id))
            ).all()
        called: dict[str, list[str]] = {}
        for target in targets:
            site, _, operation = target.partition(".")
            if operation and operation not in called.setdefault(site, []):
                called[site].append(operation)
        return called

    def remember_operations(self, run_id: str, site: str, task: str, operations: Sequence[str]) -> bool:
        """Keep what successful run `run_id` called on `site` for its `task`; once per run and site (False
        if it was kept already or there is nothing to keep)."""
        if not operations:
            return False
        with Session(self.engine) as session:
            kept = session.exec(
                select(LearnedOperations.id).where(
                    LearnedOperations.run_id == run_id, LearnedOperations.site == site
                )
            ).first()
            if kept is not None:
                return False
            session.add(LearnedOperations(site=site, task=task, operations=list(operations), run_id=run_id))
            session.commit()
        return True

    def learned_operations(self, site: str, limit: int = LEARNED_TASKS_KEPT) -> list[LearnedOperations]:
        """What successful runs on `site` called, with their tasks, newest first (at most `limit`)."""
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(LearnedOperations)
                    .where(LearnedOperations.site == site)
                    .order_by(col(LearnedOperations.id).desc())
                    .limit(limit)
                ).all()
            )

    def uses_of(self, workflow_id: int) -> list[WorkflowUse]:
        with Session(self.engine) as session:
            return list(
                session.exec(
                    select(WorkflowUse)
                    .where(WorkflowUse.workflow_id == workflow_id)
                    .order_by(col(WorkflowUse.id))
                ).all()
            )


def _name_the_def(workflow: Workflow) -> None:
    """A stored program's `def` is its workflow's name, always (the kernel defines it by that name)."""
    if workflow.kind == "program":
        workflow.body = rename_program(workflow.body, workflow.name)


def _success_changes(now: datetime) -> dict[str, Any]:
    return {"success_count": col(Workflow.success_count) + 1, "consecutive_failures": 0, "updated_at": now}


def _failure_changes(now: datetime) -> dict[str, Any]:
    streak = col(Workflow.consecutive_failures) + 1
    return {
        "failure_count": col(Workflow.failure_count) + 1,
        "consecutive_failures": streak,
        "status": case((streak >= DEPRECATE_AFTER_FAILURES, "deprecated"), else_=col(Workflow.status)),
        "updated_at": now,
    }

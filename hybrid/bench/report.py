"""A benchmark's results: one record per task, summaries by category, and the JSON report file.

The report is rewritten after every task (atomically), so an interrupted benchmark loses nothing
already judged and `--resume` continues with the tasks it has no result for.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean

from pydantic import BaseModel, Field, ValidationError

from sandbox.errors import HybridError
from workflows.status import RunStatus

CATEGORIES = {"api": "API-only", "ui": "UI", "mixed": "mixed"}


class ReportError(HybridError):
    """A report file cannot be read or does not belong to this benchmark; the message says what to do."""


class TaskResult(BaseModel):
    """How one task went: the run, the evaluator's verdict, and what it cost."""

    task_id: int
    name: str | None = Field(default=None, description="the task's published id, for suites that number none")
    category: str
    sites: list[str] = Field(default_factory=list)
    eval_types: list[str] = Field(default_factory=list, description="the evaluators that judged it")
    mode: str = Field(default="hybrid", description="hybrid, api (no browser) or browser (no api.*)")
    passed: bool
    status: RunStatus = Field(description="the run's status, or `error` when the task could not run")
    run_id: str | None = None
    answer: str | None = None
    failures: list[str] = Field(default_factory=list, description="why the evaluator rejected the outcome")
    error: str | None = None
    steps: int = 0
    tokens: int = 0
    cost: float | None = None
    seconds: float = 0.0
    worker: str = ""
    template: int | None = Field(default=None, description="the task's intent template: its family")
    wrong_writes: int = Field(
        default=0, description="writes the task did not ask for (see hybrid.bench.side_effects)"
    )
    node: str | None = Field(default=None, description="the Ray node the task ran on (--executor ray)")
    screenshot: str | None = Field(default=None, description="the page the run ended on (a JPEG file)")


class CategorySummary(BaseModel):
    category: str
    tasks: int
    passed: int
    success_rate: float
    steps: float = Field(description="mean per task")
    tokens: float = Field(description="mean per task")
    cost: float | None = Field(description="mean per task, when the model reported costs")
    seconds: float = Field(description="mean per task")


def summarise(category: str, results: list[TaskResult]) -> CategorySummary:
    costs = [r.cost for r in results if r.cost is not None]
    return CategorySummary(
        category=category,
        tasks=len(results),
        passed=sum(r.passed for r in results),
        success_rate=sum(r.passed for r in results) / len(results) if results else 0.0,
        steps=mean(r.steps for r in results) if results else 0.0,
        tokens=mean(r.tokens for r in results) if results else 0.0,
        cost=mean(costs) if costs else None,
        seconds=mean(r.seconds for r in results) if results else 0.0,
    )


class Report(BaseModel):
    """The JSON report of one benchmark (suite and model), across resumed sessions."""

    suite: str
    model: str
    executor: str
    parallel: int
    database: str = Field(description="where the runs are recorded (password hidden)")
    memory: str = Field(default="off", description="off, or online: memory grows from empty, task by task")
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    wall_seconds: float = Field(default=0.0, description="time spent running, summed over resumed sessions")
    selected: list[int] = Field(default_factory=list, description="the task ids this benchmark runs")
    mode: str = "hybrid"
    refused: list[str] = Field(
        default_factory=list, description="tasks of the suite that cannot run, and why"
    )
    results: list[TaskResult] = Field(default_factory=list)
    summary: list[CategorySummary] = Field(default_factory=list)
    by_evaluator: list[CategorySummary] = Field(
        default_factory=list, description="a task counts under each evaluator type that judged it"
    )

    def done(self) -> set[int]:
        return {result.task_id for result in self.results}

    def add(self, result: TaskResult) -> None:
        self.results = [r for r in self.results if r.task_id != result.task_id] + [result]
        self.updated_at = datetime.now(UTC)
        self.summary = self.by_category()
        self.by_evaluator = self.by_eval_type()

    def by_category(self) -> list[CategorySummary]:
        """A summary for each category present, in the order api, ui, mixed, then `all`."""
        present = [c for c in CATEGORIES if any(r.category == c for r in self.results)]
        present += sorted({r.category for r in self.results} - set(CATEGORIES))
        rows = [summarise(c, [r for r in self.results if r.category == c]) for c in present]
        return [*rows, summarise("all", self.results)]

    def by_eval_type(self) -> list[CategorySummary]:
        types = sorted({t for r in self.results for t in r.eval_types})
        return [summarise(t, [r for r in self.results if t in r.eval_types]) for t in types]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(self.model_dump_json(indent=2), encoding="utf-8")
        os.replace(partial, path)  # a reader (or a kill) never sees half a report

    @classmethod
    def load(cls, path: Path) -> Report:
        try:
            return cls.model_validate_json(path.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ReportError(
                f"{path}: not a benchmark report ({str(exc).splitlines()[0]}); remove it or choose "
                "another --report."
            ) from exc

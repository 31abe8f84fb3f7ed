"""`--report report.html`: one self-contained page (no scripts or styles from elsewhere) with success by
category (WebArena: by site) and by evaluator type as bar charts, one bar per mode, and every task linked to
its run: each step's thought, code, output and calls, and the page the run ended on."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hybrid.bench.report import CATEGORIES, CategorySummary, Report, TaskResult
from workflows.reading import StoreError
from workflows.store import RunStore

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html", "jinja"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Bar:
    mode: str
    rate: float
    passed: int
    tasks: int


@dataclass(frozen=True)
class Chart:
    title: str
    groups: list[tuple[str, list[Bar]]]

    @property
    def bars(self) -> int:
        return sum(len(bars) for _, bars in self.groups)


@dataclass(frozen=True)
class StepView:
    index: int
    thought: str
    code: str | None
    observation: str
    calls: list[str]


@dataclass(frozen=True)
class RunView:
    anchor: str
    result: TaskResult
    steps: list[StepView]
    screenshot: str | None  # a data: URI, so the page carries it


def _chart(title: str, reports: list[Report], rows: dict[str, list[CategorySummary]]) -> Chart:
    names: list[str] = []
    for report in reports:
        names += [row.category for row in rows[report.mode] if row.category not in names]
    groups = []
    for name in names:
        bars = [
            Bar(report.mode, row.success_rate, row.passed, row.tasks)
            for report in reports
            for row in rows[report.mode]
            if row.category == name
        ]
        groups.append((CATEGORIES.get(name, name), bars))
    return Chart(title, groups)


def _run_view(store: RunStore, result: TaskResult) -> RunView:
    steps: list[StepView] = []
    if result.run_id is not None:
        try:
            rows = store.steps_of(result.run_id)
        except StoreError:
            rows = []
        for row in rows:
            calls = [call.describe(200) for call in store.calls_of(row.id)] if row.id is not None else []
            steps.append(StepView(row.index, row.thought, row.code, row.observation, calls))
    shot = Path(result.screenshot) if result.screenshot else None
    screenshot = (
        "data:image/jpeg;base64," + base64.b64encode(shot.read_bytes()).decode()
        if shot is not None and shot.is_file()
        else None
    )
    return RunView(f"run-{result.mode}-{result.task_id}", result, steps, screenshot)


def write_html(path: Path, reports: list[Report], store: RunStore) -> None:
    """The page for the reports of one suite and model, one report per mode."""
    by_category = _chart("Success by category", reports, {r.mode: r.summary for r in reports})
    by_type = _chart("Success by evaluator type", reports, {r.mode: r.by_evaluator for r in reports})
    task_ids = sorted({result.task_id for report in reports for result in report.results})
    results = {(r.mode, r.task_id): r for report in reports for r in report.results}
    runs = [_run_view(store, result) for report in reports for result in report.results]
    html = TEMPLATES.get_template("report.html.jinja").render(
        reports=reports,
        modes=[report.mode for report in reports],
        charts=[chart for chart in (by_category, by_type) if chart.groups],
        task_ids=task_ids,
        results=results,
        runs=runs,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")

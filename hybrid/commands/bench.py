"""`hybrid bench`: run a task suite, judge every task, and report success by category."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from hybrid.bench.executors import ExecutorError, ExecutorKind
from hybrid.bench.report import CATEGORIES, Report, ReportError, TaskResult
from hybrid.bench.runner import DEMO, BenchError, BenchOptions, report_path, run_benchmark
from hybrid.bench.sites import SiteSetupError
from hybrid.bench.suite import SuiteError, Task
from hybrid.bench.worker import REFERENCE_MODEL
from hybrid.commands.display import format_cost
from hybrid.commands.run import INTERRUPTED_EXIT_CODE, resolve_model, sandbox_options
from hybrid.config import load_settings


class BenchProgress:
    """A progress bar for the benchmark, with one line per task as it is judged."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[passed]} passed"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        )
        self.bar = self.progress.add_task("tasks", total=None, passed=0)
        self.passed = 0

    def start(self, report: Report, todo: list[Task]) -> None:
        done = len(report.done())
        self.passed = sum(r.passed for r in report.results)
        if done:
            self.console.print(f"Resuming: {done} task(s) already judged, {len(todo)} to go.")
        self.progress.update(
            self.bar,
            description=f"{report.suite} · {report.model}",
            total=done + len(todo),
            completed=done,
            passed=self.passed,
        )
        self.progress.start()

    def result(self, result: TaskResult) -> None:
        self.passed += result.passed
        mark = "[green]✓[/]" if result.passed else "[red]✗[/]"
        why = (
            "" if result.passed else f" [dim]{'; '.join(result.failures) or result.error or result.status}[/]"
        )
        self.console.print(
            f"{mark} task {result.task_id} ({result.category}) · {result.status} · {result.steps} "
            f"steps · {format_cost(result.cost)} · {result.seconds:.1f} s{why}",
            highlight=False,
        )
        self.progress.update(self.bar, advance=1, passed=self.passed)

    def stop(self) -> None:
        self.progress.stop()


def summary_table(report: Report) -> Table:
    table = Table(title=f"{report.suite} with {report.model}: per task, mean of each category")
    for column in ("category", "tasks", "passed", "success", "steps", "tokens", "cost", "time"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for row in report.summary:
        table.add_row(
            CATEGORIES.get(row.category, row.category),
            str(row.tasks),
            str(row.passed),
            f"{row.success_rate:.0%}",
            f"{row.steps:.1f}",
            f"{row.tokens:,.0f}",
            "-" if row.cost is None else f"${row.cost:.4f}",
            f"{row.seconds:.1f} s",
            style="bold" if row.category == "all" else None,
        )
    return table


@click.command(name="bench")
@click.argument("suite", default=DEMO)
@click.option(
    "--model",
    help=f"Chat model as provider:name, or `{REFERENCE_MODEL}` to replay each task's "
    "reference solution (a scripted model: measures the agent and sites, not a model). "
    "Default: HYBRID_MODEL.",
)
@click.option(
    "--parallel",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Tasks at once; each worker has its own site, data dir, kernels and browser.",
)
@click.option("--tasks", "task_ids", help="Task ids and ranges to run, e.g. 0-9,12 (default: all).")
@click.option(
    "--category",
    "categories",
    multiple=True,
    type=click.Choice(list(CATEGORIES)),
    help="Only tasks of this category (repeatable).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the benchmark in the report: run only tasks it has no result for.",
)
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: worker processes on this machine; ray: actors on a Ray cluster.",
)
@click.option(
    "--ray-address",
    help="Ray cluster to use (e.g. ray://head:10001 or auto); default: start a "
    "local Ray instance for this benchmark.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSON report to write (default: DATA_DIR/bench/SUITE-MODEL.json).",
)
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for the model.")
@click.option(
    "--site-setup",
    "site_setups",
    multiple=True,
    metavar="NAME=MODULE:FUNCTION",
    help="How workers start, register, reset and judge site NAME (the demo site's is built in).",
)
@sandbox_options
def bench_command(
    suite: str,
    model: str | None,
    parallel: int,
    task_ids: str | None,
    categories: tuple[str, ...],
    resume: bool,
    executor: ExecutorKind,
    ray_address: str | None,
    report_file: Path | None,
    base_url: str | None,
    site_setups: tuple[str, ...],
    sandbox: str | None,
    kernel_network: bool | None,
) -> None:
    """Run task suite SUITE (`demo`, the built-in one, or a JSON Lines file in the same format), each task
    on a freshly reset site with a fresh kernel, judge it with its evaluator, and print success, steps,
    tokens, cost and time per task by category (API-only, UI, mixed).

    Runs are recorded in the configured database (HYBRID_DATABASE_URL; PostgreSQL for a Ray cluster,
    whose workers must all reach it). The JSON report is saved after every task, so a benchmark stopped
    by Ctrl-C or a crash continues with --resume.

    \b
    hybrid bench --model reference --parallel 2
    hybrid bench --model openai:gpt-4o-mini --category api --tasks 0-9
    hybrid bench my-suite.jsonl --model ollama:qwen2.5-coder --site-setup gitea=mysites:gitea --resume
    """
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    spec = model or settings.model
    if spec != REFERENCE_MODEL:
        spec, _ = resolve_model(settings, spec, base_url)  # fail now on a missing key, not in every worker
    options = BenchOptions(
        model=spec,
        suite=suite,
        parallel=parallel,
        tasks=task_ids,
        categories=categories,
        resume=resume,
        executor=executor,
        ray_address=ray_address,
        report=report_file,
        base_url=base_url,
        site_setups=site_setups,
    )
    console = Console()
    path = report_path(settings, options)
    display = BenchProgress(console)
    try:
        report = run_benchmark(settings, options, on_start=display.start, on_result=display.result)
    except KeyboardInterrupt:
        display.stop()
        console.print(
            f"\n[yellow]Stopped.[/] The tasks judged so far are in {path}; run the same command with "
            "--resume to continue."
        )
        sys.exit(INTERRUPTED_EXIT_CODE)
    except (BenchError, SuiteError, ReportError, SiteSetupError, ExecutorError) as exc:
        display.stop()
        raise click.UsageError(str(exc)) from exc
    display.stop()
    console.print(summary_table(report))
    console.print(
        f"wall time {report.wall_seconds:.1f} s · {len(report.results)} task(s) · report {path}",
        soft_wrap=True,
    )

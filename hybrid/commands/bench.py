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

from hybrid.agent.model_spec import SCRIPTED_PREFIX
from hybrid.bench.executors import ExecutorError, ExecutorKind
from hybrid.bench.hosts import HostsError
from hybrid.bench.html import write_html
from hybrid.bench.infinity import InfinityError
from hybrid.bench.report import CATEGORIES, Report, ReportError, TaskResult
from hybrid.bench.runner import DEMO, BenchError, BenchOptions, report_path, run_benchmark
from hybrid.bench.sites import SiteSetupError
from hybrid.bench.suite import SuiteError
from hybrid.bench.webarena import WebArenaError
from hybrid.bench.worker import MODES, REFERENCE_MODEL, BenchTask, Memory
from hybrid.commands.console import make_console
from hybrid.commands.display import format_cost
from hybrid.commands.run import INTERRUPTED_EXIT_CODE, NO_MODEL, resolve_model, sandbox_options
from hybrid.config import Settings, load_settings
from workflows.store import RunStore


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

    def start(self, report: Report, todo: list[BenchTask]) -> None:
        for refusal in report.refused:
            self.console.print(f"[yellow]refused[/] {refusal}", highlight=False)
        done = len(report.done())
        self.passed = sum(r.passed for r in report.results)
        if done:
            self.console.print(f"Resuming: {done} task(s) already judged, {len(todo)} to go.")
        self.progress.update(
            self.bar,
            description=f"{report.suite} · {report.model} · {report.mode}",
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
            f"{mark} task {result.task_id}{f' {result.name}' if result.name else ''} ({result.category}, "
            f"{result.mode}) · {result.status} · "
            f"{result.steps} steps · {format_cost(result.cost)} · {result.seconds:.1f} s{why}",
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


def family_table(report: Report) -> Table:
    """Per template family, in suite order: success, and steps, tokens and wrong writes per task in order."""
    table = Table("family", "tasks", "passed", "steps", "tokens", "wrong writes", title="By template family")
    families: dict[int | None, list[TaskResult]] = {}
    for result in sorted(report.results, key=lambda r: r.task_id):
        families.setdefault(result.template, []).append(result)
    for template, results in families.items():
        table.add_row(
            str(template),
            str(len(results)),
            f"{sum(r.passed for r in results)}/{len(results)}",
            " → ".join(str(r.steps) for r in results),
            " → ".join(str(r.tokens) for r in results),
            str(sum(r.wrong_writes for r in results)),
        )
    return table


def modes_table(reports: list[Report]) -> Table:
    """Success side by side, one column per mode: by category (site) and by evaluator type, as Beyond
    Browsing's table puts browsing, API and hybrid agents."""
    table = Table(title=f"{reports[0].suite} with {reports[0].model}: success by mode")
    table.add_column("tasks by")
    for report in reports:
        table.add_column(report.mode, justify="right")
    rows: dict[str, dict[str, str]] = {}
    for report in reports:
        for row in [*report.summary, *report.by_evaluator]:
            name = CATEGORIES.get(row.category, row.category)
            rows.setdefault(name, {})[report.mode] = f"{row.success_rate:.0%} ({row.passed}/{row.tasks})"
    for name, cells in rows.items():
        table.add_row(
            name, *(cells.get(r.mode, "-") for r in reports), style="bold" if name == "all" else None
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
    help="Only tasks of this category (repeatable): api, ui or mixed; for WebArena's configs, their sites "
    "(gitlab, shopping_admin, gitlab+reddit, ...); for WebArena-Infinity's, easy, medium, hard or function.",
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
    help="Report to write: FILE.json, or FILE.html for a page of charts and runs (with FILE.json beside it). "
    "Default: DATA_DIR/bench/SUITE-MODEL.json.",
)
@click.option("--base-url", help="Base URL of an OpenAI-compatible server for the model.")
@click.option(
    "--site-setup",
    "site_setups",
    multiple=True,
    metavar="NAME=MODULE:FUNCTION",
    help="How workers start, register, reset and judge site NAME (the demo site's is built in).",
)
@click.option(
    "--memory",
    type=click.Choice(["off", "online"]),
    default="off",
    show_default=True,
    help="off: each task alone; online: the tasks in order, workflow memory growing from empty "
    "(the fast path and learning on), with figures per template family.",
)
@click.option(
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(MODES),
    help="hybrid: API and browser; api: no browser; browser: no api.* (repeat to compare them side by side; "
    "default hybrid).",
)
@click.option(
    "--hosts",
    "hosts_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="TOML file with the user's hosts for the suite's sites (WebArena's __GITLAB__ ...): url, spec, "
    "api_url, sign-in; auth_dir for storage_state files.",
)
@click.option("--host", "hosts", multiple=True, metavar="NAME=URL", help="A site's web URL, over --hosts.")
@click.option("--judge-model", help="Model that judges WebArena's fuzzy_match answers (default: --model).")
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
    modes: tuple[str, ...],
    hosts_file: Path | None,
    hosts: tuple[str, ...],
    judge_model: str | None,
    sandbox: str | None,
    kernel_network: bool | None,
    memory: Memory,
) -> None:
    """Run task suite SUITE (`demo`, the built-in one, a JSON Lines file in the same format, WebArena's
    configs: test.raw.json, a per-task config file or a folder of them, or WebArena-Infinity's apps: an app
    folder or a folder of them, each app started from its folder and judged by its verifiers), each task
    on a freshly reset site with a fresh kernel, judge it with its evaluator, and print success, steps,
    tokens, cost and time per task by category (API-only, UI, mixed).

    Runs are recorded in the configured database (HYBRID_DATABASE_URL; PostgreSQL for a Ray cluster,
    whose workers must all reach it). The JSON report is saved after every task, so a benchmark stopped
    by Ctrl-C or a crash continues with --resume.

    \b
    hybrid bench --model reference --parallel 2
    hybrid bench --model openai:gpt-4o-mini --category api --tasks 0-9
    hybrid bench my-suite.jsonl --model ollama:qwen2.5-coder --site-setup gitea=mysites:gitea --resume
    hybrid bench webarena/test.raw.json --hosts hosts.toml --model M --mode hybrid --mode api --mode browser
    hybrid bench webarena-infinity/apps --model scripted:replies --category easy --mode browser
    """
    settings = load_settings(sandbox=sandbox, kernel_network=kernel_network)
    spec = model or settings.model
    if not spec:
        raise click.UsageError(NO_MODEL)
    if spec != REFERENCE_MODEL and not Path(spec.removeprefix(SCRIPTED_PREFIX)).is_dir():
        resolve_model(settings, spec, base_url)  # fail now on a missing key, not in every worker
    console = make_console()
    reports = []
    for mode in modes or ("hybrid",):
        options = BenchOptions(
            model=spec,
            suite=suite,
            parallel=parallel,
            tasks=task_ids,
            categories=categories,
            resume=resume,
            executor=executor,
            ray_address=ray_address,
            report=_mode_report(report_file, mode, len(modes) > 1),
            base_url=base_url,
            site_setups=site_setups,
            mode=mode,  # type: ignore[arg-type]
            hosts_file=hosts_file,
            hosts=hosts,
            judge_model=judge_model,
            memory=memory,
        )
        reports.append(_bench_one(console, settings, options))
    if len(reports) > 1:
        console.print(modes_table(reports))
    if report_file is not None and report_file.suffix == ".html":
        write_html(report_file, reports, RunStore(settings.effective_database_url))
        console.print(f"HTML report {report_file}", soft_wrap=True)


def _mode_report(report_file: Path | None, mode: str, several: bool) -> Path | None:
    """With several modes, each has its own report: report.json, report-api.json, report-browser.json. An
    HTML report (report.html) has its JSON reports beside it (report.json, ...)."""
    if report_file is None:
        return None
    json_file = report_file.with_suffix(".json")
    if not several or mode == "hybrid":
        return json_file
    return json_file.with_name(f"{json_file.stem}-{mode}.json")


def _bench_one(console: Console, settings: Settings, options: BenchOptions) -> Report:
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
    except (
        BenchError,
        SuiteError,
        ReportError,
        SiteSetupError,
        ExecutorError,
        HostsError,
        WebArenaError,
        InfinityError,
    ) as exc:
        display.stop()
        raise click.UsageError(str(exc)) from exc
    display.stop()
    console.print(summary_table(report))
    if report.memory == "online":
        console.print(family_table(report))
    console.print(
        f"wall time {report.wall_seconds:.1f} s · {len(report.results)} task(s) · report {path}",
        soft_wrap=True,
    )
    return report

"""Running a task suite: choose the tasks, run them on an executor, judge each, keep the report.

report = run_benchmark(load_settings(), BenchOptions(model="reference", parallel=2))
for row in report.summary: print(row.category, row.success_rate)
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from hybrid.bench.executors import ExecutorKind, make_executor
from hybrid.bench.hosts import check_hosted, load_hosts
from hybrid.bench.infinity import is_infinity, load_infinity
from hybrid.bench.report import Report, ReportError, TaskResult
from hybrid.bench.sites import check_sites, parse_setups
from hybrid.bench.suite import DEMO_SUITE, load_suite
from hybrid.bench.webarena import is_webarena, load_webarena
from hybrid.bench.worker import BenchTask, Memory, Mode, WorkerConfig
from hybrid.config import Settings
from sandbox.errors import HybridError
from workflows.store import RunStore

DEMO = "demo"


class BenchError(HybridError):
    """The benchmark cannot run as asked; the message says what to change."""


@dataclass(frozen=True)
class BenchOptions:
    model: str
    suite: str = DEMO  # `demo`, or a path to a suite file in the same format
    parallel: int = 1
    tasks: str | None = None  # e.g. "0-9,12"
    categories: tuple[str, ...] = ()
    resume: bool = False
    executor: ExecutorKind = "local"
    ray_address: str | None = None
    report: Path | None = None
    base_url: str | None = None
    site_setups: tuple[str, ...] = field(default_factory=tuple)  # NAME=module:function
    memory: Memory = "off"  # online: the tasks in order, memory growing from empty (AWM's online setting)
    mode: Mode = "hybrid"
    hosts_file: Path | None = None  # the user's hosts for the suite's sites (see hybrid.bench.hosts)
    hosts: tuple[str, ...] = field(default_factory=tuple)  # NAME=URL, over the hosts file
    judge_model: str | None = None  # for WebArena's fuzzy_match


def suite_path(suite: str) -> Path:
    return DEMO_SUITE if suite == DEMO else Path(suite)


@dataclass(frozen=True)
class LoadedSuite:
    tasks: Sequence[BenchTask]
    refused: list[str] = field(default_factory=list)  # one line each, for WebArena's and Infinity's files
    apps: dict[str, Path] = field(default_factory=dict)  # WebArena-Infinity's: site name -> app folder


def load_tasks(suite: str) -> LoadedSuite:
    """The suite's tasks: our JSON Lines, WebArena's configs, or WebArena-Infinity's apps and task lists."""
    path = suite_path(suite)
    if is_infinity(path):
        infinity = load_infinity(path)
        return LoadedSuite(infinity.tasks, infinity.refused, infinity.apps)
    if is_webarena(path):
        loaded = load_webarena(path)
        return LoadedSuite(loaded.tasks, [f"task {r.task_id}: {r.reason}" for r in loaded.refused])
    return LoadedSuite(load_suite(path))


def parse_task_ids(spec: str) -> set[int]:
    """`"0-4,9"` -> {0, 1, 2, 3, 4, 9}."""
    ids: set[int] = set()
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise BenchError(f"--tasks: {part!r} is not a task id or range; write e.g. 0-4,9")
        low, high = int(match[1]), int(match[2] or match[1])
        ids.update(range(low, high + 1))
    return ids


def select_tasks(tasks: Sequence[BenchTask], ids: str | None, categories: tuple[str, ...]) -> list[BenchTask]:
    chosen = list(tasks)
    if ids is not None:
        wanted = parse_task_ids(ids)
        unknown = sorted(wanted - {t.task_id for t in tasks})
        if unknown:
            raise BenchError(f"--tasks: the suite has no task(s) {unknown}")
        chosen = [t for t in chosen if t.task_id in wanted]
    if categories:
        chosen = [t for t in chosen if t.category in categories]
    if not chosen:
        raise BenchError("No task of the suite matches --tasks and --category.")
    return chosen


def report_path(settings: Settings, options: BenchOptions) -> Path:
    """`--report`, else data_dir/bench/SUITE-MODEL.json (so a resumed benchmark finds its report)."""
    if options.report is not None:
        return options.report
    name = Path(options.suite).stem if options.suite != DEMO else DEMO
    mode = "" if options.mode == "hybrid" else f"-{options.mode}"
    return settings.data_dir / "bench" / f"{name}-{re.sub(r'[^A-Za-z0-9.-]+', '_', options.model)}{mode}.json"


def open_report(path: Path, options: BenchOptions, selected: list[BenchTask], database: str) -> Report:
    """The report to continue (with --resume) or a new one."""
    ids = sorted(t.task_id for t in selected)
    if options.resume and path.is_file():
        report = Report.load(path)
        if (report.suite, report.model, report.mode) != (options.suite, options.model, options.mode):
            raise ReportError(
                f"{path} is the report of suite {report.suite} with model {report.model} ({report.mode}), "
                f"not {options.suite} with {options.model} ({options.mode}); choose another --report to "
                "start afresh."
            )
        report.selected = sorted(set(report.selected) | set(ids))
        report.executor, report.parallel = options.executor, options.parallel
        return report
    if options.resume and options.memory == "online":
        raise BenchError("--memory online cannot --resume: its memory grows from empty over the whole suite")
    return Report(
        suite=options.suite,
        model=options.model,
        memory=options.memory,
        executor=options.executor,
        parallel=options.parallel,
        database=database,
        selected=ids,
        mode=options.mode,
    )


def run_benchmark(
    settings: Settings,
    options: BenchOptions,
    *,
    on_start: Callable[[Report, list[BenchTask]], None] | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
) -> Report:
    """Run the selected tasks not yet in the report, saving it after each; returns the report.

    Runs are recorded in the settings' database; workers get data dirs below data_dir/bench/workers.
    `on_start(report, todo)` is called once the work is known, `on_result` after each task.
    """
    suite = load_tasks(options.suite)
    tasks = select_tasks(suite.tasks, options.tasks, options.categories)
    if options.memory == "online" and (options.parallel > 1 or options.executor != "local"):
        raise BenchError("--memory online runs the tasks in order on one worker: use --parallel 1, local")
    setups = parse_setups(options.site_setups)
    hosts = load_hosts(options.hosts_file, options.hosts)
    sites = {site for task in tasks for site in task.sites}
    check_hosted(hosts, sites)
    check_sites(sites - {site.name for site in hosts.sites} - set(suite.apps), setups)
    database_url = settings.effective_database_url
    RunStore(database_url)  # create the tables once, before workers race to
    path = report_path(settings, options)
    report = open_report(path, options, tasks, make_url(database_url).render_as_string(hide_password=True))
    report.refused = suite.refused
    todo = [t for t in tasks if t.task_id not in report.done()]
    if on_start is not None:
        on_start(report, todo)
    report.save(path)
    if not todo:
        return report
    config = WorkerConfig(
        settings=settings.model_copy(update={"database_url": database_url}),
        model=options.model,
        sites=tuple(sorted(sites)),
        setups=tuple(setups.items()),
        suite=Path(options.suite).stem,
        workers_dir=settings.data_dir / "bench" / "workers",
        base_url=options.base_url,
        memory=options.memory,
        mode=options.mode,
        hosts=hosts,
        judge_model=options.judge_model,
        apps=tuple((name, str(folder)) for name, folder in sorted(suite.apps.items()) if name in sites),
    )
    earlier, began = report.wall_seconds, time.monotonic()
    executor = make_executor(options.executor, config, min(options.parallel, len(todo)), options.ray_address)
    try:
        for result in executor.results(todo):
            report.wall_seconds = earlier + time.monotonic() - began
            report.add(result)
            report.save(path)
            if on_result is not None:
                on_result(result)
    finally:
        executor.close()
    return report

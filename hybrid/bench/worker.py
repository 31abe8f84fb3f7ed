"""One benchmark worker: its own copy of each site, its own data dir, fresh kernels for every task.

A worker runs in the benchmark's process, in a worker process, or in a Ray actor; everything it
needs comes in a picklable `WorkerConfig`. Runs are recorded in the shared database; the worker's
data dir holds its site registry and the runs' checkpoints.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from langchain_core.language_models import BaseChatModel

import apis
from hybrid.agent.models import ScriptedChatModel, load_chat_model, scripted_replies_for
from hybrid.agent.run import Agent, open_browser
from hybrid.bench.evaluators import evaluate
from hybrid.bench.report import TaskResult
from hybrid.bench.sites import SiteInstance, load_setup
from hybrid.bench.suite import Task
from hybrid.config import Settings
from sandbox import KernelPool

REFERENCE_MODEL = "reference"


@dataclass(frozen=True)
class WorkerConfig:
    """What every worker of one benchmark shares."""

    settings: Settings  # the user's, with database_url set: all workers record into one database
    model: str
    sites: tuple[str, ...]  # the sites the suite's tasks use; each worker opens its own of each
    setups: tuple[tuple[str, str], ...]  # site name -> module:function of its setup
    suite: str  # a name for run sources: bench:SUITE:TASK_ID
    workers_dir: Path  # each worker's data dir is workers_dir/NAME
    base_url: str | None = None  # an OpenAI-compatible server for the model


def model_for(task: Task, spec: str, base_url: str | None, timeout: float) -> tuple[BaseChatModel, str]:
    """The chat model for one task: `reference` replays the task's reference solution."""
    if spec == REFERENCE_MODEL:
        return ScriptedChatModel(replies=scripted_replies_for(task.reference_solution)), REFERENCE_MODEL
    return load_chat_model(spec, base_url=base_url, timeout=timeout), spec


class Worker:
    """Runs tasks one after another on its own site instances. Close it when done."""

    def __init__(self, config: WorkerConfig, name: str) -> None:
        self.config = config
        self.name = name
        data_dir = config.workers_dir / name
        self.settings = config.settings.model_copy(update={"data_dir": data_dir})
        self.registry = apis.SiteRegistry(data_dir)
        self._stack = ExitStack()
        setups = dict(config.setups)
        try:
            # Every task still gets fresh kernels (the pool only keeps the next one warm) and signs in afresh
            # in this worker's own browser, which would otherwise cost a Chromium start per task.
            self.pool = self._stack.enter_context(KernelPool(size=1, limits=self.settings.kernel_limits))
            self.browser = open_browser(self.settings, self.registry, list(config.sites))
            if self.browser is not None:
                self._stack.callback(self.browser.close)
            self.sites: dict[str, SiteInstance] = {
                site: self._stack.enter_context(load_setup(setups[site])()) for site in config.sites
            }
        except BaseException:
            self._stack.close()
            raise

    def run(self, task: Task) -> TaskResult:
        """Reset the task's sites, run it with a fresh agent (fresh kernel) and judge it. Never raises for
        what the task or the model does: that becomes a result with status `error`."""
        began = time.monotonic()
        try:
            return self._run(task, began)
        except Exception as exc:  # noqa: BLE001 -- one broken task must not end the benchmark
            return TaskResult(
                task_id=task.task_id,
                category=task.category,
                passed=False,
                status="error",
                error=f"{type(exc).__name__}: {exc}",
                seconds=time.monotonic() - began,
                worker=self.name,
            )

    def _run(self, task: Task, began: float) -> TaskResult:
        main = self.sites[task.sites[0]]
        for site in task.sites:
            self.sites[site].reset()
            self.sites[site].register(self.registry, task.login_as)
        model, model_name = model_for(
            task, self.config.model, self.config.base_url, self.settings.model_timeout_seconds
        )
        # Memory is off: a benchmark measures the agent on each task alone, not on what earlier tasks taught
        # it.
        with Agent(
            self.settings,
            model=model,
            model_name=model_name,
            sites=task.sites,
            pool=self.pool,
            browser=self.browser,
            fast_path=False,
            induce=False,
        ) as agent:
            result = agent.run(
                task.intent,
                start_url=task.start_url_for(main.web_url),
                source=f"bench:{self.config.suite}:{task.task_id}",
            )
        with main.judge() as judge:
            verdict = evaluate(task, result.answer, judge)
        return TaskResult(
            task_id=task.task_id,
            category=task.category,
            passed=verdict.passed,
            status=result.status,
            run_id=result.run_id,
            answer=result.answer,
            failures=verdict.failures,
            error=result.error,
            steps=result.steps,
            tokens=result.tokens,
            cost=result.cost,
            seconds=time.monotonic() - began,
            worker=self.name,
        )

    def close(self) -> None:
        self._stack.close()

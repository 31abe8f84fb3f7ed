"""One benchmark worker: its own copy of each site, its own data dir, fresh kernels for every task.

A worker runs in the benchmark's process, in a worker process, or in a Ray actor; everything it
needs comes in a picklable `WorkerConfig`. Runs are recorded in the shared database; the worker's
data dir holds its site registry and the runs' checkpoints.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from playwright.sync_api import Error as PlaywrightError, Page

import apis
from hybrid.agent.assembly import open_agent, open_browser
from hybrid.agent.model_calls import ModelCaller
from hybrid.agent.models import SCRIPTED_PREFIX, ScriptedChatModel, load_chat_model, scripted_replies_for
from hybrid.bench.evaluators import EvaluatorResult, evaluate
from hybrid.bench.hosts import Hosts, hosted
from hybrid.bench.infinity import InfinityApp, InfinityTask, infinity_app, replies_file
from hybrid.bench.report import TaskResult
from hybrid.bench.side_effects import wrong_writes
from hybrid.bench.sites import SiteInstance, load_setup
from hybrid.bench.suite import Task
from hybrid.bench.webarena import WebArenaTask, fill_hosts
from hybrid.bench.webarena_eval import FuzzyJudge, Judging, evaluate_answer, evaluate_page
from hybrid.config import Settings
from sandbox import KernelPool
from sandbox.browser import BrowserError
from workflows.store import RunStore
from workflows.verify import Evaluation

REFERENCE_MODEL = "reference"
# off: each task alone; online: memory grows from empty over the tasks in order (fast path and learning on).
Memory = Literal["off", "online"]
MEMORY_FILE = "memory.sqlite"
Mode = Literal["hybrid", "api", "browser"]
# A task of our suites, one of WebArena's configs, or one of WebArena-Infinity's task lists.
BenchTask = Task | WebArenaTask | InfinityTask
MODES: tuple[Mode, ...] = ("hybrid", "api", "browser")
CLEARED_STORAGE = "local_storage,indexeddb,cache_storage,service_workers,websql,file_systems"
JUDGE_SECONDS = 120.0  # the page evaluators of one task: a few page loads and reads


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
    memory: Memory = "off"
    mode: Mode = "hybrid"  # api: no browser for the model; browser: no api.*
    hosts: Hosts = field(default_factory=Hosts)  # the user's own hosts, for sites no setup starts
    judge_model: str | None = None  # judges WebArena's fuzzy_match; default: the model, when a real one
    apps: tuple[tuple[str, str], ...] = ()  # site name -> WebArena-Infinity app folder each worker starts


def model_for(
    task: BenchTask, spec: str, base_url: str | None, timeout: float, context_tokens: int | None = None
) -> tuple[BaseChatModel, str]:
    """The chat model for one task: `reference` replays the task's reference solution; `scripted:FOLDER`
    replays FOLDER/TASK_ID.json (a folder of scripted replies, one file per task; for WebArena-Infinity's
    tasks, FOLDER/APP/ID.json, see `replies_file`)."""
    if spec == REFERENCE_MODEL:
        if isinstance(task, WebArenaTask | InfinityTask):
            raise ValueError(
                "WebArena's and WebArena-Infinity's tasks have no reference solutions: give --model "
                "provider:name, or scripted:FOLDER with one replies file per task (FOLDER/TASK_ID.json; "
                "for WebArena-Infinity, FOLDER/APP/ID.json)."
            )
        return ScriptedChatModel(replies=scripted_replies_for(task.reference_solution)), REFERENCE_MODEL
    folder = Path(spec.removeprefix(SCRIPTED_PREFIX))
    if spec.startswith(SCRIPTED_PREFIX) and folder.is_dir():
        if isinstance(task, InfinityTask):
            return ScriptedChatModel.from_file(replies_file(folder, task)), spec
        return ScriptedChatModel.from_file(folder / f"{task.task_id}.json"), spec
    return load_chat_model(spec, base_url=base_url, timeout=timeout, context_tokens=context_tokens), spec


def fuzzy_judge(spec: str | None, base_url: str | None, settings: Settings) -> FuzzyJudge | None:
    """A model for WebArena's fuzzy_match, called through the agent's model layer (retries, time limits)."""
    if spec is None or spec == REFERENCE_MODEL:
        return None
    model = load_chat_model(spec, base_url=base_url, timeout=settings.model_timeout_seconds)
    call = ModelCaller(model, retries=settings.model_retries)
    return lambda system, user: call([SystemMessage(system), HumanMessage(user)], cache=False).text


class Worker:
    """Runs tasks one after another on its own site instances. Close it when done."""

    def __init__(self, config: WorkerConfig, name: str) -> None:
        self.config = config
        self.name = name
        data_dir = config.workers_dir / name
        self.settings = config.settings.model_copy(update={"data_dir": data_dir})
        if config.memory == "online":
            # Memory grows from empty in a database of its own (runs are recorded there too).
            data_dir.mkdir(parents=True, exist_ok=True)
            (data_dir / MEMORY_FILE).unlink(missing_ok=True)
            self.settings = self.settings.model_copy(
                update={"database_url": f"sqlite:///{data_dir / MEMORY_FILE}"}
            )
        self.registry = apis.SiteRegistry(data_dir)
        self.node = _ray_node()
        self._stack = ExitStack()
        setups, apps = dict(config.setups), dict(config.apps)
        try:
            # Every task still gets fresh kernels (the pool only keeps the next one warm) and signs in afresh
            # in this worker's own browser, which would otherwise cost a Chromium start per task.
            self.pool = self._stack.enter_context(KernelPool(size=1, limits=self.settings.kernel_limits))
            self.browser = open_browser(self.settings, self.registry, list(config.sites))
            if self.browser is not None:
                self._stack.callback(self.browser.close)
            self.sites: dict[str, SiteInstance] = {}
            for site in config.sites:
                own = config.hosts.get(site)
                if own is not None:
                    opened: AbstractContextManager[SiteInstance] = hosted(own)
                elif site in apps:
                    opened = infinity_app(site, Path(apps[site]), data_dir / "logs")
                else:
                    opened = load_setup(setups[site])()
                self.sites[site] = self._stack.enter_context(opened)
            judge = config.judge_model or (None if config.model.startswith(SCRIPTED_PREFIX) else config.model)
            self.fuzzy = fuzzy_judge(judge, config.base_url, self.settings)
        except BaseException:
            self._stack.close()
            raise

    def run(self, task: BenchTask) -> TaskResult:
        """Reset the task's sites, run it with a fresh agent (fresh kernel) and judge it. Never raises for
        what the task or the model does: that becomes a result with status `error`."""
        began = time.monotonic()
        try:
            return self._run(task, began)
        except Exception as exc:  # noqa: BLE001 -- one broken task must not end the benchmark
            return TaskResult(
                task_id=task.task_id,
                name=_name(task),
                category=task.category,
                sites=task.sites,
                eval_types=_eval_types(task),
                mode=self.config.mode,
                passed=False,
                status="error",
                error=f"{type(exc).__name__}: {exc}",
                seconds=time.monotonic() - began,
                worker=self.name,
                node=self.node,
            )

    def _run(self, task: BenchTask, began: float) -> TaskResult:
        main = self.sites[task.sites[0]]
        login_as = task.login_as or ""
        if self.browser is not None:
            # Before the reset, so no page of an earlier task writes its state back after it.
            origins = [self.sites[site].web_url for site in task.sites]
            self.browser.with_page(lambda page: _blank(page, origins))
        for site in task.sites:
            self.sites[site].reset()
            self.sites[site].register(self.registry, login_as)
        hosts = {name: instance.web_url for name, instance in self.sites.items()}
        start_url = (
            fill_hosts(task.start_url, hosts)
            if isinstance(task, WebArenaTask)
            else task.start_url_for(main.web_url)
        )
        if isinstance(task, WebArenaTask):
            self._sign_in(task)
        model, model_name = model_for(
            task,
            self.config.model,
            self.config.base_url,
            self.settings.model_timeout_seconds,
            self.settings.model_context_tokens,
        )
        mode = self.config.mode
        # With memory off the agent meets each task alone; online, it has what earlier tasks taught it.
        online = self.config.memory == "online"
        with open_agent(
            self.settings,
            model=model,
            model_name=model_name,
            sites=task.sites,
            pool=self.pool,
            browser=self.browser if mode != "api" else None,
            use_browser=mode != "api",
            use_api=mode != "browser",
            fast_path=online,
            induce=online,
        ) as agent:
            # Judged before learning: verifying what the run taught re-executes it on the reset site.
            result = agent.run(
                task.intent,
                start_url=start_url,
                source=f"bench:{self.config.suite}:{task.task_id}",
                learn=False,
            )
            wrong = self._wrong_writes(agent.store, result.run_id, task)
            screenshot = self._screenshot(task)
            outcome = self._evaluate(task, result.answer, hosts)
            if online:
                # The evaluator is the judge of what memory keeps: a run it rejected teaches nothing, and a
                # candidate that writes is verified on its effect, re-executed on the reset site.
                agent.learn(self._evaluation(task, outcome, hosts))
            cost = agent.store.get_run(result.run_id).cost  # with what learning cost
        return TaskResult(
            task_id=task.task_id,
            name=_name(task),
            category=task.category,
            sites=task.sites,
            eval_types=_eval_types(task),
            mode=mode,
            passed=outcome.passed,
            status=result.status,
            run_id=result.run_id,
            answer=result.answer,
            failures=outcome.failures,
            error=result.error,
            steps=result.steps,
            tokens=result.tokens,
            cost=cost,
            seconds=time.monotonic() - began,
            worker=self.name,
            template=task.intent_template_id,
            wrong_writes=wrong,
            node=self.node,
            screenshot=screenshot,
        )

    def _wrong_writes(self, store: RunStore, run_id: str, task: BenchTask) -> int:
        """The run's writes its task did not ask for (see `hybrid.bench.side_effects`)."""
        calls = [
            call for step in store.steps_of(run_id) if step.id is not None for call in store.calls_of(step.id)
        ]
        specs = {site: self.registry.load_spec(site) for site in task.sites}
        return wrong_writes(calls, task, specs)

    def _evaluate(self, task: BenchTask, answer: str | None, hosts: dict[str, str]) -> EvaluatorResult:
        """The task's evaluators on the run's answer and the sites' state now."""
        if isinstance(task, WebArenaTask):
            return self._evaluate_webarena(task, answer, hosts)
        if isinstance(task, InfinityTask):
            app = self.sites[task.app]
            assert isinstance(app, InfinityApp), "the runner starts every app of the suite"
            passed, message = app.verify(task)
            return EvaluatorResult(passed=passed, failures=[] if passed else [f"verify: {message}"])
        with self.sites[task.sites[0]].inspector() as inspector:
            return evaluate(task, answer, inspector)

    def _evaluation(self, task: BenchTask, outcome: EvaluatorResult, hosts: dict[str, str]) -> Evaluation:
        """The evaluators' result for a run, for learning, with how to check a workflow's re-execution the
        same way: the task's sites reset to the state the run started from, then its evaluators. The user's
        own hosts are not reset by the bench, so a workflow that writes to them waits for a use instead."""

        def reset() -> None:
            for site in task.sites:
                self.sites[site].reset()

        own = any(self.config.hosts.get(site) is not None for site in task.sites)
        return Evaluation(
            passed=outcome.passed,
            reason="; ".join(outcome.failures),
            reset=None if own else reset,
            recheck=lambda answer: self._evaluate(task, answer, hosts).passed,
        )

    def _screenshot(self, task: BenchTask) -> str | None:
        """A JPEG of the page the run ended on, for the HTML report (none when the run never browsed)."""
        if self.browser is None:
            return None
        path = (
            self.settings.data_dir
            / "screenshots"
            / f"{self.config.suite}-{self.config.mode}-{task.task_id}.jpg"
        )
        path.parent.mkdir(parents=True, exist_ok=True)

        def shoot(page: Page) -> str | None:
            if page.url == "about:blank":
                return None
            page.screenshot(path=path, type="jpeg", quality=60)
            return str(path)

        try:
            return self.browser.with_page(shoot)
        except (BrowserError, PlaywrightError):
            return None  # a report without this picture beats a task lost

    def _sign_in(self, task: WebArenaTask) -> None:
        """Start the task's browser signed in, as WebArena's does whatever the agent: with its storage_state's
        cookies (from the hosts file's auth_dir), else with each site's username and password. Its evaluators
        read pages through this browser afterwards, in every mode."""
        if self.browser is None:
            return
        state = self.config.hosts.storage_state(task.storage_state)
        if state is not None:
            cookies = json.loads(state.read_text(encoding="utf-8")).get("cookies", [])
            self.browser.with_page(lambda page: page.context.add_cookies(cookies))
            return
        unsigned = [site for site in task.sites if self.registry.get(site).web_login is None]
        # WebArena signs in only from a named storage_state; configs without one (map's, whose site has no
        # accounts) start unsigned wherever there is nothing to sign in with.
        if task.require_login and task.storage_state and unsigned:
            raise ValueError(
                f"The task needs a signed-in browser on {', '.join(unsigned)}: put "
                f"{Path(task.storage_state or 'STATE.json').name} in the hosts file's auth_dir, or give "
                "username, password and login_url for the site."
            )
        for site in task.sites:
            if site not in unsigned:
                self.browser.login(site)

    def _evaluate_webarena(
        self, task: WebArenaTask, answer: str | None, hosts: dict[str, str]
    ) -> EvaluatorResult:
        admin = self.config.hosts.get("shopping_admin")
        judging = Judging(
            hosts=hosts,
            fuzzy=self.fuzzy,
            shopping_admin=(admin.username or "", admin.password or "") if admin and admin.password else None,
        )
        results = evaluate_answer(task, answer, judging)
        if set(task.eval_types) - {"string_match"}:
            if self.browser is None:
                raise ValueError(
                    "WebArena's url_match and program_html read the browser, and none is installed."
                )
            results |= self.browser.with_page(
                lambda page: evaluate_page(task, page, judging), timeout=JUDGE_SECONDS
            )
        failures = [failure for eval_type in task.eval_types for failure in results.get(eval_type, [])]
        return EvaluatorResult(passed=not failures, failures=failures)

    def close(self) -> None:
        self._stack.close()


def _eval_types(task: BenchTask) -> list[str]:
    if isinstance(task, WebArenaTask | InfinityTask):
        return task.eval_types
    return ["answer"] * (task.eval.answer is not None) + ["state"] * bool(task.eval.state)


def _name(task: BenchTask) -> str | None:
    """How a suite that does not number its tasks names one (WebArena-Infinity's `gmail/real:task_e1`)."""
    return task.name if isinstance(task, InfinityTask) else None


def _blank(page: Page, origins: list[str]) -> None:
    """No earlier task's page or sign-in: each task starts afresh, and url_match reads where its run ends.
    What the task's sites kept in the browser goes too (WebArena-Infinity's apps load their state from
    localStorage before the server's, so a reset server alone would not reset them)."""
    page.goto("about:blank")
    page.context.clear_cookies()
    cdp = page.context.new_cdp_session(page)
    try:
        for origin in {_origin(url) for url in origins}:
            cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": CLEARED_STORAGE})
    finally:
        cdp.detach()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _ray_node() -> str | None:
    """The Ray node this worker runs on, when it is a Ray actor (a cluster's report says where each task
    ran)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return None
    return str(ray.get_runtime_context().get_node_id())

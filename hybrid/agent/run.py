"""Running and resuming tasks: wires settings, sites, kernels, the model, the graph and its checkpoints.

with Agent(load_settings(), model=load_chat_model("openai:gpt-4o-mini"), sites=["demo"]) as agent:
    result = agent.run("How many open bugs are in alice/tracker-core?")
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Self

from langchain_core.language_models import BaseChatModel
from sqlalchemy.engine import make_url

import apis
from apis.mcpsites import McpRegistry, McpServerError
from hybrid.agent.cost import Pricing
from hybrid.agent.fast_path import run_matched
from hybrid.agent.graph import Budget, build_graph
from hybrid.agent.judge import Verdict, judge_run
from hybrid.agent.model_calls import ModelCaller, ModelCallError, ModelListener
from hybrid.agent.models import ScriptedChatModel
from hybrid.agent.results import RunResult
from hybrid.agent.runtime import (
    AgentRuntime,
    SiteHandle,
    StepCallback,
    page_writes_to_policy,
    web_credentials,
)
from hybrid.config import Settings, keep_private
from sandbox import Call, IsolationUnavailable, KernelPool, Policy, PolicyMode
from sandbox.browser import BrowserService
from sandbox.errors import HybridError
from workflows.fastpath import FastPathMatch, match_fast_path
from workflows.learn import learn_from_run
from workflows.learned import Learned
from workflows.lightstore import LightStore, WorkflowView
from workflows.memory import Workflow, WorkflowStore
from workflows.reading import StoreError
from workflows.status import RunStatus
from workflows.verify import Evaluation

# Any fixed number, the same in every process (and not the store's migration lock): it names the lock that
# serialises the setup of PostgreSQL checkpoint tables.
CHECKPOINT_SETUP_LOCK_KEY = 7_007_008
CHECKPOINT_SETUP_SECONDS = 120


class AgentError(HybridError):
    """The run cannot start, go on or resume; the message says why and what to do. `run_id` names the
    recorded run when there is one."""

    def __init__(self, message: str, run_id: str | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id


@dataclass(frozen=True)
class _Finished:
    """A run that ended and is yet to be learned from."""

    run_id: str
    status: RunStatus
    repairs: list[Workflow]
    fast_path: bool = False  # done by a workflow alone: there is nothing to learn, only its use to judge


@dataclass(frozen=True)
class Lesson:
    """What learning from a run did: the model's verdict (with a real model) and what the memory kept."""

    learned: Learned
    verdict: Verdict | None = None


def budget_from(settings: Settings, max_steps: int | None = None, max_cost: float | None = None) -> Budget:
    return Budget(
        max_steps=max_steps or settings.max_steps,
        max_wall_seconds=settings.max_wall_seconds,
        max_tokens=settings.max_tokens,
        action_timeout=settings.action_timeout_seconds,
        max_cost=max_cost if max_cost is not None else settings.max_cost,
    )


def open_checkpointer(settings: Settings, stack: ExitStack) -> Any:
    """LangGraph's SQLite checkpointer in the data dir, or its PostgreSQL one when the database is
    PostgreSQL."""
    url = settings.effective_database_url
    if url.startswith(("postgresql", "postgres")):
        try:
            import psycopg
            from langgraph.checkpoint.postgres import PostgresSaver
        except ImportError as exc:
            raise AgentError(
                "PostgreSQL checkpoints need: .venv/bin/pip install 'hybrid-agent[postgres]'"
            ) from exc
        # psycopg takes libpq URLs: no SQLAlchemy driver name (postgresql+psycopg://).
        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        saver = stack.enter_context(PostgresSaver.from_conn_string(conninfo))
        _set_up_postgres_checkpoints(saver, psycopg.connect(conninfo, autocommit=True))
        return saver
    from langgraph.checkpoint.sqlite import SqliteSaver

    keep_private(settings.data_dir)
    path = settings.data_dir / "checkpoints.sqlite"
    path.touch(mode=0o600, exist_ok=True)  # before SQLite makes it 0644
    connection = sqlite3.connect(path, check_same_thread=False)
    stack.callback(connection.close)
    # As the run store (workflows.store): in WAL mode, NORMAL syncs at checkpoints of the log, not at every
    # commit, and a step commits several graph checkpoints. A crash of the process loses nothing committed;
    # a power cut may lose the last few, from which a resumed run starts a step or two earlier.
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return SqliteSaver(connection)


def _set_up_postgres_checkpoints(saver: Any, lock: Any) -> None:
    """Create or upgrade the checkpoint tables, one process at a time: agents (bench workers, say) opening a
    fresh database at once would race in its CREATE TABLE IF NOT EXISTS. The lock is polled, not waited for:
    the setup's CREATE INDEX CONCURRENTLY waits for every open statement, a blocked lock request included."""
    with lock:
        deadline = time.monotonic() + CHECKPOINT_SETUP_SECONDS
        while not lock.execute("SELECT pg_try_advisory_lock(%s)", (CHECKPOINT_SETUP_LOCK_KEY,)).fetchone()[0]:
            if time.monotonic() > deadline:
                raise AgentError(
                    f"Another process has been setting up the checkpoint tables for over "
                    f"{CHECKPOINT_SETUP_SECONDS} s; see pg_stat_activity on the database server."
                )
            time.sleep(0.05)
        saver.setup()  # the lock ends with its connection


def open_browser(settings: Settings, registry: apis.SiteRegistry, sites: list[str]) -> BrowserService | None:
    """A browser that can sign in to `sites` (Chromium starts on first use), or None without Chromium."""
    executable = settings.effective_browser_executable
    if executable is None:
        return None
    # The bridge's policy decides on each action's form submission before it runs; writes a page sends
    # otherwise (a script's fetch, a form a key submits) are held and put to the same policy, in allow mode
    # too: the call record is how learning knows the run wrote, so verifying its workflow does not write
    # again. The runtime restricts the browser to its run's sites.
    return BrowserService(
        executable,
        credentials=web_credentials(registry, sites),
        before_write=page_writes_to_policy,
        screenshot_dir=settings.data_dir / "screenshots",
    )


def _no_model_for(match: FastPathMatch | None, attempt: RunResult | None, *, fast_path: bool) -> str:
    configure = "pass --model provider:name (e.g. openai:gpt-4o-mini) or set HYBRID_MODEL"
    if match is not None and attempt is not None:
        return (
            f"No model configured, and workflow {match.workflow.name} v{match.workflow.version}, which "
            f"matched the task, failed (run {attempt.run_id}: {attempt.error}): {configure}."
        )
    if not fast_path:
        return f"No model configured, and the fast path is off (HYBRID_FAST_PATH=false): {configure}."
    return f"No model configured, and no verified workflow matches this task: {configure}."


def _repair_request(workflow: WorkflowView, error: str | None) -> dict[str, Any]:
    """What the model is told when the workflow that matched its task failed on the fast path."""
    return {
        "workflow": f"{workflow.name} v{workflow.version}",
        "error": error or "it gave no answer",
        "source": workflow.body,
    }


class Agent:
    """Runs tasks on registered sites. Use as a context manager: it owns kernels and connections."""

    def __init__(
        self,
        settings: Settings,
        *,
        model: BaseChatModel | None,
        model_name: str | None = None,
        sites: list[str],
        policy: PolicyMode | None = None,
        confirm: Callable[[Call], bool] | None = None,
        browser: BrowserService | None = None,
        use_browser: bool = True,
        use_api: bool = True,
        pool: KernelPool | None = None,
        max_steps: int | None = None,
        max_cost: float | None = None,
        on_step: StepCallback | None = None,
        on_model: ModelListener | None = None,
        fast_path: bool | None = None,
        induce: bool | None = None,
        on_fast_path: Callable[[WorkflowView, str | None], None] | None = None,
        files: Sequence[Path] = (),
    ) -> None:
        """`fast_path` and `induce` default to the settings of those names (see `hybrid config`);
        `on_model` is told what the model writes (its thinking too) and of retries, as they happen;
        `on_fast_path(workflow, None)` is told the workflow a task is about to be done by, with no model,
        and `on_fast_path(workflow, error)` if it failed. A `browser` or `pool` passed in is shared and left
        open; otherwise the agent makes and closes its own. `files` (the user's own) are copied read-only into
        each kernel's working directory. `use_browser=False` gives the model no browser, `use_api=False` no
        `api.*` (the modes benchmarks compare)."""
        self.settings = settings
        self.model = model
        self.model_name = (
            model_name
            or getattr(model, "model_name", None)
            or (type(model).__name__ if model is not None else "none")
        )
        self.budget = budget_from(settings, max_steps, max_cost)
        pricing = Pricing(self.model_name)
        if self.budget.max_cost is not None and not pricing.known:
            raise AgentError(
                f"No price is known for model {self.model_name!r}, so a cost limit cannot be kept: "
                "drop --max-cost (HYBRID_MAX_COST), or name the model as the provider does "
                "(e.g. openai:gpt-4o-mini)."
            )
        # Every model call of a run, the judge's and induction's too, goes through this one caller: the
        # same retries, pricing and cost limit.
        self.call_model = ModelCaller(
            model, pricing=pricing, retries=settings.model_retries, max_cost=self.budget.max_cost
        )
        self.call_model.listener = on_model
        # A scripted model replays fixed replies: it can neither judge a run nor write a workflow.
        self.real_model = model is not None and not isinstance(model, ScriptedChatModel)
        self._to_learn: _Finished | None = None
        self.policy_mode = policy or settings.policy
        self.fast_path = settings.fast_path if fast_path is None else fast_path
        self.induce = settings.induce_workflows if induce is None else induce
        self.on_fast_path = on_fast_path
        self._stack = ExitStack()
        self.current_run_id: str | None = None
        try:
            registry = apis.SiteRegistry(settings.data_dir)
            mcp_registry = McpRegistry(settings.data_dir)
            mcp_servers = [
                self._stack.enter_context(mcp_registry.connect(name))
                for name in sites
                if mcp_registry.has(name)
            ]
            if browser is None and use_browser:
                browser = open_browser(settings, registry, sites)
                if browser is not None:
                    self._stack.callback(browser.close)
            handles = [
                SiteHandle.from_registry(
                    registry,
                    name,
                    collect_mismatches=True,
                    browser_cookies=browser.cookies if browser else None,
                )
                for name in sites
                if not mcp_registry.has(name)
            ]
            self.store = WorkflowStore(settings.effective_database_url)
            # Steps are written without the ORM where the database allows it (1.5 -> 0.2 ms of CPU a step).
            step_store = LightStore.open(settings.effective_database_url)
            if step_store is not None:
                self._stack.callback(step_store.close)
            # Its own pool gets the first kernel going while the run prepares; later ones start when needed.
            pool = pool or self._stack.enter_context(
                KernelPool(size=1, limits=settings.kernel_limits, refill=False)
            )
            self.runtime = AgentRuntime(
                sites=handles,
                store=self.store,
                step_store=step_store,
                pool=pool,
                policy=Policy(mode=self.policy_mode, confirm=confirm),
                browser=browser,
                on_step=on_step,
                mcp_servers=mcp_servers,
                user_files=files,
                use_api=use_api,
            )
            self._stack.callback(self.runtime.close)
            self.graph = build_graph(
                self.call_model, self.runtime, self.budget, open_checkpointer(settings, self._stack)
            )
        except BaseException as exc:
            self._stack.close()  # kernels and browsers started so far must not outlive a failed start
            if isinstance(
                exc,
                (
                    apis.RegistryError,
                    apis.ApiError,
                    apis.SpecError,
                    StoreError,
                    ValueError,
                    IsolationUnavailable,
                    McpServerError,
                ),
            ):
                raise AgentError(str(exc)) from exc
            raise
        self.sites = sites

    def run(
        self,
        task: str,
        *,
        start_url: str | None = None,
        source: str | None = None,
        learn: bool = True,
        fast_path_tried: tuple[FastPathMatch | None, RunResult | None] | None = None,
    ) -> RunResult:
        """Do `task`: by a matching verified workflow with no model call when the fast path is on (falling
        back to the model if it fails, which then repairs the workflow), else with the model. With no model
        (`model=None`), only the fast path can do it. With `learn`, a finished run is then judged and learned
        from (see `learn`); without, call `learn()` yourself, e.g. once the answer is shown.
        `fast_path_tried` is (the match or None, its attempt or None) when the caller has tried the fast path
        itself (`hybrid run` does, before it loads the model); it is then not tried again."""
        start_url = start_url or self.runtime.home_page()
        if fast_path_tried is not None:
            match, attempt = fast_path_tried
        else:
            match = match_fast_path(self.store, task, self.sites) if self.fast_path else None
            attempt = None if match is None else self._fast_path(match, task, start_url)
        if attempt is not None and attempt.status == "finished":
            self._to_learn = _Finished(attempt.run_id, attempt.status, [], fast_path=True)
            return attempt
        if self.model is None:
            raise AgentError(_no_model_for(match, attempt, fast_path=self.fast_path))
        run = self.store.start_run(
            task,
            sites=self.sites,
            model=self.model_name,
            policy=self.policy_mode,
            source=source,
            sandbox=self.settings.sandbox,
        )
        repair = None if match is None or attempt is None else _repair_request(match.workflow, attempt.error)
        # Only a workflow the host judged failed is repaired: a task naming what does not exist is not its
        # fault.
        broken = [] if attempt is None else self.store.failed_in_run(attempt.run_id)
        return self._drive(
            run.id,
            {"run_id": run.id, "task": task, "start_url": start_url, "repair": repair},
            learn=learn,
            repairs=broken,
        )

    def resume(self, run_id: str) -> RunResult:
        """Continue a run that was interrupted, from its last checkpoint, in a fresh kernel."""
        run = self.store.get_run(run_id)
        if self.model is None:
            raise AgentError(
                f"Resuming run {run.id} needs a model: pass --model provider:name or set HYBRID_MODEL."
            )
        config = self._config(run.id)
        snapshot = self.graph.get_state(config)
        if not snapshot.values:
            raise AgentError(f"Run {run.id} has no checkpoint to resume from.")
        if not snapshot.next:
            raise AgentError(f"Run {run.id} already ended ({run.status}); nothing to resume.")
        values = snapshot.values
        if isinstance(self.model, ScriptedChatModel):
            # A replayed script continues after the replies already used: one per step, plus the one
            # whose code was about to run when the run stopped.
            self.model.position = len(values.get("steps", [])) + (1 if values.get("pending") else 0)
        self.graph.update_state(config, {"resumed": True, "interrupted_action": bool(values.get("pending"))})
        self.store.end_run(run.id, "running")
        return self._drive(run.id, None)

    def _drive(
        self,
        run_id: str,
        initial: dict[str, Any] | None,
        *,
        learn: bool = True,
        repairs: list[Workflow] | None = None,
    ) -> RunResult:
        self.current_run_id = run_id
        # The run's limit holds what its model calls cost, a resumed run's earlier calls included.
        self.call_model.spent = self.store.get_run(run_id).cost or 0.0
        config = self._config(run_id)
        try:
            for _ in self.graph.stream(initial, config, stream_mode="updates"):
                pass
        except KeyboardInterrupt:
            self.runtime.release(run_id)
            self.store.end_run(
                run_id, "interrupted", error="Stopped by the user; `hybrid runs resume` continues it."
            )
            raise
        except Exception as exc:
            self.runtime.release(run_id)
            problem = f"{type(exc).__name__}: {exc}".splitlines()[0]
            self.store.end_run(run_id, "error", error=problem)
            raise AgentError(
                f"Run {run_id} stopped: {problem} (`hybrid runs resume {run_id}` continues it "
                "once the cause is fixed).",
                run_id,
            ) from exc
        values = self.graph.get_state(config).values
        status = values.get("status", "error")
        self._to_learn = _Finished(run_id, status, repairs or [])
        result = RunResult(
            run_id=run_id,
            status=status,
            answer=values.get("answer"),
            error=values.get("error"),
            steps=len(values.get("steps", [])),
            tokens=values.get("tokens", 0),
            cost=self.store.get_run(run_id).cost,
        )
        if learn:
            lesson = self.learn()
            result = replace(
                result,
                learned=lesson.learned.to_dict() if lesson else None,
                cost=self.store.get_run(run_id).cost,  # with what judging and learning cost
            )
        return result

    def _fast_path(self, match: FastPathMatch, task: str, start_url: str | None) -> RunResult:
        """Do `task` with the matched workflow and no model call; a failure is for the caller to repair."""
        return run_matched(
            self.runtime,
            self.store,
            match,
            task,
            sites=self.sites,
            policy=self.policy_mode,
            timeout=self.budget.action_timeout,
            start_url=start_url,
            on_fast_path=self.on_fast_path,
        )

    def learn(self, evaluation: Evaluation | None = None) -> Lesson | None:
        """Learn from the run just finished (None if there is none to learn from). With a real model, the
        model first judges whether the run achieved its task (the verdict is recorded with the run), and
        only a run judged successful is induced, by the model; a scripted model's runs are induced by
        literal lifting. A run that worked around a failing workflow repairs it (see `learn_from_run`).

        An `evaluation` (a benchmark's evaluator, which checked the site after the run) is the verdict
        instead of the model's: only a run it accepted credits its workflows and is learnt from, and with its
        `reset` and `judge` a candidate that writes is verified on its effect, re-executed on the reset site.
        """
        finished, self._to_learn = self._to_learn, None
        if finished is None:
            return None
        if finished.fast_path:
            if evaluation is None or evaluation.passed:
                return None
            # The workflow was the whole run: the evaluator's rejection is its use's failure.
            rejected = self.store.overrule_uses(
                finished.run_id, f"the evaluator rejected its effect: {evaluation.reason}"
            )
            names = ", ".join(f"{w.name} v{w.version} ({w.status})" for w in rejected)
            return Lesson(
                Learned.nothing(f"the evaluator rejected the fast path's run; counted against {names}")
            )
        if finished.status != "finished":
            return Lesson(Learned.nothing(f"the run ended with status {finished.status}"))
        if not self.real_model and evaluation is None:
            # A scripted run's finish is all there is to judge: the workflows it used did their part, and
            # the operations it called are remembered for tasks worded like its own.
            self.store.credit_run(finished.run_id)
            self.runtime.remember_operations(finished.run_id, self.store.get_run(finished.run_id).task)
        if not self.induce and evaluation is None:
            return Lesson(Learned.nothing("learning is off (HYBRID_INDUCE_WORKFLOWS=false)"))
        if not self.real_model and evaluation is None:
            return Lesson(
                learn_from_run(
                    self.store, finished.run_id, self.runtime.fresh_session, repairs=finished.repairs
                )
            )
        run = self.store.get_run(finished.run_id)
        # The run's cost so far (a resumed run's included), which its limit holds judging and learning to.
        self.call_model.spent = run.cost or 0.0
        usage_before, spent_before = self.call_model.usage, self.call_model.spent
        try:
            if evaluation is not None:
                return self._learn_evaluated(finished, evaluation)
            return self._judge_and_learn(finished, run.task, run.answer)
        finally:
            used = self.call_model.usage
            self.store.add_model_use(
                finished.run_id,
                prompt_tokens=used.input_tokens - usage_before.input_tokens,
                completion_tokens=used.output_tokens - usage_before.output_tokens,
                cost=self.call_model.spent - spent_before if self.call_model.priced else None,
            )

    def _learn_evaluated(self, finished: _Finished, evaluation: Evaluation) -> Lesson:
        accepted = "accepted" if evaluation.passed else "rejected"
        verdict = Verdict(
            "success" if evaluation.passed else "failure",
            f"the evaluator {accepted} it{f': {evaluation.reason}' if evaluation.reason else ''}",
        )
        self.store.judge_run(finished.run_id, verdict.judgement, verdict.reason)
        if not evaluation.passed:
            return Lesson(Learned.nothing(verdict.reason), verdict)
        # The workflows the run used did their part of a run the evaluator accepted; the operations it
        # called are remembered for tasks worded like its own.
        self.store.credit_run(finished.run_id)
        self.runtime.remember_operations(finished.run_id, self.store.get_run(finished.run_id).task)
        if not self.induce:
            return Lesson(Learned.nothing("learning is off (HYBRID_INDUCE_WORKFLOWS=false)"), verdict)
        learned = learn_from_run(
            self.store,
            finished.run_id,
            self.runtime.fresh_session,
            model=self.call_model.ask if self.real_model else None,
            reset=evaluation.reset,
            judge=evaluation.judge,
            repairs=finished.repairs,
        )
        return Lesson(learned, verdict)

    def _judge_and_learn(self, finished: _Finished, task: str, answer: str | None) -> Lesson:
        try:
            verdict = judge_run(self.call_model, task, self.store.steps_of(finished.run_id), answer)
        except ModelCallError as exc:
            verdict = Verdict("failure", f"The model could not judge the run: {exc}")
        self.store.judge_run(finished.run_id, verdict.judgement, verdict.reason)
        if not verdict.success:
            return Lesson(
                Learned.nothing(f"the model judged that the run failed ({verdict.reason})"), verdict
            )
        # The workflows the run used did their part of a run judged successful; the operations it called
        # are remembered for tasks worded like its own.
        self.store.credit_run(finished.run_id)
        self.runtime.remember_operations(finished.run_id, task)
        if self.call_model.over_budget:
            return Lesson(
                Learned.nothing(
                    f"the run's model calls, judging included, cost ${self.call_model.spent:.4f}, reaching "
                    f"its limit of ${self.budget.max_cost}"
                ),
                verdict,
            )
        learned = learn_from_run(
            self.store,
            finished.run_id,
            self.runtime.fresh_session,
            model=self.call_model.ask,
            repairs=finished.repairs,
        )
        return Lesson(learned, verdict)

    @staticmethod
    def _config(run_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": run_id}, "recursion_limit": 10_000}

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

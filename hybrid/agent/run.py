"""Running and resuming tasks with what `hybrid.agent.assembly.open_agent` opened: the graph and its
checkpoints, the runtime, the model caller; and learning from a finished run.

with open_agent(load_settings(), sites=["demo"], model="openai:gpt-4o-mini") as agent:
    result = agent.run("How many open bugs are in alice/tracker-core?")
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any, Self

from langchain_core.language_models import BaseChatModel

from hybrid.agent.checkpoints import RunCheckpoints, thread
from hybrid.agent.fast_path import run_matched
from hybrid.agent.graph import Budget
from hybrid.agent.judge import Verdict, judge_run
from hybrid.agent.model_calls import ModelCaller, ModelCallError
from hybrid.agent.models import ScriptedChatModel
from hybrid.agent.results import RunResult
from hybrid.agent.runtime import AgentRuntime, keep_run_files, kept_run_files, run_files_dir
from hybrid.config import Settings
from sandbox import PolicyMode
from sandbox.errors import HybridError
from workflows.fastpath import FastPathMatch, match_fast_path
from workflows.learn import learn_from_run
from workflows.learned import Learned
from workflows.lightstore import WorkflowView
from workflows.memory import Workflow
from workflows.status import FINAL_STATUSES, RunStatus
from workflows.verify import Evaluation


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
        model_name: str,
        sites: list[str],
        policy: PolicyMode,
        fast_path: bool,
        induce: bool,
        on_fast_path: Callable[[WorkflowView, str | None], None] | None,
        budget: Budget,
        call_model: ModelCaller,
        runtime: AgentRuntime,
        graph: Any,
        resources: ExitStack,
    ) -> None:
        """Made by `hybrid.agent.assembly.open_agent`, which opens what it is given; closing the agent closes
        `resources`."""
        self.settings = settings
        self.model = model
        self.model_name = model_name
        self.sites = sites
        self.policy_mode = policy
        self.fast_path = fast_path
        self.induce = induce
        self.on_fast_path = on_fast_path
        self.budget = budget
        self.call_model = call_model
        self.runtime = runtime
        self.store = runtime.store
        self.files = list(runtime.user_files)  # the user's own, given to every run of this agent
        self.graph = graph
        self.checkpoints = RunCheckpoints(graph)
        self._stack = resources
        # A scripted model replays fixed replies: it can neither judge a run nor write a workflow.
        self.real_model = model is not None and not isinstance(model, ScriptedChatModel)
        self._to_learn: _Finished | None = None
        self.current_run_id: str | None = None

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
        # The run keeps its own copies of the user's files: its kernels get them, and so does a resumed one.
        self.runtime.user_files = keep_run_files(self.files, run_files_dir(self.settings.data_dir, run.id))
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
        latest = self.checkpoints.latest(run.id)
        if latest is None:
            raise AgentError(f"Run {run.id} has no checkpoint to resume from.")
        if not latest.next:
            raise AgentError(f"Run {run.id} already ended ({run.status}); nothing to resume.")
        values = latest.values
        if isinstance(self.model, ScriptedChatModel):
            # A replayed script continues after the replies already used: one per step, plus the one
            # whose code was about to run when the run stopped.
            self.model.position = len(values.get("steps", [])) + (1 if values.get("pending") else 0)
        self.checkpoints.update(run.id, {"resumed": True, "interrupted_action": bool(values.get("pending"))})
        # Its fresh kernel gets the files the run was given (`hybrid run --file`), as the first one did.
        self.runtime.user_files = kept_run_files(run_files_dir(self.settings.data_dir, run.id))
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
        config = thread(run_id)
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
        latest = self.checkpoints.latest(run_id)
        values = latest.values if latest is not None else {}
        status = values.get("status", "error")
        if status in FINAL_STATUSES:
            # It cannot be resumed: its copies of the user's files go when the agent closes (learning from
            # the run may still start kernels that get them).
            self._stack.callback(
                shutil.rmtree, run_files_dir(self.settings.data_dir, run_id), ignore_errors=True
            )
        self._to_learn = _Finished(run_id, status, repairs or [])
        recorded = self.store.get_run(run_id)
        result = RunResult(
            run_id=run_id,
            status=status,
            answer=values.get("answer"),
            error=values.get("error"),
            steps=len(values.get("steps", [])),
            tokens=values.get("tokens", 0),
            cost=recorded.cost,
            usage_estimated=recorded.usage_estimated,
        )
        if learn:
            lesson = self.learn()
            recorded = self.store.get_run(run_id)  # with what judging and learning cost
            result = replace(
                result,
                learned=lesson.learned.to_dict() if lesson else None,
                cost=recorded.cost,
                usage_estimated=recorded.usage_estimated,
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
        instead of the model's: only a run it accepted credits its workflows and is learnt from, and with
        its `reset` and `recheck` a candidate that writes is verified on its effect, re-executed on the reset
        site.
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
        estimates_before = self.call_model.estimates
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
                estimated=self.call_model.estimates > estimates_before,
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
            recheck=evaluation.recheck,
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

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

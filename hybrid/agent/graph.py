"""The agent as a LangGraph state machine: prepare -> act -> execute -> act ... -> finish.

Graph state holds only serialisable data (texts, numbers, lists of dicts), so a checkpoint can resume
a killed run. Live objects (the model, kernels, the browser, the database) are reached through the
`Runtime` given to `build_graph`, at the edges: `act` calls the model, `execute` runs code and records
the step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph

from hybrid.agent.model_calls import ContextTooLong, ModelCaller
from hybrid.agent.observation import observations_for_prompt
from hybrid.agent.parsing import STOP_SEQUENCES, parse_reply
from sandbox import CallRecord
from workflows.status import RunStatus
from workflows.store import StepRecord

PROMPTS = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("prompts")),
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
NO_CODE_LIMIT = 2
RESUMED_NOTICE = (
    "This run was resumed after an interruption, in a fresh kernel: variables, imports and "
    "definitions from earlier steps are gone; run again whatever your code needs."
)
INTERRUPTED_ACTION_NOTICE = (
    "The action above was running when the run stopped, and it was not run again: it "
    "may have partly run, and a change it made may already have happened. Check the "
    "current state before redoing any of it."
)


def append_steps(
    steps: list[dict[str, Any]], batches: Sequence[list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """The steps so far, then each batch of new ones (batching-invariant, as `DeltaChannel` requires)."""
    return [*steps, *(step for batch in batches for step in batch)]


class AgentState(TypedDict, total=False):
    run_id: str
    task: str
    start_url: str | None
    # The workflow that matched the task and failed on it (name, error, source), for the model to repair.
    repair: dict[str, str] | None
    system_prompt: str
    # Each a `StepRecord` as plain data. A checkpoint stores only the steps its node added (LangGraph
    # rebuilds the list from the thread's writes), so a run's checkpoints grow with its length, not with
    # its length squared.
    steps: Annotated[list[dict[str, Any]], DeltaChannel(append_steps)]
    pending: dict[str, Any] | None
    status: RunStatus
    answer: str | None
    error: str | None
    tokens: int
    cost: float
    elapsed: float
    # Set once the prompt outgrew the model's context window: from then on every older observation is
    # condensed, not just the old ones.
    squeeze: bool
    no_code_streak: int
    max_steps: int
    resumed: bool
    interrupted_action: bool


@dataclass(frozen=True)
class Budget:
    """A run's limits; `run.budget_from` reads them from `Settings`, which holds their defaults."""

    max_steps: int
    max_wall_seconds: float
    max_tokens: int
    action_timeout: float
    max_cost: float | None  # USD; needs a model the price table knows


@dataclass
class ActionOutcome:
    """What the runtime reports after running one code action."""

    observation: str
    full_output: str
    ok: bool
    error: str | None
    seconds: float
    calls: list[CallRecord]
    used_browser: bool
    finished: bool
    answer: str | None


class Runtime(Protocol):
    """The live side of a run: prompt material, code execution, and the record."""

    def system_prompt(self, run_id: str, task: str, max_steps: int) -> str: ...

    def execute(
        self,
        run_id: str,
        task: str,
        step_index: int,
        code: str,
        timeout: float,
        *,
        fresh_kernel_notice: bool,
        start_url: str | None = None,
    ) -> ActionOutcome: ...

    def record_step(self, run_id: str, step: StepRecord, calls: list[CallRecord]) -> None: ...

    def end_run(self, run_id: str, status: RunStatus, answer: str | None, error: str | None) -> None: ...


def render(template: str, **values: Any) -> str:
    return PROMPTS.get_template(template).render(**values).strip()


def max_steps_of(state: AgentState, budget: Budget) -> int:
    """The run's own step budget (kept in its state, so a resumed run keeps it), else the agent's."""
    return state.get("max_steps") or budget.max_steps


def build_messages(state: AgentState, budget: Budget, *, squeeze: bool = False) -> list[BaseMessage]:
    """The prompt for the next step. Each step's messages are written once and never change after (their
    turn count included), except when older observations are condensed, in blocks: see
    `observations_for_prompt`."""
    steps = state.get("steps", [])
    messages: list[BaseMessage] = [
        SystemMessage(state["system_prompt"]),
        HumanMessage(
            render(
                "task.md.jinja",
                task=state["task"],
                start_url=state.get("start_url"),
                repair=state.get("repair"),
            )
        ),
    ]
    shown = observations_for_prompt(steps, squeeze=squeeze or state.get("squeeze", False))
    for index, (step, observation) in enumerate(zip(steps, shown, strict=True)):
        messages.append(AIMessage(step["reply"]))
        left = max_steps_of(state, budget) - index - 1
        if step.get("code") is not None:
            text = render(
                "observation.md.jinja",
                observation=observation,
                steps_left=left,
                dropped_blocks=step.get("dropped_blocks", 0),
            )
        else:
            text = render("no_code.md.jinja", why=step.get("no_code"), steps_left=left)
        messages.append(HumanMessage(text))
    return messages


def over_budget(state: AgentState, budget: Budget) -> RunStatus | None:
    if len(state.get("steps", [])) >= max_steps_of(state, budget):
        return "max_steps"
    if state.get("elapsed", 0.0) >= budget.max_wall_seconds:
        return "max_wall_time"
    if state.get("tokens", 0) >= budget.max_tokens:
        return "max_tokens"
    if budget.max_cost is not None and state.get("cost", 0.0) >= budget.max_cost:
        return "max_cost"
    return None


def build_graph(
    model: BaseChatModel | ModelCaller, runtime: Runtime, budget: Budget, checkpointer: Any = None
):
    """The compiled graph; invoke it with `{"run_id", "task", "start_url"}` and a thread id = run id."""
    call_model = model if isinstance(model, ModelCaller) else ModelCaller(model)

    def recorded(
        state: AgentState, step: StepRecord, calls: Sequence[CallRecord] = ()
    ) -> list[dict[str, Any]]:
        """Record `step` and return it as graph state keeps it: plain data, without the untrimmed output
        (only the record keeps that, so checkpoints stay small)."""
        runtime.record_step(state["run_id"], step, list(calls))
        return [step.model_dump(exclude={"full_output"})]

    def prepare(state: AgentState) -> dict[str, Any]:
        return {
            "system_prompt": runtime.system_prompt(state["run_id"], state["task"], budget.max_steps),
            "status": "running",
            "steps": [],
            "tokens": 0,
            "cost": 0.0,
            "elapsed": 0.0,
            "no_code_streak": 0,
            "pending": None,
            "max_steps": budget.max_steps,
            "squeeze": False,
        }

    def act(state: AgentState) -> dict[str, Any]:
        exceeded = over_budget(state, budget)
        if exceeded:
            return {"status": exceeded, "error": _budget_message(exceeded, state, budget)}
        update: dict[str, Any] = {}
        squeeze = state.get("squeeze", False)
        while True:
            try:
                reply = call_model(build_messages(state, budget, squeeze=squeeze), STOP_SEQUENCES)
                break
            except ContextTooLong as exc:
                if squeeze:  # condensing was tried: nothing more can be left out
                    return update | {
                        "status": "context_length",
                        "error": f"Stopped: {exc} Even with older "
                        "observations condensed it does not fit: use a model with a longer context "
                        "window, or split the task.",
                    }
                squeeze = True
                update["squeeze"] = True
        usage = reply.usage
        cost = state.get("cost", 0.0) + (reply.cost or 0.0)
        update |= {
            "tokens": state.get("tokens", 0) + usage.input_tokens + usage.output_tokens,
            "cost": cost,
            "elapsed": state.get("elapsed", 0.0) + reply.seconds,
        }
        parsed = parse_reply(reply.text)
        pending = {
            "reply": parsed.reply,
            "thought": parsed.thought,
            "code": parsed.code,
            "dropped_blocks": parsed.dropped_blocks,
            "no_code": parsed.no_code,
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "cached_tokens": usage.cache_read_tokens,
            "cost": reply.cost,
            "model_seconds": reply.seconds,
        }
        if reply.refusal is not None:
            step = _step(
                state,
                pending | {"code": None},
                observation="(the model refused: nothing ran)",
                ok=False,
                error="refused",
            )
            return update | {
                "pending": None,
                "steps": recorded(state, step),
                "status": "refused",
                "error": f"Stopped: the model refused the task ({reply.refusal}).",
            }
        if parsed.code is not None:
            return update | {"pending": pending, "no_code_streak": 0}
        streak = state.get("no_code_streak", 0) + 1
        step = _step(state, pending, observation="(no code: nothing ran)", ok=parsed.answer is not None)
        update |= {"pending": None, "steps": recorded(state, step), "no_code_streak": streak}
        if parsed.answer is not None:
            update |= {"status": "finished", "answer": parsed.answer}
        elif streak >= NO_CODE_LIMIT:
            # Prose is not taken as an answer: a cut-off or confused reply must not count as a success.
            what = (
                "an empty reply"
                if parsed.no_code == "empty"
                else "a reply without a code block or a final answer"
            )
            update |= {"status": "error", "error": f"Stopped: the model sent {what} {streak} times in a row."}
        return update

    def execute(state: AgentState) -> dict[str, Any]:
        pending = state["pending"]
        assert pending is not None, "`act` leaves the reply to run in `pending`"
        if state.get("interrupted_action"):
            # Running it again could repeat a write it already made; the model decides what to redo.
            step = _step(
                state,
                pending,
                observation=f"{RESUMED_NOTICE}\n{INTERRUPTED_ACTION_NOTICE}",
                ok=False,
                error="interrupted",
            )
            return {
                "pending": None,
                "steps": recorded(state, step),
                "interrupted_action": False,
                "resumed": False,
            }
        first_after_resume = state.get("resumed", False)
        outcome = runtime.execute(
            state["run_id"],
            state["task"],
            len(state.get("steps", [])),
            pending["code"],
            budget.action_timeout,
            fresh_kernel_notice=first_after_resume,
            start_url=state.get("start_url"),
        )
        step = _step(
            state,
            pending,
            observation=outcome.observation,
            ok=outcome.ok,
            error=outcome.error,
            full_output=outcome.full_output,
            execute_seconds=outcome.seconds,
            used_browser=outcome.used_browser,
        )
        update: dict[str, Any] = {
            "pending": None,
            "steps": recorded(state, step, outcome.calls),
            "resumed": False,
            "elapsed": state.get("elapsed", 0.0) + outcome.seconds,
        }
        if outcome.finished:
            update |= {"status": "finished", "answer": outcome.answer}
        return update

    def finish(state: AgentState) -> dict[str, Any]:
        runtime.end_run(state["run_id"], state["status"], state.get("answer"), state.get("error"))
        return {}

    def after_act(state: AgentState) -> str:
        if state.get("status") != "running":
            return "finish"
        return "execute" if state.get("pending") else "act"

    def after_execute(state: AgentState) -> str:
        return "finish" if state.get("status") != "running" else "act"

    graph = StateGraph(AgentState)
    graph.add_node("prepare", prepare)
    graph.add_node("act", act)
    graph.add_node("execute", execute)
    graph.add_node("finish", finish)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "act")
    graph.add_conditional_edges("act", after_act, ["execute", "act", "finish"])
    graph.add_conditional_edges("execute", after_execute, ["act", "finish"])
    graph.add_edge("finish", END)
    return graph.compile(checkpointer=checkpointer)


def _step(
    state: AgentState,
    pending: dict[str, Any],
    *,
    observation: str,
    ok: bool,
    error: str | None = None,
    full_output: str = "",
    execute_seconds: float = 0.0,
    used_browser: bool = False,
) -> StepRecord:
    """The next step: the model's `pending` reply (the `StepRecord` fields `act` filled in) and its
    outcome."""
    return StepRecord(
        index=len(state.get("steps", [])),
        **pending,
        observation=observation,
        ok=ok,
        error=error,
        full_output=full_output,
        execute_seconds=execute_seconds,
        used_browser=used_browser,
    )


def _budget_message(status: RunStatus, state: AgentState, budget: Budget) -> str:
    return {
        "max_steps": (
            f"Stopped: the run used all {max_steps_of(state, budget)} steps without calling finish()."
        ),
        "max_wall_time": f"Stopped: the run took longer than {budget.max_wall_seconds:.0f} s.",
        "max_tokens": f"Stopped: the run used more than {budget.max_tokens} model tokens.",
        "max_cost": (
            f"Stopped: the run cost ${state.get('cost', 0.0):.4f}, reaching its limit of ${budget.max_cost}."
        ),
    }[status]

"""The agent as a LangGraph state machine: prepare -> act -> execute -> act ... -> finish.

Graph state holds only serialisable data (texts, numbers, lists of dicts), so a checkpoint can resume
a killed run. Live objects (the model, kernels, the browser, the database) are reached through the
`Runtime` given to `build_graph`, at the edges: `act` calls the model, `execute` runs code and records
the step.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol, TypedDict

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.channels.delta import DeltaChannel
from langgraph.graph import END, START, StateGraph

from hybrid.agent.cost import TokenUsage
from hybrid.agent.model_calls import ContextTooLong, CostLimitReached, ModelCaller, ModelCallError
from hybrid.agent.observation import Condenser, Form, shown_observation
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
# What no store takes and no kernel runs: NUL (PostgreSQL text refuses it) and lone surrogates (not Unicode:
# they cannot be encoded, to the database, the checkpoint or the kernel). A model may send either.
UNSENDABLE = re.compile("[\x00\ud800-\udfff]")
UNSENDABLE_CODE_NOTICE = (
    "Your code was not run: it held {count} character(s) that are not valid text (NUL bytes or lone "
    "surrogates such as \\udcff), shown here as \ufffd. Write it again with valid text only; for bytes, "
    "use escapes such as b'\\xff' or '\\x00'."
)
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
    """A run's limits; `assembly.budget_from` reads them from `Settings`, which holds their defaults."""

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

    def record_model_use(
        self, run_id: str, usage: TokenUsage, cost: float | None, *, estimated: bool = False
    ) -> None:
        """Add to the run's totals what model calls outside a step used (a call that failed after it was
        partly paid for); `estimated` when some of it is an estimate."""
        ...

    def end_run(self, run_id: str, status: RunStatus, answer: str | None, error: str | None) -> None: ...


def render(template: str, **values: Any) -> str:
    return PROMPTS.get_template(template).render(**values).strip()


def max_steps_of(state: AgentState, budget: Budget) -> int:
    """The run's own step budget (kept in its state, so a resumed run keeps it), else the agent's."""
    return state.get("max_steps") or budget.max_steps


class Transcript:
    """One run's prompt, kept between steps: each step's messages are rendered once, and again only when
    its observation's form changes (see `Condenser`), so the work per step does not grow with the run
    (only the list of messages handed to the model does)."""

    def __init__(self, state: AgentState) -> None:
        self.run_id = state.get("run_id")
        self.head: list[BaseMessage] = [
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
        self.condenser = Condenser(head_chars=sum(len(m.text) for m in self.head))
        self._rendered: dict[int, tuple[Form, list[BaseMessage]]] = {}

    def messages(self, state: AgentState, budget: Budget, *, squeeze: bool) -> list[BaseMessage]:
        steps = state.get("steps", [])
        messages = list(self.head)
        for index, (step, form) in enumerate(
            zip(steps, self.condenser.forms(steps, squeeze=squeeze), strict=True)
        ):
            kept = self._rendered.get(index)
            if kept is None or kept[0] != form:
                kept = (form, self._render(state, budget, index, step, form))
                self._rendered[index] = kept
            messages += kept[1]
        return messages

    @staticmethod
    def _render(
        state: AgentState, budget: Budget, index: int, step: dict[str, Any], form: Form
    ) -> list[BaseMessage]:
        left = max_steps_of(state, budget) - index - 1
        if step.get("code") is not None:
            text = render(
                "observation.md.jinja",
                observation=shown_observation(step, form),
                steps_left=left,
                dropped_blocks=step.get("dropped_blocks", 0),
            )
        else:
            text = render("no_code.md.jinja", why=step.get("no_code"), steps_left=left)
        return [AIMessage(step["reply"]), HumanMessage(text)]


def build_messages(
    state: AgentState, budget: Budget, *, squeeze: bool = False, transcript: Transcript | None = None
) -> list[BaseMessage]:
    """The prompt for the next step. Each step's messages are written once and never change after (their
    turn count included), except when an older observation is condensed: see `Condenser`. `transcript`
    keeps what earlier steps rendered (a fresh one renders everything)."""
    if transcript is None or transcript.run_id != state.get("run_id"):
        transcript = Transcript(state)
    return transcript.messages(state, budget, squeeze=squeeze or state.get("squeeze", False))


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
    transcripts: dict[str, Transcript] = {}  # the current run's only

    def prompt(state: AgentState, squeeze: bool) -> list[BaseMessage]:
        transcript = transcripts.get(state["run_id"])
        if transcript is None:
            transcripts.clear()
            transcript = transcripts[state["run_id"]] = Transcript(state)
        return build_messages(state, budget, squeeze=squeeze, transcript=transcript)

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
        tokens, cost = state.get("tokens", 0), state.get("cost", 0.0)
        while True:
            try:
                reply = call_model(prompt(state, squeeze), STOP_SEQUENCES)
                break
            except ModelCallError as exc:
                if exc.usage != TokenUsage():
                    # Attempts that broke off were paid for but belong to no step: the run's totals get them.
                    runtime.record_model_use(
                        state["run_id"],
                        exc.usage,
                        exc.cost if call_model.priced else None,
                        estimated=exc.estimated,
                    )
                    tokens += exc.usage.input_tokens + exc.usage.output_tokens
                    cost += exc.cost
                    update |= {"tokens": tokens, "cost": cost}
                if isinstance(exc, CostLimitReached):
                    # A resumed run's caller may know its spending before the state does.
                    spent = state | {"cost": max(cost, call_model.spent)}
                    return update | {
                        "status": "max_cost",
                        "error": _budget_message("max_cost", spent, budget),
                    }
                if not isinstance(exc, ContextTooLong):
                    raise
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
        update |= {
            "tokens": tokens + usage.input_tokens + usage.output_tokens,
            "cost": cost + (reply.cost or 0.0),
            "elapsed": state.get("elapsed", 0.0) + reply.seconds,
        }
        parsed = parse_reply(reply.text)
        pending = {
            "reply": _storable(parsed.reply),
            "thought": _storable(parsed.thought),
            "code": _storable(parsed.code) if parsed.code is not None else None,
            "dropped_blocks": parsed.dropped_blocks,
            "no_code": parsed.no_code,
            "prompt_tokens": usage.input_tokens,
            "completion_tokens": usage.output_tokens,
            "cached_tokens": usage.cache_read_tokens,
            "cost": reply.cost,
            "usage_estimated": reply.estimated,
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
        if parsed.code is not None and (unsendable := len(UNSENDABLE.findall(parsed.code))):
            notice = UNSENDABLE_CODE_NOTICE.format(count=unsendable)
            step = _step(state, pending, observation=notice, ok=False, error="invalid text")
            return update | {"pending": None, "steps": recorded(state, step), "no_code_streak": 0}
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


def _storable(text: str) -> str:
    """`text` with what no store takes replaced by U+FFFD (see `UNSENDABLE`)."""
    return UNSENDABLE.sub("\ufffd", text)


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

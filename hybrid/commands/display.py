"""How runs look on the terminal: each step as it happens, and the outcome at the end."""

from __future__ import annotations

import json
import re
import threading
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console, Group
from rich.syntax import Syntax
from rich.text import Text

from hybrid.commands.console import panel

if TYPE_CHECKING:  # only named in annotations: `hybrid runs list` imports this module, not the agent
    from hybrid.agent.results import RunResult
    from hybrid.config import Settings
    from sandbox import Call, CallRecord
    from workflows.lightstore import WorkflowView
    from workflows.store import StepRecord

OBSERVATION_LINES = 12
STATUS_STYLES = {"finished": "bold green", "interrupted": "yellow", "error": "bold red"}
THOUGHT_LABEL = "Thought:"
FENCE_START = re.compile(r"```|~~~")


def thought_so_far(reply: str) -> str:
    """The part of a reply being streamed that is surely thought: before any code fence, without the
    "Thought:" label, and without trailing characters that may be the start of a fence."""
    stripped = reply.lstrip()
    if THOUGHT_LABEL.lower().startswith(stripped.lower()):
        return ""  # maybe the label, still arriving
    if stripped.lower().startswith(THOUGHT_LABEL.lower()):
        stripped = stripped[len(THOUGHT_LABEL) :].lstrip()
    fence = FENCE_START.search(stripped)
    return stripped[: fence.start()].rstrip() if fence else stripped.rstrip("`~")


# After a token count (and so its cost) that includes an estimate: an attempt that broke off mid-stream
# before the provider reported its usage, counted as characters / 4.
ESTIMATED = ", partly estimated"


def format_cost(cost: float | None) -> str:
    return "cost unknown" if cost is None else f"${cost:.4f}"


def summarise_observation(observation: str, lines: int = OBSERVATION_LINES) -> str:
    shown = observation.splitlines()
    if len(shown) <= lines:
        return observation
    return "\n".join(
        [*shown[:lines], f"... ({len(shown) - lines} more lines: `hybrid runs show` has them all)"]
    )


class StepPrinter:
    """Prints the model's thinking (dimmed) and thought as they stream in, retries of its calls, then each
    step as the agent records it (called from the agent's thread). A `ModelListener` for the agent."""

    def __init__(self, console: Console, *, show_thinking: bool = True) -> None:
        self.console = console
        self.show_thinking = show_thinking
        self._reply = ""
        self._shown = 0
        self._thinking = False  # the model's thinking is being shown, on a line of its own
        self._line_open = False  # a streamed line waits for its end (a question must not be glued to it)

    def end_line(self) -> None:
        """End the line being streamed, if any: what is printed next starts a line of its own."""
        if self._line_open:
            self.console.print()
            self._line_open = False

    def thinking(self, delta: str) -> None:
        """More of the model's thinking (before its reply), dimmed; nothing with `show_thinking` off."""
        if self.show_thinking:
            self.console.print(Text(delta, style="dim italic"), end="")
            self._thinking = self._line_open = True

    def retry(self, problem: str, wait: float, attempt: int, attempts: int) -> None:
        """A model call failed and is retried: say so, and drop what was shown of the failed attempt."""
        self.end_line()
        self.console.print(
            Text(f"model call failed ({problem}); retrying in {wait:.1f} s ({attempt + 1} of {attempts})"),
            style="yellow",
            soft_wrap=True,
        )
        self._reply, self._shown, self._thinking = "", 0, False

    def text(self, delta: str) -> None:
        """More of the reply being written: its thought is shown as it comes."""
        if self._thinking:
            self.end_line()
            self._thinking = False
        self._reply += delta
        thought = thought_so_far(self._reply)
        if len(thought) > self._shown:
            self.console.print(Text(thought[self._shown :], style="italic"), end="")
            self._shown = len(thought)
            self._line_open = True

    def __call__(self, step: StepRecord, calls: list[CallRecord]) -> None:
        streamed, self._reply, self._shown = self._shown > 0, "", 0
        self._thinking = False
        self.end_line()
        parts: list[Any] = []
        if step.thought and not streamed:
            parts.append(Text(step.thought, style="italic"))
        if step.code:
            parts.append(Syntax(step.code, "python", theme="ansi_dark", word_wrap=True))
        parts.append(Text(summarise_observation(step.observation), style="dim" if step.ok else "red"))
        tokens = step.prompt_tokens + step.completion_tokens
        seconds = step.model_seconds + step.execute_seconds
        title = f"step {step.index + 1}"
        cached = f" ({step.cached_tokens} cached)" if step.cached_tokens else ""
        subtitle = (
            f"{len(calls)} call{'s' if len(calls) != 1 else ''} · {tokens} tokens{cached}"
            + (ESTIMATED if step.usage_estimated else "")
            + (f" · {format_cost(step.cost)}" if step.cost is not None else "")
            + f" · {seconds:.2f} s"
        )
        self.console.print(
            panel(
                self.console,
                Group(*parts),
                title=title,
                subtitle=subtitle,
                title_align="left",
                subtitle_align="right",
                border_style="green" if step.ok else "red",
            )
        )


def print_header(
    console: Console, settings: Settings, *, sites: list[str], model_name: str, policy: str
) -> None:
    """What the run is about to use: sites, model, policy and the code actions' isolation."""
    limits = settings.kernel_limits
    isolation = limits.isolation
    console.print(
        Text.assemble(
            ("sites ", "dim"),
            ", ".join(sites),
            (" · model ", "dim"),
            model_name,
            (" · policy ", "dim"),
            policy,
            (" · sandbox ", "dim"),
            (limits.describe(), "" if isolation.isolated and not isolation.network else "bold yellow"),
        )
    )


def print_outcome(console: Console, result: RunResult) -> None:
    style = STATUS_STYLES.get(result.status, "yellow")
    if result.answer is not None:
        console.print(
            panel(console, Text(result.answer), title="answer", title_align="left", border_style=style)
        )
    if result.error:
        console.print(Text(result.error, style=style))
    steps = f"{result.steps} step{'' if result.steps == 1 else 's'}"
    console.print(
        f"status: [{style}]{result.status}[/] · {steps} · {result.tokens} tokens"
        f"{ESTIMATED if result.usage_estimated else ''} · "
        f"{format_cost(result.cost)} · run id: [bold]{result.run_id}[/]"
    )
    if result.learned is not None:
        print_learned(console, result.learned)


def print_learned(console: Console, learned: dict[str, Any]) -> None:
    """What the run left in the workflow memory, in one line however long."""
    console.print(Text(learned["line"], style="cyan"), soft_wrap=True)


def result_json(result: RunResult) -> str:
    return json.dumps(
        {
            "run_id": result.run_id,
            "status": result.status,
            "answer": result.answer,
            "error": result.error,
            "steps": result.steps,
            "tokens": result.tokens,
            "cost": result.cost,
            "usage_estimated": result.usage_estimated,
            "workflow": result.learned,
        }
    )


class FastPathNotice:
    """Says, before it runs, that a task is done by a stored workflow with no model call, and if it failed."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, workflow: WorkflowView, error: str | None) -> None:
        named = f"workflow {workflow.name} v{workflow.version}"
        if error is None:
            line = Text.assemble(
                ("fast path: ", "bold cyan"),
                f"the task matches {named} ({workflow.status}); running it with no model call",
            )
        else:
            line = Text.assemble(("fast path failed: ", "bold yellow"), f"{named}: {error}")
        self.console.print(line, soft_wrap=True)


class TerminalConfirm:
    """Asks on the terminal before a call that writes (policy `confirm`); one question at a time."""

    def __init__(self, console: Console, printer: StepPrinter | None = None) -> None:
        self.console = console
        self.printer = printer  # whose streamed thought the question must not be glued to
        self._lock = threading.Lock()

    def __call__(self, call: Call) -> bool:
        arguments = ", ".join(
            [*(repr(a) for a in call.args), *(f"{k}={v!r}" for k, v in call.kwargs.items())]
        )
        with self._lock:
            if self.printer is not None:
                self.printer.end_line()
            # Built as Text: the arguments come from model code and must not be read as Rich markup.
            self.console.print(
                Text.assemble(("The agent wants to run ", "bold yellow"), f"{call.name}({arguments})")
            )
            return click.confirm("Allow it?", default=False)

"""What a notebook shows of a run: its steps, their calls, and the graph's checkpoints.

Each view renders itself as Markdown in Jupyter (`_repr_markdown_`) and as the same text elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.store import CapabilityCall, Step

FENCE = "````"  # four backticks: recorded output may itself contain three


def fenced(text: str, language: str = "") -> str:
    return f"{FENCE}{language}\n{text.rstrip()}\n{FENCE}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def first_line(text: str | None, width: int = 80) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= width else line[: width - 1] + "…"


@dataclass(frozen=True)
class CallView:
    """One capability call a step made: `api.demo.get_issue(...)`, its status and how long it took."""

    name: str
    args: list[Any]
    kwargs: dict[str, Any]
    status: str
    error: str | None
    result: str | None
    latency_ms: float
    writes: bool

    @classmethod
    def of(cls, call: CapabilityCall) -> CallView:
        name = f"{call.capability}.{call.target}" if call.target else call.capability
        return cls(name=name, args=list(call.arguments.get("args", [])), kwargs=dict(call.arguments.get("kwargs", {})),
                   status=call.status, error=call.error, result=call.result, latency_ms=call.latency_ms,
                   writes=call.writes)

    def as_record(self) -> dict[str, Any]:
        """The call as the run store takes it (the fields of a sandbox CallRecord)."""
        capability, _, target = self.name.partition(".")
        return {"capability": capability, "target": target, "args": self.args, "kwargs": self.kwargs,
                "writes": self.writes, "status": self.status, "result": self.result, "error": self.error,
                "latency": self.latency_ms / 1000}

    def __str__(self) -> str:
        arguments = ", ".join([*(repr(a) for a in self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())])
        outcome = self.status if self.status == "ok" else f"{self.status}: {self.error}"
        return f"{self.name}({arguments}) -> {outcome} ({self.latency_ms:.0f} ms)"


@dataclass(frozen=True)
class StepView:
    """One recorded step: the model's thought and code, what running it showed, and the calls it made."""

    index: int
    thought: str
    code: str | None
    reply: str
    observation: str
    full_output: str
    ok: bool
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost: float | None
    model_seconds: float
    execute_seconds: float
    calls: list[CallView] = field(default_factory=list)

    @classmethod
    def of(cls, step: Step, calls: list[CapabilityCall]) -> StepView:
        return cls(index=step.index, thought=step.thought, code=step.code, reply=step.reply,
                   observation=step.observation, full_output=step.full_output, ok=step.ok, error=step.error,
                   prompt_tokens=step.prompt_tokens, completion_tokens=step.completion_tokens, cost=step.cost,
                   model_seconds=step.model_seconds, execute_seconds=step.execute_seconds,
                   calls=[CallView.of(call) for call in calls])

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def output(self) -> str:
        """Everything the action printed, untrimmed when the record has it."""
        return self.full_output or self.observation

    def as_record(self) -> dict[str, Any]:
        """The step's fields as the run store takes them."""
        return {"index": self.index, "reply": self.reply, "thought": self.thought, "code": self.code,
                "observation": self.observation, "full_output": self.full_output, "error": self.error,
                "ok": self.ok, "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "cost": self.cost, "model_seconds": self.model_seconds, "execute_seconds": self.execute_seconds}

    def _repr_markdown_(self) -> str:
        parts = [(f"**Step {self.index}** · {'ok' if self.ok else 'failed'} · {self.prompt_tokens}+"
                 f"{self.completion_tokens} tokens · model {self.model_seconds:.2f} s · run "
                 f"{self.execute_seconds:.2f} s")]
        if self.thought:
            parts.append(f"*{self.thought}*")
        if self.code is not None:
            parts.append(fenced(self.code, "python"))
        parts.append(fenced(self.output, "text"))
        if self.calls:
            parts.append(table(["call", "status", "ms"], [[_short(str(c).split(" -> ")[0]), c.status,
                                                           f"{c.latency_ms:.0f}"] for c in self.calls]))
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self._repr_markdown_()


@dataclass(frozen=True)
class Checkpoint:
    """One LangGraph checkpoint of a run: the state after a node ran, and the node that runs next."""

    id: str
    graph_step: int
    next: tuple[str, ...]
    steps: int
    status: str | None
    created_at: datetime | None
    values: dict[str, Any]

    def __str__(self) -> str:
        upcoming = ", ".join(self.next) or "(end)"
        return f"checkpoint {self.graph_step}: {self.steps} steps done, status {self.status}, next {upcoming}"


class History(list[Checkpoint]):
    """A run's checkpoints, oldest first."""

    def _repr_markdown_(self) -> str:
        rows = [[c.graph_step, c.steps, c.status or "", ", ".join(c.next) or "(end)",
                 c.created_at.strftime("%H:%M:%S.%f")[:-3] if c.created_at else "", c.id] for c in self]
        return table(["#", "steps done", "status", "next", "at", "checkpoint id"], rows)


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"

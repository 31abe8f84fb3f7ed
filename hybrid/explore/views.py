"""What a notebook shows of a run: its steps, their calls, and the graph's checkpoints.

Each view renders itself as Markdown in Jupyter (`_repr_markdown_`) and as the same text elsewhere.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from hybrid.agent.checkpoints import Checkpoint
from sandbox import CallRecord
from sandbox.text import ELLIPSIS, clip
from workflows.store import StepRecord, StepRow

FENCE = "````"  # four backticks: recorded output may itself contain three


def fenced(text: str, language: str = "") -> str:
    return f"{FENCE}{language}\n{text.rstrip()}\n{FENCE}"


def table(header: list[str], rows: list[list[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


class StepView(StepRecord):
    """One recorded step as a notebook shows it: the step's record (the model's thought and code, what
    running it showed) and the calls it made."""

    model_config = ConfigDict(frozen=True)

    calls: list[CallRecord] = Field(default_factory=list)

    @classmethod
    def of(cls, step: StepRow, calls: list[CallRecord]) -> StepView:
        return cls(**step.record().model_dump(), calls=calls)

    def record(self) -> StepRecord:
        """The step as the run store takes it."""
        return StepRecord.model_validate(self.model_dump(exclude={"calls"}))

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def output(self) -> str:
        """Everything the action printed, untrimmed when the record has it."""
        return self.full_output or self.observation

    def _repr_markdown_(self) -> str:
        parts = [
            (
                f"**Step {self.index}** · {'ok' if self.ok else 'failed'} · {self.prompt_tokens}+"
                f"{self.completion_tokens} tokens · model {self.model_seconds:.2f} s · run "
                f"{self.execute_seconds:.2f} s"
            )
        ]
        if self.thought:
            parts.append(f"*{self.thought}*")
        if self.code is not None:
            parts.append(fenced(self.code, "python"))
        parts.append(fenced(self.output, "text"))
        if self.calls:
            parts.append(
                table(
                    ["call", "status", "ms"],
                    [
                        [
                            clip(c.describe().split(" -> ")[0], 100, marker=ELLIPSIS),
                            c.status,
                            f"{c.latency * 1000:.0f}",
                        ]
                        for c in self.calls
                    ],
                )
            )
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self._repr_markdown_()


class History(list[Checkpoint]):
    """A run's checkpoints, oldest first."""

    def _repr_markdown_(self) -> str:
        rows = [
            [
                c.graph_step,
                c.steps,
                c.status or "",
                ", ".join(c.next) or "(end)",
                c.created_at.strftime("%H:%M:%S.%f")[:-3] if c.created_at else "",
                c.id,
            ]
            for c in self
        ]
        return table(["#", "steps done", "status", "next", "at", "checkpoint id"], rows)

"""The judge stage: with no evaluator for a task, the model itself decides whether a finished run achieved
it (as workflow-memory methods do online), and only a run judged successful is learned from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from langchain_core.messages import HumanMessage

from hybrid.agent.graph import render
from hybrid.agent.model_calls import ModelCaller
from hybrid.agent.observation import condense
from workflows.store import StepRecord

VERDICT = re.compile(r"^\s*\**verdict\**\s*:\s*\**\s*(success|failure)", re.IGNORECASE | re.MULTILINE)
REASON = re.compile(r"^\s*\**reason\**\s*:\s*\**\s*(.+)", re.IGNORECASE | re.MULTILINE)
STEP_OBSERVATION_CHARS = 1500


Judgement = Literal["success", "failure"]


@dataclass(frozen=True)
class Verdict:
    judgement: Judgement
    reason: str

    @property
    def success(self) -> bool:
        return self.judgement == "success"


def read_verdict(reply: str) -> Verdict:
    """The verdict in the judge's reply; a reply that states none is a failure (never learn from a doubt)."""
    verdict = VERDICT.search(reply)
    reason = REASON.search(reply)
    if verdict is None:
        return Verdict("failure", f"The judge's reply states no verdict: {reply.strip()[:200]!r}")
    judgement: Judgement = "success" if verdict.group(1).lower() == "success" else "failure"
    return Verdict(judgement, reason.group(1).strip() if reason else "(no reason given)")


def judge_run(call_model: ModelCaller, task: str, steps: Sequence[StepRecord], answer: str | None) -> Verdict:
    """Ask the model whether the run (its recorded `steps`) achieved `task`."""
    shown = [
        {
            "thought": step.thought,
            "code": step.code,
            "observation": condense(step.observation, STEP_OBSERVATION_CHARS, "observation"),
        }
        for step in steps
    ]
    prompt = render("judge.md.jinja", task=task, steps=shown, answer=answer)
    # Asked once: an Anthropic cache write would cost more than the plain input.
    return read_verdict(call_model([HumanMessage(prompt)], cache=False).text)

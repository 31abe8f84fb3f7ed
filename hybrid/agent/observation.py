"""What the model sees after each action, and how older observations shrink as the run goes on."""

from __future__ import annotations

from typing import Any, Literal

from sandbox.names import BROWSER
from sandbox.text import clip

BROWSER_CAPABILITY = BROWSER
CONDENSED_CHARS = 400
OLD_OBSERVATION_CHARS = 1500
# Observations stay whole until those in the prompt outgrow this budget (about 15,000 tokens: with the
# system prompt and the replies, a prompt stays within a 32k-token model). From then on each observation
# is condensed once KEEP_FULL_STEPS newer ones follow it, one a step, and stays so. A provider bills a
# repeated prompt prefix at a tenth of the price or less, and a change to an earlier message ends the
# reusable prefix there: condensing the observation of a few steps back keeps the prefix before it, at
# least PREFIX_KEPT of the prompt; an observation whose condensing would keep less stays whole for good
# (bench_condensing.py measures the prefix per step).
OBSERVATION_BUDGET_CHARS = 60_000
KEEP_FULL_STEPS = 1
PREFIX_KEPT = 0.7

# How much of a call's arguments an observation shows: enough to tell calls apart.
CALL_ARGUMENT_CHARS = 120


def render_observation(result: Any) -> str:
    """The text of one observation from a sandbox `ExecutionResult` (already trimmed in the middle)."""
    parts: list[str] = list(result.notices)
    if result.stdout:
        parts.append(result.stdout.rstrip("\n"))
    if result.stderr:
        parts.append("stderr:\n" + result.stderr.rstrip("\n"))
    if result.result is not None:
        parts.append(f"Out: {result.result}")
    for output in result.outputs:
        parts.append(
            f"[{output.mime} saved to {output.path}]" if output.path else f"[{output.mime}]\n{output.text}"
        )
    if result.error is not None:
        parts.append(
            f"{result.error.traceback.rstrip()}"
            if result.error.traceback
            else f"{result.error.name}: {result.error.message}"
        )
    if result.calls:
        parts.append(
            "Calls made:\n" + "\n".join(f"- {c.describe(CALL_ARGUMENT_CHARS)}" for c in result.calls)
        )
    if result.finished:
        parts.append(f"finish() received: {result.answer!r}")
    if not parts:
        parts.append("(The code ran and printed nothing. Print the values you need to see.)")
    return "\n".join(parts)


def full_record(result: Any) -> str:
    """Everything the action produced, untrimmed, for the run record."""
    sections = [
        ("stdout", result.full_stdout),
        ("stderr", result.full_stderr),
        ("result", result.full_result),
        ("error", result.error.traceback if result.error else None),
    ]
    return "\n".join(f"--- {name} ---\n{text}" for name, text in sections if text)


def condense(observation: str, limit: int, what: str) -> str:
    return clip(
        observation,
        limit,
        marker=lambda cut: f"\n[... {what} condensed: {len(cut)} more characters not shown]",
    )


Form = Literal["whole", "condensed", "squeezed"]


def shown_observation(step: dict[str, Any], form: Form) -> str:
    """The observation of `step` as the prompt shows it in `form`."""
    observation: str = step["observation"]
    if form == "whole":
        return observation
    if step.get("used_browser"):
        return condense(
            observation, CONDENSED_CHARS, "older page observation; observe again for the current page"
        )
    if form == "squeezed":
        return condense(
            observation, CONDENSED_CHARS, "older observation, condensed to fit the context window"
        )
    return condense(
        observation, OLD_OBSERVATION_CHARS, "older observation; the kernel still has its variables"
    )


class Condenser:
    """Decides, step by step, which observations the prompt shows condensed (see OBSERVATION_BUDGET_CHARS).

    Each observation is decided once, as it would be at the step where KEEP_FULL_STEPS newer ones follow
    it, from the sizes of the steps up to then: the decisions do not depend on how far the run has got when
    they are asked for (a resumed run's prompt is the one it had), and each step decides at most one, so
    the work per step does not grow with the run. `head_chars` is the size of what comes before the steps
    (system prompt, task).
    """

    def __init__(self, head_chars: int = 0) -> None:
        self.head_chars = head_chars
        self.condensed: list[bool] = []
        self._before = head_chars  # characters of the prompt before the first undecided step
        self._observations = 0  # characters of the observations before it, as shown

    def forms(self, steps: list[dict[str, Any]], *, squeeze: bool = False) -> list[Form]:
        """Each step's observation's form in the prompt after `steps`. `squeeze` condenses every one but
        the last, for a prompt that outgrew the model's context window."""
        while len(self.condensed) < len(steps) - KEEP_FULL_STEPS:
            self._decide(steps)
        forms: list[Form] = [
            "condensed" if i < len(self.condensed) and self.condensed[i] else "whole"
            for i in range(len(steps))
        ]
        if squeeze:
            forms[:-1] = ["squeezed"] * (len(steps) - 1)
        return forms

    def _decide(self, steps: list[dict[str, Any]]) -> None:
        index = len(self.condensed)
        step, newer = steps[index], steps[index + 1 : index + 1 + KEEP_FULL_STEPS]
        whole = len(step["observation"])
        condensed = len(shown_observation(step, "condensed"))
        reply = len(step.get("reply", ""))
        # The prompt when the step is decided: what comes before it, its reply, then the newer steps whole.
        after = sum(len(s.get("reply", "")) + len(s["observation"]) for s in newer)
        observations = self._observations + whole + sum(len(s["observation"]) for s in newer)
        changed = condensed + after  # from the first changed character to the end
        size = self._before + reply + changed
        decision = (
            observations > OBSERVATION_BUDGET_CHARS
            and condensed < whole
            and changed <= (1 - PREFIX_KEPT) * size
        )
        self.condensed.append(decision)
        shown = condensed if decision else whole
        self._before += reply + shown
        self._observations += shown


def observations_for_prompt(steps: list[dict[str, Any]], *, squeeze: bool = False) -> list[str]:
    """Each step's observation as it goes into the next prompt (see `Condenser`)."""
    forms = Condenser().forms(steps, squeeze=squeeze)
    return [shown_observation(step, form) for step, form in zip(steps, forms, strict=True)]

"""What the model sees after each action, and how older observations shrink as the run goes on."""

from __future__ import annotations

from typing import Any

from sandbox.names import BROWSER
from sandbox.text import clip

BROWSER_CAPABILITY = BROWSER
CONDENSED_CHARS = 400
OLD_OBSERVATION_CHARS = 1500
# Older observations are condensed all at once when the observations in the prompt outgrow this budget
# (about 15,000 tokens: with the system prompt and the replies, a prompt stays within a 32k-token model),
# never one step at a time: a provider bills a repeated prompt prefix at a tenth of the price or less,
# and every change to an earlier message ends the reusable prefix there, so condensing pays for its
# cache miss only many steps later (bench_agent.py measures it). The last KEEP_FULL_STEPS stay whole.
OBSERVATION_BUDGET_CHARS = 60_000
KEEP_FULL_STEPS = 5


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


def observations_for_prompt(steps: list[dict[str, Any]], *, squeeze: bool = False) -> list[str]:
    """Each step's observation as it goes into the next prompt: whole until the whole ones outgrow
    OBSERVATION_BUDGET_CHARS, then all but the last few are condensed (pages to a few lines, as a page seen
    before is stale anyway; other observations to OLD_OBSERVATION_CHARS) and stay so, until the budget is
    outgrown again. So earlier messages change only once in a long while, and a long run's prompt grows by
    a condensed observation a step. `squeeze` condenses every observation but the last, for a prompt that
    outgrew the model's context window."""
    frontier = 0  # the observations before it are condensed
    whole = 0  # characters of the observations from the frontier on
    for seen, step in enumerate(steps, start=1):
        whole += len(step["observation"])
        if whole > OBSERVATION_BUDGET_CHARS:
            frontier = seen - KEEP_FULL_STEPS
            whole = sum(len(s["observation"]) for s in steps[frontier:seen])
    if squeeze:
        frontier = max(frontier, len(steps) - 1)
    return _shown(steps, frontier, squeezed=squeeze)


def _shown(steps: list[dict[str, Any]], frontier: int, squeezed: bool = False) -> list[str]:
    shown = []
    for i, step in enumerate(steps):
        observation = step["observation"]
        if i < frontier and step.get("used_browser"):
            observation = condense(
                observation, CONDENSED_CHARS, "older page observation; observe again for the current page"
            )
        elif i < frontier and squeezed:
            observation = condense(
                observation, CONDENSED_CHARS, "older observation, condensed to fit the context window"
            )
        elif i < frontier:
            observation = condense(
                observation, OLD_OBSERVATION_CHARS, "older observation; the kernel still has its variables"
            )
        shown.append(observation)
    return shown

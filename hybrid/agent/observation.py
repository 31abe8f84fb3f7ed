"""What the model sees after each action, and how older observations shrink as the run goes on."""

from __future__ import annotations

from typing import Any, Protocol

BROWSER_CAPABILITY = "browser"
CONDENSED_CHARS = 400
OLD_OBSERVATION_CHARS = 1500
# Older observations are condensed in blocks, not one step at a time: between two blocks every earlier
# message stays the same, so a provider's prompt cache keeps reusing the prompt up to the newest step.
# The last KEEP_* observations always stay whole; once CONDENSE_BLOCK more have piled up, they are
# condensed together.
KEEP_FULL_STEPS = 5
KEEP_FULL_BROWSER_STEPS = 2
CONDENSE_BLOCK = 5

class CallLike(Protocol):
    capability: str
    target: str
    status: str
    error: str | None
    latency: float
    args: list[Any]
    kwargs: dict[str, Any]


def describe_call(call: CallLike) -> str:
    arguments = [repr(a) for a in call.args] + [f"{k}={v!r}" for k, v in call.kwargs.items()]
    shown = ", ".join(arguments)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    line = f"{call.capability}.{call.target}({shown})" if call.target else f"{call.capability}({shown})"
    outcome = "ok" if call.status == "ok" else f"{call.status}: {call.error}"
    return f"{line} -> {outcome} ({call.latency * 1000:.0f} ms)"


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
        parts.append(f"[{output.mime} saved to {output.path}]" if output.path else f"[{output.mime}]\n{output.text}")
    if result.error is not None:
        parts.append(f"{result.error.traceback.rstrip()}" if result.error.traceback
                     else f"{result.error.name}: {result.error.message}")
    if result.calls:
        parts.append("Calls made:\n" + "\n".join(f"- {describe_call(c)}" for c in result.calls))
    if result.finished:
        parts.append(f"finish() received: {result.answer!r}")
    if not parts:
        parts.append("(The code ran and printed nothing. Print the values you need to see.)")
    return "\n".join(parts)


def full_record(result: Any) -> str:
    """Everything the action produced, untrimmed, for the run record."""
    sections = [("stdout", result.full_stdout), ("stderr", result.full_stderr), ("result", result.full_result),
                ("error", result.error.traceback if result.error else None)]
    return "\n".join(f"--- {name} ---\n{text}" for name, text in sections if text)


def condense(observation: str, limit: int, what: str) -> str:
    if len(observation) <= limit:
        return observation
    return (f"{observation[:limit].rstrip()}\n[... {what} condensed: {len(observation) - limit} more "
            "characters not shown]")


def condensed_before(count: int, keep: int, block: int = CONDENSE_BLOCK) -> int:
    """How many of the first `count` items are condensed when the last `keep` stay whole and the rest
    are condensed `block` at a time: a multiple of `block`, so it changes once every `block` items."""
    return max(0, (count - keep) // block * block)


def observations_for_prompt(steps: list[dict[str, Any]], *, squeeze: bool = False) -> list[str]:
    """Each step's observation as it goes into the next prompt. Older browser pages shrink to a few lines (a
    page seen before is stale anyway) and other older observations to OLD_OBSERVATION_CHARS, in blocks
    (see CONDENSE_BLOCK), so each step adds a bounded amount to the prompt and earlier messages rarely
    change. `squeeze` condenses every observation but the last, for a prompt that outgrew the model's
    context window."""
    browser_steps = [i for i, step in enumerate(steps) if step.get("used_browser")]
    old_pages = set(browser_steps[:condensed_before(len(browser_steps), KEEP_FULL_BROWSER_STEPS)])
    old_steps = condensed_before(len(steps), KEEP_FULL_STEPS)
    shown = []
    for i, step in enumerate(steps):
        observation = step["observation"]
        if i in old_pages:
            observation = condense(observation, CONDENSED_CHARS, "older page observation; observe again for the current page")
        elif squeeze and i < len(steps) - 1:
            observation = condense(observation, CONDENSED_CHARS, "older observation, condensed to fit the context window")
        elif i < old_steps:
            observation = condense(observation, OLD_OBSERVATION_CHARS, "older observation; the kernel still has its variables")
        shown.append(observation)
    return shown

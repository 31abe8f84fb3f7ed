"""What the model sees after each action, and how older observations shrink as the run goes on."""

from __future__ import annotations

from typing import Any, Protocol

BROWSER_CAPABILITY = "browser"
CONDENSED_CHARS = 400
KEEP_FULL_BROWSER_STEPS = 2
# Any observation this many steps old is cut to OLD_OBSERVATION_CHARS: its values live on in the kernel.
OLD_AFTER_STEPS = 5
OLD_OBSERVATION_CHARS = 1500


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


def observations_for_prompt(steps: list[dict[str, Any]]) -> list[str]:
    """Each step's observation as it goes into the next prompt. The last few browser observations stay
    whole and older ones shrink to a few lines (a page seen before is stale anyway); every observation
    older than a few steps shrinks too. So each step adds a bounded amount to the prompt."""
    browser_steps = [i for i, step in enumerate(steps) if step.get("used_browser")]
    recent_pages = set(browser_steps[-KEEP_FULL_BROWSER_STEPS:])
    shown = []
    for i, step in enumerate(steps):
        observation = step["observation"]
        if step.get("used_browser") and i not in recent_pages:
            observation = condense(observation, CONDENSED_CHARS, "older page observation; observe again for the current page")
        elif len(steps) - i > OLD_AFTER_STEPS:
            observation = condense(observation, OLD_OBSERVATION_CHARS, "older observation; the kernel still has its variables")
        shown.append(observation)
    return shown

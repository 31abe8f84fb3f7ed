"""What the model sees of earlier observations: stable from step to step (a provider's prompt cache reuses
the prompt up to the newest step), condensed all at once when they outgrow their budget."""

from __future__ import annotations

import pytest

from hybrid.agent.observation import KEEP_FULL_STEPS, OBSERVATION_BUDGET_CHARS, observations_for_prompt

pytestmark = pytest.mark.kernel


def steps_printing(count: int, chars: int, browser_every: int = 0) -> list[dict]:
    return [
        {
            "observation": f"{i:03}" + "x" * (chars - 3),
            "used_browser": bool(browser_every) and i % browser_every == 0,
        }
        for i in range(count)
    ]


def test_earlier_observations_change_only_when_the_budget_is_outgrown() -> None:
    steps = steps_printing(60, 3000, browser_every=3)
    changes = []
    for seen in range(2, len(steps) + 1):
        before, now = observations_for_prompt(steps[: seen - 1]), observations_for_prompt(steps[:seen])
        if now[:-1] != before:
            changes.append(seen)
        whole = [text for text, step in zip(now, steps, strict=False) if text == step["observation"]]
        assert sum(map(len, whole)) <= OBSERVATION_BUDGET_CHARS  # the rest is condensed
        kept = min(KEEP_FULL_STEPS, seen)
        assert now[-kept:] == [step["observation"] for step in steps[seen - kept : seen]]
    # With 3,000 characters a step, the 60,000-character budget is outgrown every 15 steps or so, not every
    # step.
    assert 2 <= len(changes) <= 5, changes


def test_condensed_observations_say_so_and_pages_shrink_most() -> None:
    shown = observations_for_prompt(steps_printing(40, 3000, browser_every=2))
    assert "older page observation; observe again" in shown[0] and len(shown[0]) < 600
    assert "older observation; the kernel still has its variables" in shown[1] and len(shown[1]) < 1700


def test_a_short_run_is_append_only() -> None:
    steps = steps_printing(15, 2000)
    assert observations_for_prompt(steps) == [s["observation"] for s in steps]


def test_squeeze_condenses_all_but_the_last() -> None:
    shown = observations_for_prompt(steps_printing(4, 3000), squeeze=True)
    assert all("condensed to fit the context window" in text for text in shown[:-1])
    assert len(shown[-1]) == 3000

"""What the model sees of earlier observations: stable from step to step (a provider's prompt cache reuses
the prompt up to the newest step), condensed one a step, a few steps back, once they outgrow their budget."""

from __future__ import annotations

import itertools
import os
import statistics

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


def test_each_step_condenses_at_most_one_earlier_observation_and_keeps_the_newest_whole() -> None:
    steps = steps_printing(60, 3000, browser_every=3)
    condensed_at = []
    for seen in range(2, len(steps) + 1):
        before, now = observations_for_prompt(steps[: seen - 1]), observations_for_prompt(steps[:seen])
        changed = [i for i in range(seen - 1) if now[i] != before[i]]
        assert changed in ([], [seen - 1 - KEEP_FULL_STEPS]), (seen, changed)
        condensed_at += changed
        kept = min(KEEP_FULL_STEPS, seen)
        assert now[-kept:] == [step["observation"] for step in steps[seen - kept : seen]]
    # Nothing is condensed before the observations outgrow their budget; every step after that condenses one.
    first = OBSERVATION_BUDGET_CHARS // 3000 - KEEP_FULL_STEPS
    assert condensed_at == list(range(first, 60 - KEEP_FULL_STEPS)), condensed_at


def prompts(steps: list[dict], shown_by, head: str = "h" * 6000) -> list[str]:
    """The prompt before each step, as the text a provider would cache: the head, then each step."""
    return [head + "".join(shown_by(steps[:seen])) for seen in range(1, len(steps) + 1)]


def reused(prompts: list[str]) -> list[float]:
    return [len(os.path.commonprefix([a, b])) / len(b) for a, b in itertools.pairwise(prompts)]


def test_condensing_keeps_most_of_the_prompt_reusable_at_every_step() -> None:
    steps = steps_printing(20, 7000)
    condensing = reused(prompts(steps, observations_for_prompt))
    append_only = reused(prompts(steps, lambda seen: [s["observation"] for s in seen]))
    # Below 0.7 only where an append-only transcript is too (a prompt of one large observation).
    assert all(share >= min(0.7, plain) for share, plain in zip(condensing, append_only, strict=True))
    assert condensing != append_only, "the run is long enough to condense"
    assert statistics.mean(condensing) >= statistics.mean(append_only) - 0.03
    assert len(prompts(steps, observations_for_prompt)[-1]) < len(
        prompts(steps, lambda seen: [s["observation"] for s in seen])[-1]
    )


def test_condensed_observations_say_so_and_pages_shrink_most() -> None:
    shown = observations_for_prompt(steps_printing(40, 3000, browser_every=2))
    assert "older page observation; observe again" in shown[30] and len(shown[30]) < 600
    assert "older observation; the kernel still has its variables" in shown[31] and len(shown[31]) < 1700


def test_a_short_run_is_append_only() -> None:
    steps = steps_printing(15, 2000)
    assert observations_for_prompt(steps) == [s["observation"] for s in steps]


def test_squeeze_condenses_all_but_the_last() -> None:
    shown = observations_for_prompt(steps_printing(4, 3000), squeeze=True)
    assert all("condensed to fit the context window" in text for text in shown[:-1])
    assert len(shown[-1]) == 3000

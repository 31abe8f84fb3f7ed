"""Figures for the agent loop: framework overhead per step, prompt tokens per step over 20 steps, the
checkpoint storage a run leaves behind (SQLite), and how much of each step's prompt a provider's prompt
cache can reuse (the share of it that equals the previous step's prompt, from the start), with the input
that would be billed under a 90% cache discount, for block condensing (the agent's), per-step condensing
(what the agent did before) and no condensing at all (append-only).

A zero-latency scripted model writes trivial actions, so what is measured is the framework itself:
graph, checkpoint, kernel round trip, observation and record. Run:
    .venv/bin/python tests/hybrid/agent/bench_agent.py
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

from langchain_core.messages import BaseMessage
from pydantic import Field

import apis
from hybrid.agent import observation
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo

STEPS = 20
CACHE_DISCOUNT = 0.9


class PromptRecordingModel(ScriptedChatModel):
    """A scripted model that keeps every prompt it is sent, as the text a provider would tokenise."""

    prompts: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any):
        self.prompts.append("".join(f"<{m.type}>{m.text}" for m in messages))
        return super()._generate(messages, *args, **kwargs)


def two_thousand_character_steps(count: int = STEPS) -> list[str]:
    line = (
        """print("\\n".join(f'[{i:02}] link "Issue number {i:02} with a realistic title here"'"""
        """ for i in range(40)))"""
    )
    return [line for _ in range(count - 1)] + ["finish('done')"]


def reused_prefix(prompts: list[str]) -> list[float]:
    """For each step after the first, the share of its prompt that equals the previous prompt from the
    start."""
    return [
        len(os.path.commonprefix([before, now])) / len(now) for before, now in itertools.pairwise(prompts)
    ]


def billed_input(prompts: list[str]) -> float:
    """Characters of input billed over the run when a cached prefix costs (1 - CACHE_DISCOUNT) of the rest."""
    shares = [0.0, *reused_prefix(prompts)]
    return sum(len(p) * (1 - share * CACHE_DISCOUNT) for p, share in zip(prompts, shares, strict=True))


# Each rule as the settings of `observation` that make the agent follow it.
CONDENSING_RULES = {
    "the agent (condensing a step back, past a budget)": {"PREFIX_KEPT": observation.PREFIX_KEPT},
    "per-step condensing (5 steps back, from the start)": {
        "OBSERVATION_BUDGET_CHARS": 0,
        "KEEP_FULL_STEPS": 5,
        "PREFIX_KEPT": 0.0,
    },
    "append-only (no condensing)": {"OBSERVATION_BUDGET_CHARS": 10**12},
}


def measure_prefix_reuse(settings: Settings, steps: int = STEPS) -> None:
    print(f"\nprompt prefix reused from the previous step, {steps} steps printing ~2,000 characters each:")
    billed: dict[str, float] = {}
    for label, rule in CONDENSING_RULES.items():
        model = PromptRecordingModel(replies=scripted_replies_for(two_thousand_character_steps(steps)))
        with (
            patch.multiple(observation, **rule),
            open_agent(
                settings, model=model, model_name="scripted", sites=["demo"], max_steps=steps
            ) as agent,
        ):
            result = agent.run(f"benchmark: prefix reuse, {label}")
        assert result.status == "finished", result
        shares = reused_prefix(model.prompts)
        billed[label] = billed_input(model.prompts)
        print(
            f"  {label}: mean {statistics.mean(shares):.2f}, lowest {min(shares):.2f}; per step "
            f"{' '.join(f'{s:.2f}' for s in shares)}"
        )
        print(
            f"    input {sum(map(len, model.prompts)):,} characters, billed-equivalent {billed[label]:,.0f} "
            f"under a {CACHE_DISCOUNT:.0%} cache discount"
        )
    baseline = billed["append-only (no condensing)"]
    print(
        "  billed-equivalent input relative to append-only: "
        + ", ".join(f"{label.split(' (')[0]} {value / baseline:.2f}x" for label, value in billed.items())
    )


def trivial_steps() -> list[str]:
    return [f"x = {i}" for i in range(STEPS - 1)] + ["finish(str(x))"]


def browsing_like_steps() -> list[str]:
    # Pages of ~3,000 characters printed each step, as browser observations would be.
    page = """print("\\n".join(f'[{i}] link "Issue number {i} with a realistic title"' for i in range(60)))"""
    return [page for _ in range(STEPS - 1)] + ["finish('done')"]


def browsing_steps() -> list[str]:
    # Paging through the issue list in the real browser: each page's observation is ~4,800 characters.
    return [
        f"print(browser.goto('/alice/tracker-core/issues?state=all&page={i + 1}'))" for i in range(STEPS - 1)
    ] + ["finish('done')"]


def measure(settings: Settings, steps: list[str], label: str, start_url: str | None = None) -> None:
    stamps: list[float] = []
    tokens: list[int] = []
    model_and_code: list[float] = []

    def on_step(step, calls) -> None:
        stamps.append(time.perf_counter())
        tokens.append(step.prompt_tokens)
        model_and_code.append(step.model_seconds + step.execute_seconds)

    model = ScriptedChatModel(replies=scripted_replies_for(steps))
    with open_agent(settings, model=model, model_name="scripted", sites=["demo"], on_step=on_step) as agent:
        with agent.runtime.fresh_session() as warm_up:  # the pool's first kernel start is not per step
            warm_up.execute("pass", timeout=30)
        began = time.perf_counter()
        result = agent.run(f"benchmark: {label}", start_url=start_url)
    assert result.status == "finished", result
    per_step = [b - a for a, b in zip([began, *stamps[:-1]], stamps, strict=True)]
    print(f"\n{label}: {result.steps} steps")
    print(
        f"  wall time per step, median: {statistics.median(per_step) * 1000:.1f} ms "
        f"(model + code inside: {statistics.median(model_and_code) * 1000:.1f} ms)"
    )
    print(f"  prompt tokens per step: {tokens}")
    print(
        f"  growth per step, median: {statistics.median(b - a for a, b in itertools.pairwise(tokens)):.0f} "
        "tokens"
    )
    stored = checkpoint_bytes(settings, result.run_id)
    print(f"  checkpoints stored: {stored / 1e6:.2f} MB, {stored / result.steps / 1000:.1f} kB per step")


def checkpoint_bytes(settings: Settings, run_id: str) -> int:
    """What the run's LangGraph checkpoints and their writes take in the SQLite checkpointer."""
    with sqlite3.connect(settings.data_dir / "checkpoints.sqlite") as connection:
        return sum(
            connection.execute(
                f"SELECT coalesce(sum(length({column})), 0) FROM {table} WHERE thread_id = ?", (run_id,)
            ).fetchone()[0]
            for table, column in (
                ("checkpoints", "checkpoint"),
                ("checkpoints", "metadata"),
                ("writes", "value"),
            )
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as data, demo_site() as site:
        settings = Settings(data_dir=Path(data), max_steps=STEPS + 5, max_tokens=10_000_000)
        register_demo(apis.SiteRegistry(settings.data_dir), site)
        measure_prefix_reuse(settings)
        measure_prefix_reuse(settings, steps=60)  # long enough for the agent to condense
        measure(settings, trivial_steps(), "trivial actions (x = i)")
        measure(settings, browsing_like_steps(), "3,000-character printed outputs")
        measure(
            settings,
            browsing_steps(),
            "browser pages (issue list, ~4,800-character observations)",
            start_url=f"{site.base_url}/projects",
        )


if __name__ == "__main__":
    main()

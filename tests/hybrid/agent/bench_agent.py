"""Figures for the agent loop: framework overhead per step, prompt tokens per step over 20 steps, and the
checkpoint storage a run leaves behind (SQLite).

A zero-latency scripted model writes trivial actions, so what is measured is the framework itself:
graph, checkpoint, kernel round trip, observation and record. Run:
    .venv/bin/python tests/hybrid/agent/bench_agent.py
"""

from __future__ import annotations

import itertools
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import apis
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import Agent
from hybrid.config import Settings
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo

STEPS = 20


def trivial_steps() -> list[str]:
    return [f"x = {i}" for i in range(STEPS - 1)] + ["finish(str(x))"]


def browsing_like_steps() -> list[str]:
    # Pages of ~3,000 characters printed each step, as browser observations would be.
    page = """print("\\n".join(f'[{i}] link "Issue number {i} with a realistic title"' for i in range(60)))"""
    return [page for _ in range(STEPS - 1)] + ["finish('done')"]


def browsing_steps() -> list[str]:
    # Paging through the issue list in the real browser: each page's observation is ~4,800 characters.
    return [f"print(browser.goto('/alice/tracker-core/issues?state=all&page={i + 1}'))"
            for i in range(STEPS - 1)] + ["finish('done')"]


def measure(settings: Settings, steps: list[str], label: str, start_url: str | None = None) -> None:
    stamps: list[float] = []
    tokens: list[int] = []
    model_and_code: list[float] = []

    def on_step(step, calls) -> None:
        stamps.append(time.perf_counter())
        tokens.append(step["prompt_tokens"])
        model_and_code.append(step["model_seconds"] + step["execute_seconds"])

    model = ScriptedChatModel(replies=scripted_replies_for(steps))
    with Agent(settings, model=model, model_name="scripted", sites=["demo"], on_step=on_step) as agent:
        with agent.runtime.fresh_session() as warm_up:  # the pool's first kernel start is not per step
            warm_up.execute("pass", timeout=30)
        began = time.perf_counter()
        result = agent.run(f"benchmark: {label}", start_url=start_url)
    assert result.status == "finished", result
    per_step = [b - a for a, b in zip([began, *stamps[:-1]], stamps, strict=True)]
    print(f"\n{label}: {result.steps} steps")
    print(f"  wall time per step, median: {statistics.median(per_step) * 1000:.1f} ms "
          f"(model + code inside: {statistics.median(model_and_code) * 1000:.1f} ms)")
    print(f"  prompt tokens per step: {tokens}")
    print(f"  growth per step, median: {statistics.median(b - a for a, b in itertools.pairwise(tokens)):.0f} tokens")
    stored = checkpoint_bytes(settings, result.run_id)
    print(f"  checkpoints stored: {stored / 1e6:.2f} MB, {stored / result.steps / 1000:.1f} kB per step")


def checkpoint_bytes(settings: Settings, run_id: str) -> int:
    """What the run's LangGraph checkpoints and their writes take in the SQLite checkpointer."""
    with sqlite3.connect(settings.data_dir / "checkpoints.sqlite") as connection:
        return sum(connection.execute(f"SELECT coalesce(sum(length({column})), 0) FROM {table} WHERE thread_id = ?",
                                      (run_id,)).fetchone()[0]
                   for table, column in (("checkpoints", "checkpoint"), ("checkpoints", "metadata"),
                                         ("writes", "value")))


def main() -> None:
    with tempfile.TemporaryDirectory() as data, demo_site() as site:
        settings = Settings(data_dir=Path(data), max_steps=STEPS + 5)
        register_demo(apis.SiteRegistry(settings.data_dir), site)
        measure(settings, trivial_steps(), "trivial actions (x = i)")
        measure(settings, browsing_like_steps(), "3,000-character printed outputs")
        measure(settings, browsing_steps(), "browser pages (issue list, ~4,800-character observations)",
                start_url=f"{site.base_url}/projects")


if __name__ == "__main__":
    main()

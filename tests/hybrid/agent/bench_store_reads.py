"""Figures for the work a run does besides its actions: how many times its workflows are retrieved and
how many statements it sends the run store, for a short and a long run of trivial steps. What grows
with the steps is per-step overhead. Run:
    .venv/bin/python tests/hybrid/agent/bench_store_reads.py
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path
from unittest.mock import patch

from sqlalchemy import event

import apis
from hybrid.agent import runtime
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo

RUNS = {"short": 2, "long": 12}


def measure(settings: Settings, steps: int) -> tuple[int, Counter[str]]:
    """One run of `steps` actions: the retrievals, and the store's statements by kind (SELECT runs, ...)."""
    retrievals: list[str] = []
    statements: Counter[str] = Counter()
    retrieve = runtime.retrieve

    def counted_retrieve(store, task, *rest, **options):
        retrievals.append(task)
        return retrieve(store, task, *rest, **options)

    def count(_connection, _cursor, statement: str, *_rest) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
        statements[f"{verb} {table.group(1) if table else '-'}"] += 1

    actions = ["x = 0", *(["x += 1"] * (steps - 2)), "finish(x)"]
    model = ScriptedChatModel(replies=scripted_replies_for(actions))
    with (
        patch.object(runtime, "retrieve", counted_retrieve),
        open_agent(settings, model=model, model_name="scripted", sites=["demo"], induce=False) as agent,
    ):
        event.listen(agent.store.engine, "before_cursor_execute", count)
        result = agent.run("Count to a number.")
    assert result.status == "finished" and result.steps == steps, result
    return len(retrievals), statements


def main() -> None:
    with tempfile.TemporaryDirectory() as home, demo_site() as demo:
        settings = Settings(data_dir=Path(home), action_timeout_seconds=30)
        register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
        measure(settings, 2)  # the first run migrates the database and warms the pool
        figures = {name: measure(settings, steps) for name, steps in RUNS.items()}
    kinds = sorted({kind for _, statements in figures.values() for kind in statements})
    print(
        f"{'':22}"
        + "".join(f"{f'{name} ({RUNS[name]} steps)':>20}" for name in RUNS)
        + f"{'per extra step':>16}"
    )
    rows = [("workflow retrievals", {name: figures[name][0] for name in RUNS})]
    rows += [(kind, {name: figures[name][1][kind] for name in RUNS}) for kind in kinds]
    extra_steps = RUNS["long"] - RUNS["short"]
    for label, values in rows:
        per_step = (values["long"] - values["short"]) / extra_steps
        print(f"{label:22}" + "".join(f"{values[name]:>20}" for name in RUNS) + f"{per_step:>16.1f}")


if __name__ == "__main__":
    main()

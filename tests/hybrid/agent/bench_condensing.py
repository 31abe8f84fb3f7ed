"""How much of each step's prompt a provider's prompt cache can reuse (the share of it that equals the
previous step's prompt, from the start) on a 20-step run with large observations (about 7,000 characters a
step), through the whole agent with a scripted model: the agent's condensing beside an append-only
transcript (nothing condensed, measured in the same run), and the templates rendered per step to build the
prompt (constant, not growing with the steps before). Run:
    .venv/bin/python tests/hybrid/agent/bench_condensing.py
"""

from __future__ import annotations

import statistics
import tempfile
from itertools import pairwise
from pathlib import Path
from unittest.mock import patch

from bench_agent import PromptRecordingModel, reused_prefix

import apis
from hybrid.agent import graph, observation
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo

STEPS = 20
LARGE_STEP = (
    """print("\\n".join(f'[{i:03}] row {i:03} of a large listing, with its fields: name, state, owner' """
    """for i in range(90)))"""
)
RULES = {
    "the agent": {"PREFIX_KEPT": observation.PREFIX_KEPT},
    "append-only": {"OBSERVATION_BUDGET_CHARS": 10**12},
}


def run_with(settings: Settings, label: str, rule: dict[str, object]) -> tuple[list[str], list[int]]:
    """The prompts of a run under `rule`, and how many templates were rendered before each model call."""
    model = PromptRecordingModel(
        replies=scripted_replies_for([LARGE_STEP] * (STEPS - 1) + ["finish('done')"])
    )
    renders: list[int] = []
    real_render = graph.render

    def counting(template: str, **values: object) -> str:
        renders.append(len(model.prompts))
        return real_render(template, **values)

    with (
        patch.multiple(observation, **rule),
        patch.object(graph, "render", counting),
        open_agent(settings, model=model, model_name="scripted", sites=["demo"], max_steps=STEPS) as agent,
    ):
        result = agent.run(f"benchmark: condensing, {label}", learn=False)
    assert result.status == "finished", result
    return model.prompts, [renders.count(step) for step in range(STEPS)]


def measure(settings: Settings) -> None:
    print(f"reusable prompt prefix per step, {STEPS} steps printing ~7,000 characters each:")
    means = {}
    for label, rule in RULES.items():
        prompts, per_step = run_with(settings, label, rule)
        shares = reused_prefix(prompts)
        means[label] = statistics.mean(shares)
        # Steps whose prompt does not extend the previous one: an earlier observation was condensed.
        condensing = [
            share
            for (before, now), share in zip(pairwise(prompts), shares, strict=True)
            if not now.startswith(before)
        ]
        lowest = f"{min(condensing):.3f} over {len(condensing)} steps" if condensing else "none"
        print(
            f"  {label}: mean {means[label]:.3f}, lowest {min(shares):.3f}; "
            f"lowest at a step that condensed: {lowest}"
        )
        print(f"    per step: {' '.join(f'{s:.2f}' for s in shares)}")
        print(
            f"    prompt at the last step {len(prompts[-1]):,} characters; templates rendered per step "
            f"{min(per_step)}-{max(per_step)} ({sum(per_step)} in all)"
        )
    print(f"  the agent's mean minus append-only's: {means['the agent'] - means['append-only']:+.3f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as data, demo_site() as site:
        settings = Settings(
            data_dir=Path(data), max_steps=STEPS + 5, max_tokens=10_000_000, induce_workflows=False
        )
        register_demo(apis.SiteRegistry(settings.data_dir), site)
        measure(settings)


if __name__ == "__main__":
    main()

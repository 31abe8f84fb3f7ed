"""Steps and tokens per task on template families, before and after induction (not collected by pytest).

    .venv/bin/python tests/workflows/bench_reuse.py

For each family, the tasks are run through the agent with scripted models three ways:
- before: an empty memory; the model replays the task's reference solution;
- after, wf: the first task's run is induced and verified; for the others the fast path is off and a
  model that uses `wf.*` when offered replies with one action, `finish(wf.<name>(...))`;
- after, fast path: the same memory; the task matches the workflow's intent template and runs with no
  model call at all.
Tokens are the scripted model's estimate (characters / 4), the same for every row.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import apis
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import Agent
from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import Task, load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite, demo_site
from hybrid.demo.registration import register_demo
from workflows.kernel import call_code
from workflows.templates import bind

FAMILIES = {2: "Who is assigned to issue #N in P?", 1: "How many open issues labelled L are in P?",
            5: "How many comments does issue #N in P have?"}


def run(settings: Settings, task: Task, steps: list[str], **options: object) -> tuple[int, int, bool]:
    model = ScriptedChatModel(replies=scripted_replies_for(steps))
    with Agent(settings, model=model, model_name="scripted", sites=["demo"], **options) as agent:
        result = agent.run(task.intent)
    return result.steps, result.tokens, evaluate(task, result.answer, None).passed


def family(demo: DemoSite, tasks: list[Task], root: Path) -> list[tuple[str, int, int, bool]]:
    rows = []
    before = Settings(data_dir=root / "before", action_timeout_seconds=30, induce_workflows=False, fast_path=False)
    after = Settings(data_dir=root / "after", action_timeout_seconds=30)
    for settings in (before, after):
        register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    for task in tasks:
        demo.reset()
        rows.append(("before", *run(before, task, task.reference_solution)))
    demo.reset()
    run(after, tasks[0], tasks[0].reference_solution)  # the run that is induced
    with Agent(after, model=ScriptedChatModel(replies=[]), sites=["demo"]) as agent:
        [workflow] = agent.store.list_workflows(statuses=["verified"])
    for task in tasks[1:]:
        arguments = bind(workflow.intent_template, workflow.parameters, task.intent)
        assert arguments is not None, f"{workflow.intent_template!r} does not match {task.intent!r}"
        demo.reset()
        rows.append(("after, wf", *run(after, task, [call_code(workflow, arguments)], fast_path=False, induce=False)))
        demo.reset()
        rows.append(("after, fast path", *run(after, task, [], induce=False)))
    return rows


def main() -> None:
    suite = load_suite()
    print("| family | mode | tasks | mean steps | mean tokens | solved |")
    print("|---|---|---|---|---|---|")
    with demo_site() as demo, tempfile.TemporaryDirectory() as tmp:
        for template_id, title in FAMILIES.items():
            tasks = [t for t in suite if t.intent_template_id == template_id]
            rows = family(demo, tasks, Path(tmp) / str(template_id))
            for mode in ("before", "after, wf", "after, fast path"):
                chosen = [r for r in rows if r[0] == mode]
                if mode == "before":
                    chosen = chosen[1:]  # the same tasks as the after rows
                steps = sum(r[1] for r in chosen) / len(chosen)
                tokens = sum(r[2] for r in chosen) / len(chosen)
                print(f"| {title} | {mode} | {len(chosen)} | {steps:.1f} | {tokens:,.0f} | "
                      f"{sum(r[3] for r in chosen)}/{len(chosen)} |")


if __name__ == "__main__":
    main()

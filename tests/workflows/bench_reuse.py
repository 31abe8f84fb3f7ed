"""Steps, tokens and time per task on whole template families, before and after induction (not collected
by pytest).

    .venv/bin/python tests/workflows/bench_reuse.py [--family ID ...]

For each family (every task of one intent template of the demo suite), the tasks are run through the
agent with scripted models three ways:
- before: an empty memory; the model replays the task's reference solution;
- with wf: the family's first task is run and induced (and verified when it only reads); for the other
  tasks the fast path is off and a model that uses `wf.*` when offered replies with one action,
  `finish(wf.<name>(...))` (a workflow that writes is verified by the first of these uses);
- fast path: the same memory; the task matches the verified workflow's intent template and runs with
  no model call at all.
Tokens are the scripted model's estimate (characters / 4), the same for every row; seconds are the wall
time of `Agent.run` (kernel start, model, actions and, before, no induction), on this machine.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import Task, load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite, demo_site
from hybrid.demo.registration import register_demo
from workflows.kernel import call_code
from workflows.templates import bind

FAMILIES = {
    1: "How many open issues labelled L are in P?",
    2: "Who is assigned to issue #N in P?",
    5: "How many comments does issue #N in P have?",
    6: "Close issue #N in P.",
    7: "Add the label L to issue #N in P.",
}
MODES = ("before", "with wf", "fast path")


@dataclass(frozen=True)
class Row:
    task: int
    mode: str
    steps: int
    tokens: int
    seconds: float
    solved: bool


def run(
    settings: Settings, demo: DemoSite, task: Task, mode: str, steps: list[str] | None, **options: object
) -> Row:
    """One task on a freshly reset site; `steps` None runs with no model at all."""
    demo.reset()
    model = None if steps is None else ScriptedChatModel(replies=scripted_replies_for(steps))
    with open_agent(
        settings, model=model, model_name=None if model is None else "scripted", sites=["demo"], **options
    ) as agent:
        began = time.perf_counter()
        result = agent.run(task.intent, start_url=task.start_url_for(demo.base_url))
        seconds = time.perf_counter() - began
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as client:
        solved = evaluate(task, result.answer, client).passed
    return Row(task.task_id, mode, result.steps, result.tokens, seconds, solved)


def family(demo: DemoSite, tasks: list[Task], root: Path) -> list[Row]:
    before = Settings(
        data_dir=root / "before", action_timeout_seconds=30, induce_workflows=False, fast_path=False
    )
    after = Settings(data_dir=root / "after", action_timeout_seconds=30)
    for settings in (before, after):
        register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    rows = [run(before, demo, task, "before", task.reference_solution) for task in tasks[1:]]
    run(after, demo, tasks[0], "induced", tasks[0].reference_solution)  # the run that is induced
    with open_agent(after, model=None, sites=["demo"]) as agent:
        [workflow] = agent.store.list_workflows()
    for task in tasks[1:]:
        arguments = bind(workflow.intent_template, workflow.parameters, task.intent)
        assert arguments is not None, f"{workflow.intent_template!r} does not match {task.intent!r}"
        rows.append(
            run(after, demo, task, "with wf", [call_code(workflow, arguments)], fast_path=False, induce=False)
        )
        rows.append(run(after, demo, task, "fast path", None, induce=False))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--family",
        type=int,
        action="append",
        choices=sorted(FAMILIES),
        help="intent template id (repeatable); default: all of " + ", ".join(map(str, FAMILIES)),
    )
    chosen = parser.parse_args().family or list(FAMILIES)
    suite = load_suite()
    print("| family | task | mode | steps | tokens | seconds | solved |")
    print("|---|---|---|---|---|---|---|")
    summary = []
    with demo_site() as demo, tempfile.TemporaryDirectory() as tmp:
        for template_id in chosen:
            tasks = [t for t in suite if t.intent_template_id == template_id]
            rows = family(demo, tasks, Path(tmp) / str(template_id))
            for row in sorted(rows, key=lambda r: (r.task, MODES.index(r.mode))):
                print(
                    f"| {template_id} | {row.task} | {row.mode} | {row.steps} | {row.tokens:,} | "
                    f"{row.seconds:.2f} | {'yes' if row.solved else 'no'} |"
                )
            for mode in MODES:
                of_mode = [r for r in rows if r.mode == mode]
                count = len(of_mode)
                summary.append(
                    (
                        FAMILIES[template_id],
                        mode,
                        count,
                        sum(r.steps for r in of_mode) / count,
                        sum(r.tokens for r in of_mode) / count,
                        sum(r.seconds for r in of_mode) / count,
                        sum(r.solved for r in of_mode),
                    )
                )
    print("\n| family | mode | tasks | mean steps | mean tokens | mean seconds | solved |")
    print("|---|---|---|---|---|---|---|")
    for title, mode, count, steps, tokens, seconds, solved in summary:
        print(
            f"| {title} | {mode} | {count} | {steps:.1f} | {tokens:,.0f} | {seconds:.2f} | {solved}/{count} |"
        )


if __name__ == "__main__":
    main()

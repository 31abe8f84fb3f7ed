"""What each task of the demo suite leaves in the workflow memory (not collected by pytest).

    .venv/bin/python tests/workflows/bench_induction.py

Every task's reference solution is replayed by a scripted model through the agent, on a freshly reset
site, each with an empty memory; the line the run ends with (saved as workflow NAME vN, or why not) is
printed per task, then counted by category.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.config import Settings
from hybrid.demo import demo_site
from hybrid.demo.registration import register_demo


def main() -> None:
    saved: Counter[str] = Counter()
    total: Counter[str] = Counter()
    print("| task | category | what the run left in memory |")
    print("|---|---|---|")
    with demo_site() as demo, tempfile.TemporaryDirectory() as tmp:
        for task in load_suite():
            settings = Settings(data_dir=Path(tmp) / str(task.task_id), action_timeout_seconds=30)
            register_demo(apis.SiteRegistry(settings.data_dir), demo, task.login_as)
            demo.reset()
            model = ScriptedChatModel(replies=scripted_replies_for(task.reference_solution))
            with open_agent(settings, model=model, model_name="scripted", sites=["demo"]) as agent:
                result = agent.run(task.intent, start_url=task.start_url_for(demo.base_url))
            learned = result.learned or {}
            total[task.category] += 1
            saved[task.category] += learned.get("name") is not None
            print(f"| {task.task_id} | {task.category} | {learned.get('line')} |", flush=True)
    print("\n| category | tasks | saved as a workflow |")
    print("|---|---|---|")
    for category in total:
        print(f"| {category} | {total[category]} | {saved[category]} |")


if __name__ == "__main__":
    main()

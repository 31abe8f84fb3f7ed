"""WebArena-Infinity's suites run through `hybrid bench` as they are published: the apps' folders and task
lists loaded as they are, each app started from its folder, reset before every task, each task judged by its
verifier in a process of its own; replies scripted per task from a folder of files named by task id (the
steps of the bed in tests/hybrid/infinity)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid.agent.models import scripted_replies_for
from hybrid.bench.infinity import load_infinity, replies_file
from hybrid.bench.report import Report
from hybrid.cli import cli
from hybrid.config import Settings

sys.path.insert(0, str(Path(__file__).parents[1] / "infinity"))  # the bed's steps, imported by name

from tasks import HELPERS, STEPS

APPS = Path(__file__).parents[2] / "fixtures" / "benchmarks" / "webarena-infinity" / "apps"


def test_every_published_task_loads_numbered_in_suite_order() -> None:
    suite = load_infinity(APPS)
    assert suite.refused == []
    assert len(suite.tasks) == sum(
        len(json.loads((APPS / app / name).read_text()))
        for app in suite.apps
        for name in ("function-tasks.json", "real-tasks.json")
    )
    assert [task.task_id for task in suite.tasks] == list(range(1, len(suite.tasks) + 1))
    first = suite.tasks[0]
    assert (first.name, first.category) == ("elation-clinical-records/function:task_1", "function")
    e1 = next(task for task in suite.tasks if task.name == "gmail/real:task_e1")
    assert (e1.category, e1.verify, e1.sites) == ("easy", "real-tasks/task_e1.py", ["gmail"])
    assert load_infinity(APPS / "gmail").apps == {"gmail": (APPS / "gmail").absolute()}


def test_a_task_without_its_verifier_or_with_an_id_twice_is_refused(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "real-tasks").mkdir(parents=True)
    (app / "server.py").write_text("")
    (app / "real-tasks" / "task_e1.py").write_text("def verify(server_url):\n    return True, 'ok'\n")
    listed = [
        {"id": "task_e1", "difficulty": "easy", "instruction": "Do it.", "verify": "real-tasks/task_e1.py"},
        {"id": "task_e1", "difficulty": "easy", "instruction": "Again.", "verify": "real-tasks/task_e1.py"},
        {"id": "task_e2", "difficulty": "easy", "instruction": "Other.", "verify": "real-tasks/task_e2.py"},
        {"id": "task_e3", "difficulty": "easy", "instruction": "Out.", "verify": "../elsewhere.py"},
        {"id": "task_e4", "difficulty": "easy", "verify": "real-tasks/task_e1.py"},
    ]
    (app / "real-tasks.json").write_text(json.dumps(listed))
    suite = load_infinity(app)
    assert [task.name for task in suite.tasks] == ["app/real:task_e1"]
    assert suite.refused == [
        "app/real:task_e1: the id appears twice in real-tasks.json",
        "app/real:task_e2: no verifier file real-tasks/task_e2.py in the app's folder",
        "app/real:task_e3: no verifier file ../elsewhere.py in the app's folder",
        "app/real[4]: instruction: Field required",
    ]
    replies = tmp_path / "replies"
    replies.mkdir()
    assert replies_file(replies, suite.tasks[0]) == replies / "task_e1.json"  # a suite of one app
    (replies / "app").mkdir()
    assert replies_file(replies, suite.tasks[0]) == replies / "app" / "task_e1.json"


def _suite(folder: Path) -> Path:
    """Two published apps: superhuman-general as it is, and gmail with one more real task that reuses
    task_e1's verifier (star Sarah Chen's Q1 roadmap email), which only a run that starts from the seed can
    fail."""
    folder.mkdir()
    (folder / "superhuman-general").symlink_to(APPS / "superhuman-general", target_is_directory=True)
    gmail = folder / "gmail"
    gmail.mkdir()
    for entry in (APPS / "gmail").iterdir():
        if entry.name != "real-tasks.json":
            (gmail / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    real = json.loads((APPS / "gmail" / "real-tasks.json").read_text())
    again = {"id": "task_again", "difficulty": "easy", "instruction": real[0]["instruction"]}
    (gmail / "real-tasks.json").write_text(json.dumps([*real, again | {"verify": real[0]["verify"]}]))
    return folder


def _replies(folder: Path, steps: dict[str, tuple[str, ...]]) -> str:
    for name, code in steps.items():
        app, _, task = name.partition("/")
        (folder / app).mkdir(parents=True, exist_ok=True)
        replies = scripted_replies_for(list(code))
        (folder / app / f"{task.split(':')[1]}.json").write_text(json.dumps(replies))
    return f"scripted:{folder}"


@pytest.mark.kernel
@pytest.mark.browser
@pytest.mark.slow
def test_two_apps_run_through_hybrid_bench_with_scripted_replies(settings: Settings, tmp_path: Path) -> None:
    suite = _suite(tmp_path / "apps")
    done = 'finish("done")'
    model = _replies(
        tmp_path / "replies",
        {
            "gmail/real:task_e1": (HELPERS, *STEPS["gmail/real:task_e1"], done),
            # Opens the app and stars nothing: passes only if task_e1's star were kept, by the server or in
            # the browser's storage (the app loads its state from localStorage, then pushes it to the server).
            "gmail/real:task_again": ("print(browser.observe())", done),
            "superhuman-general/function:task_1": (
                HELPERS,
                *STEPS["superhuman-general/function:task_1"],
                done,
            ),
            "superhuman-general/real:task_e1": (HELPERS, *STEPS["superhuman-general/real:task_e1"], done),
        },
    )
    tasks = load_infinity(suite).tasks
    ids = {
        task.name: task.task_id
        for task in tasks
        if task.name
        in {
            "gmail/real:task_e1",
            "gmail/real:task_again",
            "superhuman-general/function:task_1",
            "superhuman-general/real:task_e1",
        }
    }
    assert len(ids) == 4
    report_file, page = tmp_path / "report.json", tmp_path / "report.html"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            str(suite),
            "--model",
            model,
            "--tasks",
            ",".join(str(task_id) for task_id in sorted(ids.values())),
            "--report",
            str(page),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "refused" not in result.output
    results = {r.name: r for r in Report.load(report_file).results}
    assert {name: r.task_id for name, r in results.items()} == ids
    failures = {name: (r.status, r.failures, r.error) for name, r in results.items() if not r.passed}
    assert list(failures) == ["gmail/real:task_again"], failures
    assert results["gmail/real:task_again"].status == "finished"
    assert results["gmail/real:task_again"].failures[0].startswith("verify: ")
    assert {r.category for r in results.values()} == {"easy", "function"}
    assert all(r.eval_types == ["verify"] and r.sites == [r.name.split("/")[0]] for r in results.values())
    assert "gmail/real:task_e1" in result.output
    assert f"<td>{ids['gmail/real:task_e1']} gmail/real:task_e1</td>" in page.read_text()
    # Each verifier ran in a process of its own: none was imported here.
    assert not [name for name in sys.modules if name.startswith("verifier_")]

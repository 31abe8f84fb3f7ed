"""A WebArena-format task file run end to end on the demo site in the three modes, with scripted replies
per task: hybrid and browser pass both tasks; api answers the question and closes the issue but cannot end
on the issue's page, which url_match asks. The table puts the modes side by side."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid import Run
from hybrid.bench.report import Report
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.cli import cli
from hybrid.config import Settings
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TITLE = "Support bulk editing in the notification emails"
TASKS = [
    {
        "sites": ["demo"],
        "task_id": 1,
        "require_login": True,
        "storage_state": None,
        "start_url": "__DEMO__/alice/tracker-core/issues",
        "geolocation": None,
        "intent_template": "What is the title of issue #{{number}} in {{project}}?",
        "instantiation_dict": {"number": 17, "project": "alice/tracker-core"},
        "intent": "What is the title of issue #17 in alice/tracker-core?",
        "require_reset": False,
        "login_as": "alice",
        "eval": {
            "eval_types": ["string_match"],
            "reference_answers": {"must_include": [TITLE]},
            "reference_url": "",
            "program_html": [],
        },
        "intent_template_id": 1,
    },
    {
        "sites": ["demo"],
        "task_id": 2,
        "require_login": True,
        "storage_state": None,
        "start_url": "__DEMO__/alice/tracker-core/issues",
        "geolocation": None,
        "intent_template": "Close issue #{{number}} in {{project}} and show it to me",
        "instantiation_dict": {"number": 3, "project": "alice/tracker-core"},
        "intent": "Close issue #3 in alice/tracker-core and show it to me",
        "require_reset": True,
        "login_as": "alice",
        "eval": {
            "eval_types": ["url_match", "program_html"],
            "reference_answers": None,
            "reference_url": "__DEMO__/alice/tracker-core/issues/3",
            "program_html": [
                {
                    "url": "__DEMO__/alice/tracker-core/issues/3",
                    "locator": "document.querySelector('[aria-label=\"State\"]').outerText",
                    "required_contents": {"exact_match": "Closed"},
                }
            ],
            "url_note": "GOLD in PRED",
        },
        "intent_template_id": 2,
    },
]
API_ANSWER = "print(api.demo.get_issue(owner='alice', project='tracker-core', number=17)['title'])"
CLOSE_IN_BROWSER = (
    "print(browser.goto('/alice/tracker-core/issues/3'))\n"
    "print(browser.click(browser.find('button', 'Close issue')))"
)
REPLIES = {
    "hybrid": {1: [API_ANSWER, f"finish({TITLE!r})"], 2: [CLOSE_IN_BROWSER, "finish('Closed issue #3.')"]},
    "api": {
        1: [API_ANSWER, f"finish({TITLE!r})"],
        2: [
            "print(browser.goto('/alice/tracker-core/issues/3'))",  # no browser in this mode
            (
                "api.demo.update_issue(owner='alice', project='tracker-core', number=3, "
                "body={'state': 'closed'})"
            ),
            "finish('Closed issue #3.')",
        ],
    },
    "browser": {
        1: [
            API_ANSWER,  # no api.* in this mode
            "print(browser.goto('/alice/tracker-core/issues/17'))",
            f"finish({TITLE!r})",
        ],
        2: [CLOSE_IN_BROWSER, "finish('Closed issue #3.')"],
    },
}


def scripted(folder: Path, mode: str) -> str:
    folder.mkdir()
    for task_id, steps in REPLIES[mode].items():
        replies = [f"Thought: step {i + 1}.\n```python\n{code}\n```\n" for i, code in enumerate(steps)]
        (folder / f"{task_id}.json").write_text(json.dumps(replies))
    return f"scripted:{folder}"


@pytest.mark.slow
def test_a_webarena_file_runs_on_the_demo_site_in_three_modes(settings: Settings, tmp_path: Path) -> None:
    suite = tmp_path / "demo-webarena.json"
    suite.write_text(json.dumps(TASKS))
    reports = {}
    for mode in ("hybrid", "api", "browser"):
        options = BenchOptions(model=scripted(tmp_path / mode, mode), suite=str(suite), mode=mode)  # type: ignore[arg-type]
        reports[mode] = run_benchmark(settings, options)
    passed = {mode: {r.task_id: r.passed for r in report.results} for mode, report in reports.items()}
    assert passed == {"hybrid": {1: True, 2: True}, "api": {1: True, 2: False}, "browser": {1: True, 2: True}}
    [api_close] = [r for r in reports["api"].results if r.task_id == 2]
    assert [f.split(":")[0] for f in api_close.failures] == ["url_match"]  # the issue was closed: html passed
    by_type = {m: {row.category: row.passed for row in r.by_evaluator} for m, r in reports.items()}
    assert by_type["api"] == {"string_match": 1, "url_match": 0, "program_html": 0}  # tasks, as papers count
    assert all(r.mode == mode for mode, report in reports.items() for r in report.results)
    store = RunStore(settings.effective_database_url)
    browser_answer = next(r for r in reports["browser"].results if r.task_id == 1)
    first = store.steps_of(browser_answer.run_id)[0]
    assert "NameError" in first.observation and "'api' is not defined" in first.observation
    api_close_steps = store.steps_of(api_close.run_id)
    assert "'browser' is not defined" in api_close_steps[0].observation
    worker = settings.model_copy(update={"data_dir": settings.data_dir / "bench" / "workers" / "main"})
    prompts = {
        mode: Run.load(report.results[0].run_id, settings=worker).history()[-1].values["system_prompt"]
        for mode, report in reports.items()
    }
    assert "get_issue" in prompts["hybrid"] and "### The browser" in prompts["hybrid"]
    assert "get_issue" in prompts["api"] and "### The browser" not in prompts["api"]
    assert "get_issue" not in prompts["browser"] and "no API is available to you" in prompts["browser"]


def test_the_command_compares_modes_side_by_side(settings: Settings, tmp_path: Path) -> None:
    suite = tmp_path / "demo-webarena.json"
    suite.write_text(json.dumps(TASKS[:1]))
    folder = scripted(tmp_path / "replies", "hybrid")
    report = tmp_path / "out.json"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            str(suite),
            "--model",
            folder,
            "--mode",
            "hybrid",
            "--mode",
            "api",
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "success by mode" in result.output and "string_match" in result.output
    assert Report.load(report).mode == "hybrid" and Report.load(tmp_path / "out-api.json").mode == "api"


def test_a_users_host_is_signed_in_from_its_storage_state(
    settings: Settings, tmp_path: Path, demo, chromium
) -> None:
    """The demo site as a user's own host (no setup, no password): the browser starts with the cookies of
    the storage_state file the config names, found in the hosts file's auth_dir."""
    auth = tmp_path / "auth"
    auth.mkdir()
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{demo.base_url}/login")
    page.fill("[name=username]", "alice")
    page.fill("[name=password]", demo.password)
    page.press("[name=password]", "Enter")
    page.wait_for_url("**/projects**")
    context.storage_state(path=str(auth / "demo_state.json"))
    context.close()
    hosts = tmp_path / "hosts.toml"
    hosts.write_text(
        f'auth_dir = "auth"\n\n[demo]\nurl = "{demo.base_url}"\nspec = "{demo.openapi_url}"\n'
        f'api_url = "{demo.api_url}"\n'
    )
    task = TASKS[0] | {
        "storage_state": "./.auth/demo_state.json",
        "eval": {
            "eval_types": ["url_match", "program_html"],
            "reference_answers": None,
            "reference_url": "__DEMO__/alice/tracker-core/issues/17",
            "program_html": [
                {
                    "url": "last",
                    "locator": "document.querySelector('h1').outerText",
                    "required_contents": {"must_include": [TITLE]},
                }
            ],
        },
    }
    suite = tmp_path / "signed.json"
    suite.write_text(json.dumps([task]))
    folder = tmp_path / "replies"
    folder.mkdir()
    reply = "Thought: open it.\n```python\nprint(browser.goto('/alice/tracker-core/issues/17'))\n```\n"
    (folder / "1.json").write_text(
        json.dumps([reply, f"Thought: done.\n```python\nfinish({TITLE!r})\n```\n"])
    )
    options = BenchOptions(model=f"scripted:{folder}", suite=str(suite), mode="browser", hosts_file=hosts)
    [result] = run_benchmark(settings, options).results
    assert result.passed, result.failures or result.error
    (auth / "demo_state.json").unlink()
    [result] = run_benchmark(settings, replace(options, report=tmp_path / "again.json")).results
    assert result.status == "error" and "put demo_state.json in the hosts file's auth_dir" in (
        result.error or ""
    )


def test_the_html_report_shows_charts_and_each_run_in_chromium(
    settings: Settings, tmp_path: Path, chromium
) -> None:
    page_file = tmp_path / "report.html"
    result = CliRunner().invoke(
        cli,
        [
            "bench",
            "--model",
            "reference",
            "--tasks",
            "0,27",
            "--mode",
            "hybrid",
            "--mode",
            "browser",
            "--report",
            str(page_file),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.json").is_file() and (tmp_path / "report-browser.json").is_file()
    page = chromium.new_page()
    elsewhere: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(("file:", "data:")) else elsewhere.append(request.url),
    )
    page.goto(page_file.as_uri())
    bars = page.eval_on_selector_all(
        "svg.chart rect.bar", "rects => rects.map(r => [r.dataset.group, r.dataset.mode, r.dataset.rate])"
    )
    # The API-only task cannot be done without api.*; the UI task passes in both modes.
    assert ["API-only", "hybrid", "1.0"] in bars and ["API-only", "browser", "0.0"] in bars
    assert ["UI", "hybrid", "1.0"] in bars and ["UI", "browser", "1.0"] in bars
    assert page.locator("svg.chart rect.bar").first.bounding_box()["width"] > 100
    page.click("a[href='#run-hybrid-27']")
    run = page.locator("#run-hybrid-27")
    assert run.get_attribute("open") is not None
    assert "browser.goto" in run.locator("pre.code").first.inner_text()
    assert run.locator("ul.calls li").count() >= 1 and run.locator("img.shot").count() == 1
    assert "NameError" in (
        page.locator("#run-browser-0 pre.observation").first.text_content() or ""
    )  # closed
    assert elsewhere == []
    page.close()

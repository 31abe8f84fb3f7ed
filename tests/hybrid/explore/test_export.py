"""A run exported as a notebook: its cells, no secrets, and that it runs again against the site."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbclient import NotebookClient

from hybrid.cli import cli
from hybrid.demo import DemoSite
from hybrid.explore.export import record_sections

from .conftest import TASK

pytestmark = pytest.mark.kernel

FAILING_STEPS = [
    (
        "print('looking')\nissue = api.demo.get_issue(owner='alice', project='tracker-core', "
        "number=17)\nissue['assignee']"
    ),
    "api.demo.get_issue(owner='alice', project='no-such-project', number=1)",
    "finish(issue['assignee'])",
]


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_full_records_split_into_their_sections() -> None:
    record = "--- stdout ---\na\n--- stderr ---\nwarn\n--- error ---\nTraceback\nKeyError: 'x'"
    assert record_sections(record) == {"stdout": "a", "stderr": "warn", "error": "Traceback\nKeyError: 'x'"}
    assert record_sections("") == {}


def test_each_step_becomes_a_thought_and_a_code_cell_with_its_outputs(record_run, tmp_path) -> None:
    run = record_run(FAILING_STEPS)
    notebook = nbformat.read(run.export(tmp_path / "run.ipynb"), as_version=4)
    setup, *actions = code_cells(notebook)
    assert "attach(['demo'], into=globals(), policy='allow')" in setup.source
    assert [cell.source for cell in actions] == FAILING_STEPS
    printed, result = actions[0].outputs
    assert (printed.name, printed.text, result.data["text/plain"]) == ("stdout", "looking\n", "'bob'")
    [error] = actions[1].outputs
    assert error.output_type == "error" and "404" in "\n".join(error.traceback)
    assert actions[1].metadata["hybrid"]["ok"] is False
    assert (
        "api.demo.get_issue(owner='alice', project='no-such-project'"
        in actions[1].metadata["hybrid"]["calls"][0]
    )
    assert notebook.cells[0].source.startswith(f"# {TASK.intent}") and "bob" in notebook.cells[-1].source


def test_the_notebook_holds_no_secret_and_runs_again(record_run, demo: DemoSite, tmp_path) -> None:
    run = record_run()
    path = run.export(tmp_path / "run.ipynb")
    text = path.read_text()
    assert demo.token_for("alice") not in text and "Bearer" not in text
    notebook = nbformat.read(path, as_version=4)
    recorded = [cell.outputs for cell in code_cells(notebook)]
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    rerun = [cell.outputs for cell in code_cells(notebook)]
    assert rerun[1][0]["text"] == recorded[1][0]["text"] == "bob\n"
    assert rerun[2][0]["data"]["text/plain"] == "'Answer recorded.'"
    assert demo.token_for("alice") not in json.dumps(notebook)


def test_hybrid_runs_export_writes_the_notebook(record_run, tmp_path) -> None:
    run = record_run()
    target = tmp_path / "out" / "run.ipynb"
    result = CliRunner().invoke(cli, ["runs", "export", run.id[:8], "--notebook", str(target)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {target}" in result.output and len(code_cells(nbformat.read(target, as_version=4))) == 3
    # The suggested command is one this installation has (the dev install brings nbclient's, not JupyterLab).
    suggested = result.output.split("`")[1].split()[:2]
    assert (Path(sys.executable).parent / "-".join(suggested)).exists() or "pip install" in result.output
    missing = CliRunner().invoke(cli, ["runs", "export", "ffffffffffff", "--notebook", str(target)])
    assert missing.exit_code == 1 and "No run 'ffffffffffff'" in missing.output


def test_a_run_that_used_the_browser_gets_a_browser_in_the_notebook(record_run, tmp_path) -> None:
    run = record_run(["print(browser.goto('/carol/data-pipeline/activity'))", "finish('carol')"])
    assert run.used_browser and "carol/data-pipeline/activity" in run[0].output
    notebook = nbformat.read(run.export(tmp_path / "run.ipynb"), as_version=4)
    setup, browse, _finish = code_cells(notebook)
    assert "attach(['demo'], into=globals(), browser=True, policy='allow')" in setup.source
    browse.source = (
        "browser.login('demo')\n" + browse.source
    )  # the agent's runtime signs in at the start page
    NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    assert "Activity" in "".join(output.get("text", "") for output in browse.outputs)

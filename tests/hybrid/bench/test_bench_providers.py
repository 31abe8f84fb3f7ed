"""`hybrid bench` on the demo suite through each real provider package, against local OpenAI, Anthropic and
Ollama protocol servers that answer with each task's reference solution."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from model_servers import PROTOCOLS, model_server, reference_script

from hybrid.bench.report import Report
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import Settings

pytestmark = pytest.mark.kernel

TASKS = "0,3,6"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_demo_suite_passes_through_each_provider(protocol, settings: Settings, tmp_path) -> None:
    report_file = tmp_path / "report.json"
    with model_server(protocol, reference_script(load_suite())) as server:
        result = CliRunner().invoke(
            cli,
            [
                "bench",
                "--model",
                server.model,
                "--base-url",
                server.url,
                "--tasks",
                TASKS,
                "--report",
                str(report_file),
            ],
        )
    assert result.exit_code == 0, result.output
    report = Report.load(report_file)
    assert [r.task_id for r in report.results] == [0, 3, 6]
    assert all(r.passed for r in report.results), [(r.task_id, r.failures, r.error) for r in report.results]
    assert len(server.requests) == sum(r.steps for r in report.results)
    if protocol == "ollama":  # local models have no price
        assert all(r.cost is None for r in report.results) and "cost unknown" in result.output
    else:
        assert all(r.cost and r.cost > 0 for r in report.results)
        assert f"${report.summary[-1].cost:.4f}" in result.output  # the table
        assert f"${report.results[0].cost:.4f}" in result.output  # the task's line

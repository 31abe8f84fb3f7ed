"""Figures for the provider path: `hybrid bench` on the demo suite's API tasks through each real provider
package, against the local protocol servers replaying each task's reference solution (so the model is
fixed and what is measured is the path: requests, tokens, cost per run from genai-prices, and time).
Token counts are the servers' (characters / 4); cost uses the price table's gpt-4o-mini and Claude 3.5
Haiku prices. Run:
    .venv/bin/python tests/hybrid/bench/bench_providers.py
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/hybrid, for model_servers
from model_servers import PROTOCOLS, model_server, reference_script

from hybrid.bench.report import Report
from hybrid.bench.suite import load_suite
from hybrid.cli import cli

TASKS = "0-11"


def main() -> None:
    suite = load_suite()
    for protocol in PROTOCOLS:
        with tempfile.TemporaryDirectory() as data, model_server(protocol, reference_script(suite)) as server:
            os.environ["HYBRID_DATA_DIR"] = data
            os.environ.pop("HYBRID_DATABASE_URL", None)
            report_file = Path(data) / "report.json"
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
        total = report.summary[-1]
        cost = "unknown (no price for a local model)" if total.cost is None else f"${total.cost:.5f}"
        print(
            f"{server.model} via {protocol} protocol: {total.passed}/{total.tasks} passed, "
            f"{total.steps:.1f} steps, {total.tokens:,.0f} tokens, cost per run {cost}, "
            f"{total.seconds:.2f} s per task; {len(server.requests)} requests"
        )


if __name__ == "__main__":
    main()

"""Each benchmark beside the tests runs once in a small mode and prints its figures beside its reference:
this is how CI runs them (`pytest -s tests/test_benchmarks.py` shows the figures; they are not asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TESTS = Path(__file__).parent


@pytest.mark.slow
@pytest.mark.parametrize(
    ("benchmark", "arguments", "printed"),
    [
        pytest.param(
            "hybrid/bench_cli.py",
            ["--repeat", "1", "--runs", "20"],
            ["fast path / script:", "hybrid runs list", "10 API steps"],
            marks=pytest.mark.kernel,
            id="cli",
        ),
        pytest.param(
            "hybrid/agent/bench_loop.py",
            ["--steps", "4", "--long", "12"],
            ["smolagents", "last 10 steps"],
            marks=pytest.mark.kernel,
            id="loop",
        ),
        pytest.param(
            "sandbox/browser/bench_actions.py",
            ["--repeat", "2"],
            ["\nfill ", "\ncheck ", "\nselect ", "\npress "],
            marks=pytest.mark.browser,
            id="browser-actions",
        ),
    ],
)
def test_benchmark_prints_its_figures_beside_its_reference(
    benchmark: str, arguments: list[str], printed: list[str]
) -> None:
    completed = subprocess.run(
        [sys.executable, str(TESTS / benchmark), *arguments],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(completed.stdout)  # the figures, in CI's log
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert all(text in completed.stdout for text in printed), completed.stdout

"""The agent-loop benchmark runs (in a small mode) and prints its comparison: CI runs it once this way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.kernel
def test_bench_loop_prints_the_loop_beside_smolagents() -> None:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bench_loop.py")), "--steps", "4", "--long", "12"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(completed.stdout)  # the figures, in CI's log
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "last 10 steps" in completed.stdout and "smolagents" in completed.stdout

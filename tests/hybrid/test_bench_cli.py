"""The command-line benchmark runs (in a small mode) and prints its comparison: CI runs it once this way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.kernel
def test_bench_cli_prints_the_fast_path_beside_its_references() -> None:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bench_cli.py")), "--repeat", "1", "--runs", "20"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    print(completed.stdout)  # the figures, in CI's log (pytest -s, or its captured output on failure)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "fast path / script:" in completed.stdout
    assert "hybrid runs list" in completed.stdout

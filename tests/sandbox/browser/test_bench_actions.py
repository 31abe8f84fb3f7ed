"""The browser-action benchmark runs (in a small mode) and prints its comparison: CI runs it once this way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.browser
def test_bench_actions_prints_the_service_beside_playwright() -> None:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("bench_actions.py")), "--repeat", "2"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    print(completed.stdout)  # the figures, in CI's log
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert all(f"\n{action} " in completed.stdout for action in ("fill", "check", "select", "press"))

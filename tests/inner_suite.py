"""Running some of the suite's tests in a pytest of their own, to check how the suite behaves as a whole."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_tests(
    tests: Sequence[str],
    basetemp: Path,
    *,
    env: Mapping[str, str] | None = None,
    launcher: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`pytest -q TESTS` from the repository root, through `launcher` (a command that execs its arguments)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", str(basetemp)]
    return subprocess.run(
        [*launcher, *command, *tests],
        cwd=ROOT,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )

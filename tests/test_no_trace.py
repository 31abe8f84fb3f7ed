"""Tests leave nothing behind in the user's home or the temporary directory: caches, screenshots,
notebooks' data and kernels' files all go to directories the tests own, and are removed with them."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.inner_suite import run_tests

pytestmark = [pytest.mark.slow, pytest.mark.kernel, pytest.mark.browser, pytest.mark.timeout(900)]
# A sample of what the suite does that could leave files: a browser (screenshots), kernels, the demo
# site's spec read by a session fixture (the spec cache), and the whole agent with a run recorded.
SAMPLE = [
    "tests/sandbox/browser/test_actions.py::test_text_scroll_and_screenshot",
    "tests/workflows/test_lifecycle.py::test_a_writing_workflow_without_reset_awaits_a_real_use",
    "tests/hybrid/agent/test_agent.py::test_steps_calls_and_checkpoints_are_recorded[sqlite]",
]


def test_the_tests_leave_nothing_in_home_or_the_temporary_directory(tmp_path: Path) -> None:
    # Short paths: kernels' sockets live in the temporary directory, and Unix socket paths are short.
    with tempfile.TemporaryDirectory(prefix="nt-") as scratch:
        home, temporary = Path(scratch) / "home", Path(scratch) / "tmp"
        home.mkdir()
        temporary.mkdir()
        _check_nothing_is_left(home, temporary, tmp_path)


def _check_nothing_is_left(home: Path, temporary: Path, tmp_path: Path) -> None:
    environment = {
        **{name: value for name, value in os.environ.items() if not name.startswith(("XDG_", "HYBRID_"))},
        "HOME": str(home),
        "TMPDIR": str(temporary),
    }
    run = run_tests(SAMPLE, tmp_path / "base", env=environment)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    left = sorted(str(path) for top in (home, temporary) for path in top.rglob("*"))
    assert left == []

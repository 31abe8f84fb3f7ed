"""The suite passes when started with SIGINT ignored, as `nohup ... &` starts it: the tests that stop a
command with Ctrl-C still reach it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.inner_suite import run_tests

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
CTRL_C_TEST = "tests/hybrid/agent/test_resume.py::test_a_stopped_run_resumes_to_the_end[ctrl-c-sqlite]"


def test_a_ctrl_c_test_passes_in_a_suite_started_with_sigint_ignored(tmp_path: Path) -> None:
    # `trap "" INT` ignores SIGINT, and exec keeps it ignored, as a shell does for a background job.
    run = run_tests([CTRL_C_TEST], tmp_path, launcher=["sh", "-c", 'trap "" INT; exec "$@"', "sh"])
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 passed" in run.stdout

"""CI's machine checks (.ci/check, run by .ci/run between the install and the tests): they find what
they are configured to find, and the tree has none of it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
pytestmark = pytest.mark.timeout(600)


def _run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command_line = [str(part) for part in command]
    return subprocess.run(command_line, cwd=cwd, capture_output=True, text=True, timeout=540, check=False)


def test_ci_runs_the_checks_after_the_install_and_before_the_tests() -> None:
    steps = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith(("#", "set ", "cd "))
    ]
    readme_test_command = "./install.sh --dev && .venv/bin/python -m pytest"
    assert f"\n{readme_test_command}\n" in (ROOT / "README.md").read_text()
    assert steps == ["./install.sh --dev", ".ci/check", readme_test_command]
    checks = (ROOT / ".ci" / "check").read_text()
    for step in (".venv/bin/ruff check .", ".venv/bin/ruff format --check .", ".venv/bin/mypy"):
        assert f'"{step}"' in checks


def test_ruff_reports_long_lines_a_raise_without_from_and_unformatted_code(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def parse(text: str) -> int:\n    try:\n        return int(text)\n    except ValueError:\n        "
        f"raise RuntimeError('{'x' * 120}')\nx = [1,2]\n"
    )
    config = ROOT / "pyproject.toml"
    lint = _run(VENV_BIN / "ruff", "check", "--config", config, "--no-cache", probe)
    assert lint.returncode == 1
    assert "E501" in lint.stdout and "B904" in lint.stdout
    formatting = _run(VENV_BIN / "ruff", "format", "--check", "--config", config, "--no-cache", probe)
    assert formatting.returncode == 1 and "1 file would be reformatted" in formatting.stdout


def test_mypy_is_strict_outside_hybrid(tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(
        "def first(items):\n    return items[0]\n\n\n"
        "def size(text: str | None) -> int:\n    return len(text)\n"
    )
    found = _run(
        VENV_BIN / "mypy",
        "--config-file",
        ROOT / "pyproject.toml",
        "--cache-dir",
        tmp_path / "cache",
        "probe.py",
        cwd=tmp_path,
    )
    assert found.returncode == 1
    assert "[no-untyped-def]" in found.stdout and "[arg-type]" in found.stdout


def test_the_tree_passes_every_check() -> None:
    checked = _run(ROOT / ".ci" / "check")
    assert checked.returncode == 0, checked.stdout + checked.stderr

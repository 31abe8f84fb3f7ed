"""The data dir holds secrets, runs and checkpoints: it is its owner's alone, new or made by an older
version."""

from __future__ import annotations

import stat
from contextlib import ExitStack
from pathlib import Path

import pytest

from hybrid.agent.assembly import open_checkpointer
from hybrid.config import load_settings
from workflows.store import RunStore


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_data_dir_and_its_databases_are_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    RunStore(settings.effective_database_url)
    with ExitStack() as stack:
        open_checkpointer(settings, stack).setup()
    assert mode(settings.data_dir) == 0o700
    assert [mode(settings.data_dir / name) for name in ("hybrid.db", "checkpoints.sqlite")] == [0o600, 0o600]


def test_an_older_world_readable_data_dir_is_made_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("hybrid.db", "hybrid.db-wal", "checkpoints.sqlite"):
        (data / name).write_bytes(b"")
        (data / name).chmod(0o644)
    monkeypatch.setenv("HYBRID_DATA_DIR", str(data))
    load_settings()
    assert mode(data) == 0o700
    assert [mode(data / name) for name in ("hybrid.db", "hybrid.db-wal", "checkpoints.sqlite")] == [0o600] * 3

"""Fixtures for the hybrid/ tests: settings with a private data dir and a fresh database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from hybrid.config import Settings


@pytest.fixture
def settings(tmp_path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Settings:
    """A private data dir and a fresh database (SQLite, or PostgreSQL where a test parametrises
    `database_url`); `hybrid` subprocesses get the same through the environment."""
    for name in ("HYBRID_MODEL", "HYBRID_POLICY", "HYBRID_MAX_STEPS", "HYBRID_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HYBRID_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYBRID_DATABASE_URL", database_url)
    return Settings(data_dir=tmp_path / "data", database_url=database_url, action_timeout_seconds=30)


# The local model protocol servers (tests/hybrid/model_servers.py) are imported by name from the tests.
sys.path.insert(0, str(Path(__file__).parent))

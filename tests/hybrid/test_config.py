"""Settings: environment over file over defaults, with the origin of every value."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid.config import ConfigError, describe_settings, load_settings


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(__import__("os").environ):
        if name.startswith("HYBRID_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return tmp_path


def origins() -> dict[str, str]:
    rows, _ = describe_settings()
    return {row.name: row.origin for row in rows}


def test_defaults_put_everything_in_a_per_user_data_dir(isolated: Path) -> None:
    settings = load_settings()
    assert settings.data_dir == isolated / "xdg-data" / "hybrid-agent"
    assert settings.effective_database_url == f"sqlite:///{settings.data_dir / 'hybrid.db'}"
    assert origins()["max_steps"] == "default"


def test_file_then_environment_override_defaults(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated / "hybrid.toml").write_text(
        'model = "openai:gpt-4o-mini"\nmax_steps = 12\npolicy = "read-only"\n'
    )
    monkeypatch.setenv("HYBRID_MAX_STEPS", "7")
    settings = load_settings()
    assert (settings.model, settings.max_steps, settings.policy) == ("openai:gpt-4o-mini", 7, "read-only")
    where = origins()
    assert where["max_steps"] == "env HYBRID_MAX_STEPS"
    assert where["model"] == f"file {isolated / 'hybrid.toml'}"
    assert where["data_dir"] == "default"


def test_explicit_config_file_and_overrides(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = isolated / "elsewhere.toml"
    config.write_text('database_url = "postgresql://db.internal/hybrid"\n')
    monkeypatch.setenv("HYBRID_CONFIG", str(config))
    assert load_settings().effective_database_url == "postgresql://db.internal/hybrid"
    assert load_settings(max_steps=3).max_steps == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("max_stepz = 3\n", "unknown setting(s) max_stepz"),
        ("max_steps = \n", "not valid TOML"),
        ('policy = "sometimes"\n', "policy"),
        ("max_steps = -1\n", "max_steps"),
    ],
)
def test_bad_configuration_names_the_file_and_the_value(isolated: Path, content: str, message: str) -> None:
    (isolated / "hybrid.toml").write_text(content)
    with pytest.raises(ConfigError, match="hybrid.toml") as error:
        load_settings()
    assert message in str(error.value)


def test_missing_explicit_config_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYBRID_CONFIG", "/nonexistent/hybrid.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()

"""One settings object for the whole product, and where each of its values came from.

Values are read, highest priority first, from environment variables (`HYBRID_*`), a `hybrid.toml`
file, and the built-in defaults. The file is the one named by `HYBRID_CONFIG`, else `./hybrid.toml`,
else `hybrid.toml` in the per-user config directory.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hybrid.locations import (
    APP_NAME,
    CONFIG_ENV_VAR,
    ENV_PREFIX,
    PRIVATE_FILES,
    ConfigError,
    default_data_dir,
    environment_values,
    find_config_file,
    keep_private,
    read_toml,
    sqlite_url,
    user_config_dir,
)
from sandbox import Isolation, IsolationMode, KernelLimits, PolicyMode

__all__ = [
    "APP_NAME",
    "CONFIG_ENV_VAR",
    "ENV_PREFIX",
    "PRIVATE_FILES",
    "ConfigError",
    "Settings",
    "describe_settings",
    "find_chromium",
    "find_config_file",
    "keep_private",
    "load_settings",
    "user_config_dir",
]

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> Path | None:
    """The first Chromium-family browser on PATH (Debian's `chromium` first)."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


class Settings(BaseModel):
    """Effective configuration. Build it with `load_settings()` to honour the config file; built directly,
    the `HYBRID_*` variables are read under the values given."""

    model_config = ConfigDict(extra="forbid")

    def __init__(self, **values: Any) -> None:
        super().__init__(**{**_from_environment(), **values})

    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where runs, the database, registered sites and caches are kept.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: a SQLite file in the data dir."
    )
    model: str | None = Field(
        default=None, description="Chat model as provider:name, e.g. openai:gpt-4o-mini."
    )
    browser_executable: Path | None = Field(
        default=None, description="Chromium to drive; default: the first chromium on PATH."
    )
    policy: PolicyMode = Field(default="allow", description="allow, read-only or confirm.")
    max_steps: int = Field(default=30, gt=0, description="Code actions per run.")
    max_wall_seconds: float = Field(default=900.0, gt=0, description="Wall-clock limit per run.")
    max_tokens: int = Field(default=400_000, gt=0, description="Model tokens per run.")
    action_timeout_seconds: float = Field(default=60.0, gt=0, description="Limit for one code action.")
    max_cost: float | None = Field(
        default=None, gt=0, description="USD per run (from the provider's usage and the genai-prices table)."
    )
    model_timeout_seconds: float = Field(default=120.0, gt=0, description="Limit for one model call.")
    model_context_tokens: int | None = Field(
        default=None,
        gt=0,
        description="Context size to run the model with where the client sets it (Ollama's num_ctx); "
        "default: the model's own.",
    )
    model_retries: int = Field(
        default=4, ge=0, description="Retries of a model call after a rate limit, server error or timeout."
    )
    fast_path: bool = Field(
        default=True,
        description="Do a task that a verified workflow matches by running it, with no model call.",
    )
    induce_workflows: bool = Field(
        default=True, description="After a successful run, induce a workflow from it and verify it."
    )
    sandbox: IsolationMode = Field(
        default="bubblewrap",
        description="How code actions are isolated: bubblewrap (namespaces) or none (unisolated, only where "
        "bubblewrap cannot run).",
    )
    kernel_network: bool = Field(
        default=False,
        description="Let code actions open network connections themselves, not only via the bridge.",
    )

    @property
    def effective_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)

    @property
    def effective_browser_executable(self) -> Path | None:
        return self.browser_executable or find_chromium()

    @property
    def kernel_limits(self) -> KernelLimits:
        return KernelLimits(isolation=Isolation(mode=self.sandbox, network=self.kernel_network))


@dataclass(frozen=True)
class SettingValue:
    name: str
    value: Any
    origin: str
    description: str


def _from_environment() -> dict[str, str]:
    """The `HYBRID_*` variables that name a setting, by setting name."""
    return {name: value for name, value in environment_values().items() if name in Settings.model_fields}


def _read_toml(path: Path) -> dict[str, Any]:
    values = read_toml(path)
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        known = ", ".join(Settings.model_fields)
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known settings are {known}.")
    return values


def load_settings(**overrides: Any) -> Settings:
    """Settings from overrides (e.g. CLI flags), then `HYBRID_*` variables, then the config file; the data
    dir exists and is private (see `keep_private`)."""
    settings, _ = _load(overrides)
    keep_private(settings.data_dir)
    return settings


def describe_settings(**overrides: Any) -> tuple[list[SettingValue], Path | None]:
    """Every setting with its effective value and where it came from, and the config file used."""
    settings, config_file = _load(overrides)
    from_env = _from_environment()
    from_file = _read_toml(config_file) if config_file else {}
    rows = []
    for name, field in Settings.model_fields.items():
        if name in overrides:
            origin = "command line"
        elif name in from_env:
            origin = f"env {ENV_PREFIX}{name.upper()}"
        elif name in from_file:
            origin = f"file {config_file}"
        else:
            origin = "default"
        value = getattr(settings, name)
        if name == "database_url" and value is None:
            value, origin = settings.effective_database_url, "default (SQLite file in data_dir)"
        if name == "browser_executable" and value is None:
            found = settings.effective_browser_executable
            value = found if found else "(none found: install Debian's chromium)"
            origin = "found on PATH" if found else "default"
        rows.append(SettingValue(name, value, origin, field.description or ""))
    return rows, config_file


def _load(overrides: dict[str, Any]) -> tuple[Settings, Path | None]:
    config_file = find_config_file()
    file_values = _read_toml(config_file) if config_file else {}
    env_values = _from_environment()
    merged = {**file_values, **env_values, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Settings.model_validate(merged), config_file
    except ValidationError as exc:
        problems = "; ".join(
            f"{_source_of(str(err['loc'][0]), overrides, env_values, config_file)}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"Invalid configuration: {problems}.") from exc


def _source_of(
    name: str, overrides: dict[str, Any], env_values: dict[str, Any], config_file: Path | None
) -> str:
    """Where a bad value came from, named as the user wrote it."""
    if overrides.get(name) is not None:
        return f"{name} (command line)"
    if name in env_values:
        return f"{ENV_PREFIX}{name.upper()}"
    return f"{name} (config file {config_file})" if config_file else name

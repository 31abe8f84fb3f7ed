"""One settings object for the whole product, and where each of its values came from.

Values are read, highest priority first, from environment variables (`HYBRID_*`), a `hybrid.toml`
file, and the built-in defaults. The file is the one named by `HYBRID_CONFIG`, else `./hybrid.toml`,
else `hybrid.toml` in the per-user config directory.
"""

from __future__ import annotations

import os
import shutil
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from sandbox import Isolation, IsolationMode, KernelLimits, PolicyMode
from sandbox.errors import HybridError

APP_NAME = "hybrid-agent"
ENV_PREFIX = "HYBRID_"
CONFIG_ENV_VAR = "HYBRID_CONFIG"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class ConfigError(HybridError):
    """The configuration cannot be used; the message says which value and how to fix it."""


def find_config_file() -> Path | None:
    """The `hybrid.toml` in effect, or None when there is none."""
    explicit = os.environ.get(CONFIG_ENV_VAR)
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"{CONFIG_ENV_VAR}={explicit} names a file that does not exist.")
        return path
    for candidate in (Path.cwd() / "hybrid.toml", user_config_dir() / "hybrid.toml"):
        if candidate.is_file():
            return candidate
    return None


def user_config_dir() -> Path:
    """The per-user config directory, where `hybrid.toml` is read from when no other file is named."""
    return platformdirs.user_config_path(APP_NAME)


def find_chromium() -> Path | None:
    """The first Chromium-family browser on PATH (Debian's `chromium` first)."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


class Settings(BaseSettings):
    """Effective configuration. Build it with `load_settings()` to honour the config file."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    data_dir: Path = Field(
        default_factory=lambda: platformdirs.user_data_path(APP_NAME),
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
        return self.database_url or f"sqlite:///{self.data_dir / 'hybrid.db'}"

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


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        values = TomlConfigSettingsSource(Settings, toml_file=path)()
    except Exception as exc:  # tomllib raises its own error type; name the file either way
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc
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


# The SQLite files of the data dir, with the files SQLite keeps beside each.
PRIVATE_FILES = tuple(
    name + suffix
    for name in ("hybrid.db", "checkpoints.sqlite")
    for suffix in ("", "-wal", "-shm", "-journal")
)


def keep_private(data_dir: Path) -> None:
    """The data dir holds the secret store, the runs database and checkpoints (which hold what pages and APIs
    showed): only its owner may enter it (0700) and read those files (0600), whether this version made them
    or an older one did with the default 0755 and 0644."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    for name in PRIVATE_FILES:
        with suppress(FileNotFoundError):
            (data_dir / name).chmod(0o600)


def describe_settings(**overrides: Any) -> tuple[list[SettingValue], Path | None]:
    """Every setting with its effective value and where it came from, and the config file used."""
    settings, config_file = _load(overrides)
    from_env = EnvSettingsSource(Settings, env_prefix=ENV_PREFIX)()
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
    env_values = EnvSettingsSource(Settings, env_prefix=ENV_PREFIX)()
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

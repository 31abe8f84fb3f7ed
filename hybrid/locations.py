"""Where things are kept: the config file, the data dir and the database, found as `hybrid.config` finds
them (highest priority first: `HYBRID_*` variables, the `hybrid.toml` in effect, the defaults), without
pydantic or the other settings.

The listing commands (`runs list`, `runs show`, `workflows list`, `sites list`) need only these places; a
command that uses the other settings loads them all with `hybrid.config.load_settings`, which checks every
value.
"""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path
from typing import Any

from sandbox.errors import HybridError

APP_NAME = "hybrid-agent"
ENV_PREFIX = "HYBRID_"
CONFIG_ENV_VAR = "HYBRID_CONFIG"


class ConfigError(HybridError):
    """The configuration cannot be used; the message says which value and how to fix it."""


def user_config_dir() -> Path:
    """The per-user config directory, where `hybrid.toml` is read from when no other file is named."""
    import platformdirs

    return platformdirs.user_config_path(APP_NAME)


def default_data_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path(APP_NAME)


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


def read_toml(path: Path) -> dict[str, Any]:
    """The values of config file `path`, unchecked."""
    import tomllib

    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}).") from exc


def environment_values(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The `HYBRID_*` variables as setting names (`HYBRID_MAX_STEPS` -> `max_steps`; any case, as
    pydantic-settings read them), without `HYBRID_CONFIG`, which names the file rather than a setting."""
    values = {}
    for name, value in (os.environ if environ is None else environ).items():
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper != CONFIG_ENV_VAR:
            values[upper.removeprefix(ENV_PREFIX).lower()] = value
    return values


def _settings(*names: str) -> dict[str, Any]:
    """Settings `names` from the environment, else the config file (read once, only if needed)."""
    from_env = environment_values()
    found = {name: from_env[name] for name in names if name in from_env}
    if len(found) < len(names):
        config_file = find_config_file()
        from_file = read_toml(config_file) if config_file else {}
        found = {name: from_file[name] for name in names if name in from_file} | found
    for name, value in found.items():
        if not isinstance(value, str):
            raise ConfigError(f"{name}: expected a string, not {value!r}.")
    return found


def data_dir() -> Path:
    """The data dir in effect, made to exist and kept private (see `keep_private`)."""
    return locations()[0]


def database_url() -> str:
    """The database URL in effect: `database_url` if set, else the SQLite file in the data dir."""
    return locations()[1]


def locations() -> tuple[Path, str]:
    """The data dir in effect (made to exist and kept private, see `keep_private`) and the database URL:
    `database_url` if set, else the SQLite file in the data dir."""
    found = _settings("data_dir", "database_url")
    directory = Path(found["data_dir"]) if found.get("data_dir") else default_data_dir()
    keep_private(directory)
    return directory, found.get("database_url") or sqlite_url(directory)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'hybrid.db'}"


# The SQLite files of the data dir, with the files SQLite keeps beside each.
PRIVATE_FILES = tuple(
    name + suffix
    for name in ("hybrid.db", "checkpoints.sqlite")
    for suffix in ("", "-wal", "-shm", "-journal")
)


def keep_private(directory: Path) -> None:
    """The data dir holds the secret store, the runs database and checkpoints (which hold what pages and APIs
    showed): only its owner may enter it (0700) and read those files (0600), whether this version made them
    or an older one did with the default 0755 and 0644."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    directory.chmod(0o700)
    for name in PRIVATE_FILES:
        with suppress(FileNotFoundError):
            (directory / name).chmod(0o600)

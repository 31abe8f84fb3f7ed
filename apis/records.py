"""Named records kept as one JSON file each in a directory: the site and MCP server registries."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

from apis.errors import RegistryError

Record = TypeVar("Record")
# Records are named by lowercase words joined by '_' or '-'; in code a name is `api.<name>` (`mcp.<name>`)
# with its hyphens read as '_' (`code_name`). The rule also keeps a name from reaching outside the directory.
NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
NAME_RULE = "lowercase letters, digits, '_' and '-', starting with a letter (at most 40 characters)"


def code_name(name: str) -> str:
    """How code calls a site or server named `name`: `api.my_app` for "my-app"."""
    return name.replace("-", "_")


def is_url(source: str | Path) -> bool:
    """Whether a record's source (a spec, a server) is an http(s) URL rather than a file path."""
    return isinstance(source, str) and urlsplit(source).scheme in ("http", "https")


class RecordFiles(Generic[Record]):
    """`<directory>/<name>.json` for each record, written atomically; errors name the record's kind
    (`what`, e.g. "site") and the command that adds one (`add_with`)."""

    def __init__(self, directory: Path, build: Callable[..., Record], what: str, add_with: str) -> None:
        self.directory = directory
        self.build = build
        self.what = what
        self.add_with = add_with

    def path(self, name: str) -> Path:
        if not NAME.match(name):
            raise RegistryError(f"{name!r} is not a valid {self.what} name ({NAME_RULE}).")
        return self.directory / f"{name}.json"

    def write(self, name: str, record: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.path(name).with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self.path(name))

    def read(self, name: str) -> Record:
        try:
            data = json.loads(self.path(name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(self.names()) or "none yet"
            raise RegistryError(
                f"No {self.what} named {name!r} (known: {known}); add it with `{self.add_with}`."
            ) from None
        except (OSError, ValueError) as exc:
            raise RegistryError(
                f"{self.path(name)}: unreadable {self.what} file ({exc}); remove and add the "
                f"{self.what} again."
            ) from exc
        return self.build(**data)

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json")) if self.directory.is_dir() else []

    def all(self) -> list[Record]:
        return [self.read(name) for name in self.names()]

    def remove(self, name: str) -> None:
        self.read(name)
        self.path(name).unlink()

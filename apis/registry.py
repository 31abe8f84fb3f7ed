"""The sites a user has added, persisted as one JSON file per site in `<data_dir>/sites/`."""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from apis.auth import FileSecretStore, check_auth_reference
from apis.client import Client, build_client
from apis.loader import load_spec
from apis.model import Spec
from apis.sources import is_url

SITE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class RegistryError(Exception):
    """A site cannot be added, found or removed; the message says why and what to do."""


@dataclass(frozen=True)
class Site:
    """A registered site. `auth` is a reference to where the secret lives (see apis.auth), never a secret."""

    name: str
    spec: str
    base_url: str
    web_url: str | None = None
    auth: dict[str, Any] | None = None


class SiteRegistry:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / "sites"
        self.cache_dir = self.data_dir / "cache" / "specs"
        self.secrets = FileSecretStore(self.data_dir / "secrets")

    def add(self, site: Site, *, replace: bool = False) -> Site:
        """Store `site` (a relative spec path is made absolute); RegistryError when the name is taken."""
        if not SITE_NAME.match(site.name):
            raise RegistryError(
                f"{site.name!r} is not a valid site name: it becomes api.<name> in code, so use lowercase "
                "letters, digits and '_', starting with a letter (at most 40 characters)."
            )
        if self._path(site.name).exists() and not replace:
            raise RegistryError(f"A site named {site.name!r} already exists; remove it first or replace it.")
        spec = site.spec if is_url(site.spec) else os.path.abspath(Path(site.spec).expanduser())
        auth = check_auth_reference(site.auth) if site.auth else None
        stored = Site(site.name, spec, site.base_url.rstrip("/"), site.web_url, auth)
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self._path(site.name).with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(stored), indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, self._path(site.name))
        return stored

    def get(self, name: str) -> Site:
        try:
            data = json.loads(self._path(name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            known = ", ".join(site.name for site in self.list()) or "none yet"
            raise RegistryError(f"No site named {name!r} (known sites: {known}); add it with `hybrid sites add`.") from None
        except (OSError, ValueError) as exc:
            raise RegistryError(f"{self._path(name)}: unreadable site file ({exc}); remove and add the site again.") from exc
        return Site(**data)

    def list(self) -> list[Site]:
        if not self.directory.is_dir():
            return []
        return [self.get(path.stem) for path in sorted(self.directory.glob("*.json"))]

    def remove(self, name: str) -> None:
        self.get(name)
        self._path(name).unlink()

    def load_spec(self, name: str) -> Spec:
        """The site's spec, processed once and then read from the registry's cache."""
        return load_spec(self.get(name).spec, self.cache_dir)

    def client(self, name: str, **options: Any) -> Client:
        """A client for the site with its credentials resolved now (from the environment or the secret store)."""
        site = self.get(name)
        return build_client(load_spec(site.spec, self.cache_dir), site.base_url, site.auth, secrets=self.secrets, **options)

    def _path(self, name: str) -> Path:
        if not SITE_NAME.match(name):
            raise RegistryError(f"{name!r} is not a valid site name (lowercase letters, digits and '_').")
        return self.directory / f"{name}.json"

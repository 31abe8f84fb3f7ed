"""The sites a user has added, persisted as one JSON file per site in `<data_dir>/sites/`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from apis.auth import FileSecretStore, WebLogin, check_auth_reference, check_web_login, resolve_web_login
from apis.client import Client, build_client
from apis.errors import RegistryError
from apis.loader import load_spec
from apis.model import Spec
from apis.records import NAME, RecordFiles
from apis.sources import is_url

SITE_NAME = NAME


@dataclass(frozen=True)
class Site:
    """A registered site. `auth` (for the API) and `web_login` (for the browser: login page URL, username,
    and where the password lives) are references to secrets, never secrets (see apis.auth)."""

    name: str
    spec: str
    base_url: str
    web_url: str | None = None
    auth: dict[str, Any] | None = None
    web_login: dict[str, Any] | None = None


class SiteRegistry:
    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir)
        self.directory = self.data_dir / "sites"
        self._files = RecordFiles(self.directory, Site, "site", "hybrid sites add")
        self.cache_dir = self.data_dir / "cache" / "specs"
        self.secrets = FileSecretStore(self.data_dir / "secrets")

    def add(self, site: Site, *, replace: bool = False) -> Site:
        """Store `site` (a relative spec path is made absolute); RegistryError when the name is taken."""
        if not SITE_NAME.match(site.name):
            raise RegistryError(
                f"{site.name!r} is not a valid site name: it becomes api.<name> in code, so use lowercase "
                "letters, digits and '_', starting with a letter (at most 40 characters)."
            )
        if self._files.path(site.name).exists() and not replace:
            raise RegistryError(
                f"A site named {site.name!r} already exists; pass --replace to replace it, or remove it "
                "first."
            )
        spec = site.spec if is_url(site.spec) else os.path.abspath(Path(site.spec).expanduser())
        auth = check_auth_reference(site.auth) if site.auth else None
        web_login = check_web_login(site.web_login) if site.web_login else None
        stored = Site(site.name, spec, site.base_url.rstrip("/"), site.web_url, auth, web_login)
        self._files.write(site.name, stored)
        return stored

    def get(self, name: str) -> Site:
        return self._files.read(name)

    def list(self) -> list[Site]:
        return self._files.all()

    def remove(self, name: str) -> None:
        self._files.remove(name)

    def load_spec(self, name: str) -> Spec:
        """The site's spec, processed once and then read from the registry's cache."""
        return load_spec(self.get(name).spec, self.cache_dir)

    def refresh(self, name: str) -> Spec:
        """The site's spec read again: a URL is asked whether it changed (ETag / Last-Modified), a file
        re-read."""
        return load_spec(self.get(name).spec, self.cache_dir, refresh=True)

    def client(self, name: str, **options: Any) -> Client:
        """A client for the site with its credentials resolved now (from the environment or the secret
        store)."""
        site = self.get(name)
        return build_client(
            load_spec(site.spec, self.cache_dir), site.base_url, site.auth, secrets=self.secrets, **options
        )

    def web_credentials(self, name: str) -> WebLogin | None:
        """How to sign in to the site's web UI, or None if it is not configured."""
        site = self.get(name)
        return resolve_web_login(site.web_login, self.secrets) if site.web_login else None

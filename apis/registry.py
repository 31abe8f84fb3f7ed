"""The sites a user has added, persisted as one JSON file per site in `<data_dir>/sites/`."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apis.auth import FileSecretStore, WebLogin, check_auth_reference, check_web_login, resolve_web_login
from apis.errors import RegistryError
from apis.model import EFFECTS, Spec
from apis.records import NAME, NAME_RULE, RecordFiles, code_name, is_url

if TYPE_CHECKING:
    from apis.client import Client

SITE_NAME = NAME


@dataclass(frozen=True)
class Site:
    """A registered site. `auth` (for the API) and `web_login` (for the browser: login page URL, username,
    and where the password lives) are references to secrets, never secrets (see apis.auth). A site with
    only a web UI has no `spec`, and its `base_url` is its `web_url`."""

    name: str
    spec: str | None
    base_url: str
    web_url: str | None = None
    auth: dict[str, Any] | None = None
    web_login: dict[str, Any] | None = None
    # What the user says operations do, overriding the method's word: {"read_flow_runs": "read", ...}.
    effects: dict[str, str] | None = None


def _marked(spec: Spec, site: Site) -> Spec:
    for operation in spec.operations:
        if operation.name in (site.effects or {}):
            operation.effect = (site.effects or {})[operation.name]
    return spec


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
            raise RegistryError(f"{site.name!r} is not a valid site name: use {NAME_RULE}.")
        if self._files.path(site.name).exists() and not replace:
            raise RegistryError(
                f"A site named {site.name!r} already exists; pass --replace to replace it, or remove it "
                "first."
            )
        twin = next(
            (
                s.name
                for s in self.list()
                if s.name != site.name and code_name(s.name) == code_name(site.name)
            ),
            None,
        )
        if twin is not None:
            raise RegistryError(
                f"{site.name!r} would be api.{code_name(site.name)} in code, as the site {twin!r} is; "
                "choose another name."
            )
        if site.spec is None and not site.web_url:
            raise RegistryError(f"Site {site.name!r} needs an API spec or a web URL (or both).")
        spec = site.spec
        if spec is not None and not is_url(spec):
            spec = os.path.abspath(Path(spec).expanduser())
        auth = check_auth_reference(site.auth) if site.auth else None
        web_login = check_web_login(site.web_login) if site.web_login else None
        wrong = {op: effect for op, effect in (site.effects or {}).items() if effect not in EFFECTS}
        if wrong:
            raise RegistryError(f"An operation is marked 'read' or 'write', not {wrong}.")
        stored = Site(
            site.name, spec, site.base_url.rstrip("/"), site.web_url, auth, web_login, site.effects or None
        )
        self._files.write(site.name, stored)
        return stored

    def get(self, name: str) -> Site:
        return self._files.read(name)

    def list(self) -> list[Site]:
        return self._files.all()

    def remove(self, name: str) -> None:
        self._files.remove(name)

    def load_spec(self, name: str) -> Spec:
        """The site's spec, processed once and then read from the registry's cache, with the operations
        the user marked read or write (`hybrid sites edit`) so; a site with only a web UI has a spec
        without operations."""
        from apis.loader import load_spec  # the loader and its parsers, only when a spec is read

        site = self.get(name)
        return no_api(site) if site.spec is None else _marked(load_spec(site.spec, self.cache_dir), site)

    def refresh(self, name: str) -> Spec:
        """The site's spec read again: a URL is asked whether it changed (ETag / Last-Modified), a file
        re-read."""
        from apis.loader import load_spec

        site = self.get(name)
        if site.spec is None:
            return no_api(site)
        return _marked(load_spec(site.spec, self.cache_dir, refresh=True), site)

    def mark(self, name: str, effects: dict[str, str]) -> Site:
        """Marks operations of site NAME as reads or writes (`{"read_flow_runs": "read"}`); KeyError naming
        close matches for an operation its spec does not have."""
        from apis.loader import load_spec

        site = self.get(name)
        if site.spec is None:
            raise RegistryError(f"Site {name!r} has only a web UI: it has no API operations to mark.")
        spec = load_spec(site.spec, self.cache_dir)
        for operation in effects:
            spec.operation(operation)
        return self.add(replace(site, effects={**(site.effects or {}), **effects}), replace=True)

    def client(self, name: str, **options: Any) -> Client:
        """A client for the site with its credentials resolved now (from the environment or the secret
        store)."""
        from apis.client import build_client  # httpx and the validators, only when calling

        site = self.get(name)
        return build_client(self.load_spec(name), site.base_url, site.auth, secrets=self.secrets, **options)

    def web_credentials(self, name: str) -> WebLogin | None:
        """How to sign in to the site's web UI, or None if it is not configured."""
        site = self.get(name)
        return resolve_web_login(site.web_login, self.secrets) if site.web_login else None


def no_api(site: Site) -> Spec:
    """The spec of a site that has only a web UI: no operations."""
    return Spec(
        source="",
        content_hash="",
        title=f"{site.name} (web UI only)",
        api_version="",
        openapi_version="",
        converted_from=None,
        servers=[],
        operations=[],
        warnings=[],
        load_document=dict,
    )

"""The user's own hosts for a benchmark's sites (WebArena's GitLab, shopping sites, ...), from a small TOML
file and `--host NAME=URL` flags:

    auth_dir = ".auth"            # storage_state files named by the configs are looked for here

    [gitlab]
    url = "http://my-host:8023"
    spec = "gitlab-openapi.json"  # the site's API document; without one, a site with only a web UI
    api_url = "http://my-host:8023/api/v4"
    token = "..."                 # optional: the API's bearer token
    username = "byteblaze"        # optional: sign in with these when no storage_state file is there
    password = "hello1234"
    login_url = "http://my-host:8023/users/sign_in"

    [reddit]                      # no API document: the agent uses its web UI (any mode but api)
    url = "http://my-host:9999"

    [shopping_admin]              # Beyond Browsing's Magento document declares no OpenAPI version:
    url = "http://my-host:7780/admin"
    spec = "shopping-admin.json"
    assume_openapi = "3.0.0"      # say what to take it as (its server_url is replaced by api_url)
    api_url = "http://my-host:7780/rest/default"

These sites are not started or reset here: they are the user's, already running (WebArena's own harness
leaves resets to its users too).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

import apis
from apis.loader import assume_openapi_version
from sandbox.errors import HybridError

SECRET_PREFIX = "bench_host_password_"
TOKEN_PREFIX = "bench_host_token_"


class HostsError(HybridError):
    """The hosts file or a --host flag cannot be used; the message says what to write."""


@dataclass(frozen=True)
class HostedSite:
    name: str
    url: str
    spec: str | None = None
    api_url: str | None = None
    assume_openapi: str | None = None
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    login_url: str | None = None

    @property
    def can_sign_in(self) -> bool:
        return bool(self.username and self.password and self.login_url)


@dataclass(frozen=True)
class Hosts:
    sites: tuple[HostedSite, ...] = ()
    auth_dir: Path | None = None

    def get(self, name: str) -> HostedSite | None:
        return next((site for site in self.sites if site.name == name), None)

    def storage_state(self, named: str | None) -> Path | None:
        """The file a config's `storage_state` (`./.auth/gitlab_state.json`) names, in auth_dir, if it is
        there."""
        if not named or self.auth_dir is None:
            return None
        path = self.auth_dir / Path(named).name
        return path if path.is_file() else None


def load_hosts(file: Path | None, pairs: tuple[str, ...] = ()) -> Hosts:
    """The hosts file (if any), then each `NAME=URL` flag over it."""
    table: dict[str, object] = {}
    if file is not None:
        try:
            table = tomllib.loads(file.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise HostsError(f"{file}: not a readable TOML hosts file ({exc}).") from exc
    base = file.parent if file is not None else Path.cwd()
    auth_dir = table.pop("auth_dir", None)
    sites: dict[str, HostedSite] = {}
    for name, entry in table.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
            raise HostsError(f'{file}: [{name}] needs url = "http://..." (the site\'s web address).')
        known = {"url", "spec", "api_url", "assume_openapi", "token", "username", "password", "login_url"}
        if unknown := set(entry) - known:
            raise HostsError(
                f"{file}: [{name}] has unknown key(s) {sorted(unknown)}; known: {sorted(known)}."
            )
        spec = entry.get("spec")
        if spec and not spec.startswith(("http://", "https://")):
            spec = str((base / spec).resolve())
        sites[name] = HostedSite(name=name, **(entry | {"spec": spec}))
    for pair in pairs:
        name, _, url = pair.partition("=")
        if not name or not url.startswith(("http://", "https://")):
            raise HostsError(f"--host {pair!r} is not NAME=URL, e.g. gitlab=http://localhost:8023.")
        sites[name] = (
            HostedSite(**(vars(sites[name]) | {"url": url})) if name in sites else HostedSite(name, url)
        )
    return Hosts(
        sites=tuple(sites.values()),
        auth_dir=(base / str(auth_dir)).resolve() if auth_dir is not None else None,
    )


def check_hosted(hosts: Hosts, sites: set[str]) -> None:
    """Before any worker starts: each of `sites` the hosts file gives can be registered."""
    for site in hosts.sites:
        if site.name in sites:
            HostedInstance(site)


class HostedInstance:
    """A `SiteInstance` for a site the user runs: registered with its API document (or as a web-only site,
    as WebArena's reddit, map and wikipedia are: they have none) and sign-in, never reset."""

    def __init__(self, site: HostedSite) -> None:
        if site.spec is None:
            given = [key for key in ("api_url", "token", "assume_openapi") if getattr(site, key)]
            if given:
                raise HostsError(
                    f'Site {site.name} has {", ".join(given)} but no API document: give spec = "..." too, '
                    "or leave them out for a site with only a web UI."
                )
        self.site = site

    @property
    def web_url(self) -> str:
        return self.site.url

    def reset(self) -> None:
        """The user's own site: resetting it is theirs to do (WebArena's `require_reset` tasks say when)."""

    def register(self, registry: apis.SiteRegistry, login_as: str) -> None:
        site = self.site
        auth = None
        if site.token:
            registry.secrets.set(TOKEN_PREFIX + site.name, site.token)
            auth = {"type": "bearer", "token_secret": TOKEN_PREFIX + site.name}
        web_login = None
        if site.can_sign_in:
            registry.secrets.set(SECRET_PREFIX + site.name, site.password or "")
            web_login = {
                "url": site.login_url,
                "username": site.username,
                "password_secret": SECRET_PREFIX + site.name,
            }
        spec = None if site.spec is None else self._spec(registry)  # None: a site with only a web UI
        registry.add(
            apis.Site(site.name, spec, site.api_url or site.url, site.url, auth, web_login), replace=True
        )

    def _spec(self, registry: apis.SiteRegistry) -> str:
        """The site's API document; one that declares no OpenAPI version is registered as a copy that does,
        as the hosts file's assume_openapi says (the registry loads documents as they are)."""
        spec = self.site.spec or ""
        if self.site.assume_openapi is None:
            return spec
        try:
            document = json.loads(Path(spec).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise HostsError(f"Site {self.site.name}: cannot read its spec {spec} ({exc}).") from exc
        assumed, _ = assume_openapi_version(document, self.site.assume_openapi)
        copy = registry.data_dir / "assumed-specs" / f"{self.site.name}.json"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(assumed), encoding="utf-8")
        return str(copy)

    def inspector(self) -> httpx.Client:
        return httpx.Client(base_url=self.site.api_url or self.site.url)


@contextmanager
def hosted(site: HostedSite) -> Iterator[HostedInstance]:
    yield HostedInstance(site)

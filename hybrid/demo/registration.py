"""Registering a running demo site as the `demo` site, acting as one of its users."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import apis

if TYPE_CHECKING:
    from hybrid.demo.server import DemoSite

SITE_NAME = "demo"


def token_secret_name(username: str) -> str:
    return f"demo_token_{username}"


def password_secret_name(username: str) -> str:
    return f"demo_password_{username}"


def register_demo(registry: apis.SiteRegistry, site: DemoSite, username: str = "alice") -> apis.Site:
    """Point the `demo` site at `site` as `username`: API token and web password in the secret store, as
    any site's would be. Replaces an earlier registration, since the port changes on every start."""
    registry.secrets.set(token_secret_name(username), site.token_for(username))
    registry.secrets.set(password_secret_name(username), site.password)
    return registry.add(
        apis.Site(
            name=SITE_NAME,
            spec=site.openapi_url,
            base_url=site.base_url,
            web_url=site.base_url,
            auth={"type": "bearer", "token_secret": token_secret_name(username)},
            web_login={
                "url": f"{site.base_url}/login",
                "username": username,
                "password_secret": password_secret_name(username),
            },
        ),
        replace=True,
    )


@contextmanager
def demo_registered(
    registry: apis.SiteRegistry, site: DemoSite, username: str = "alice"
) -> Iterator[apis.Site]:
    """`register_demo` while the block runs; then the `demo` site is put back as it was (another running
    `hybrid demo serve`'s registration, say), or removed, so it never names a stopped site."""
    try:
        before: apis.Site | None = registry.get(SITE_NAME)
    except apis.RegistryError:
        before = None
    try:
        yield register_demo(registry, site, username)
    finally:
        if before is not None:
            registry.add(before, replace=True)
        else:
            registry.remove(SITE_NAME)

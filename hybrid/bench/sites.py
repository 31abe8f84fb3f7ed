"""How a benchmark worker gets the sites a suite needs: started, registered, reset, read by evaluators.

A site setup is a function, named as `module:function` so it can be sent to other processes and
machines, that returns a context manager yielding a `SiteInstance`. Each worker opens its own instance
of every site, so tasks in parallel never see each other's writes. The demo site's setup is built in;
another suite's sites plug in with `hybrid bench --site-setup NAME=module:function`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import httpx

import apis
from hybrid.demo import DemoSite, demo_site
from hybrid.demo.registration import register_demo
from sandbox.errors import HybridError

JUDGE_USER = "alice"  # a demo account that can see everything the demo suite's checks read


class SiteSetupError(HybridError):
    """A site setup cannot be found or used; the message says how to name one."""


class SiteInstance(Protocol):
    """One running copy of a site, private to a worker."""

    @property
    def web_url(self) -> str:
        """Where the site's web UI is (tasks' `__SITE__`)."""
        ...

    def reset(self) -> None:
        """Bring the site back to the state every task starts from."""
        ...

    def register(self, registry: apis.SiteRegistry, login_as: str) -> None:
        """Register the site in `registry` under the suite's site name, acting as `login_as`."""
        ...

    def inspector(self) -> httpx.Client:
        """A client at the site's API base URL with an account that can read what the checks ask."""
        ...


SiteSetup = Callable[[], AbstractContextManager[SiteInstance]]


class DemoInstance:
    def __init__(self, site: DemoSite) -> None:
        self.site = site

    @property
    def web_url(self) -> str:
        return self.site.base_url

    def reset(self) -> None:
        self.site.reset()

    def register(self, registry: apis.SiteRegistry, login_as: str) -> None:
        register_demo(registry, self.site, login_as)

    def inspector(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.site.api_url, headers={"Authorization": f"Bearer {self.site.token_for(JUDGE_USER)}"}
        )


@contextmanager
def demo_setup() -> Iterator[SiteInstance]:
    """The bundled demo site on a free 127.0.0.1 port (it starts in milliseconds)."""
    with demo_site() as site:
        yield DemoInstance(site)


BUILT_IN = {"demo": "hybrid.bench.sites:demo_setup"}


def parse_setups(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`["NAME=module:function", ...]` as a mapping, over the built-in ones."""
    setups = dict(BUILT_IN)
    for pair in pairs:
        name, _, target = pair.partition("=")
        if not name or ":" not in target:
            raise SiteSetupError(
                f"{pair!r} is not NAME=module:function, e.g. gitea=mysuite.sites:gitea_setup."
            )
        setups[name] = target
    return setups


def load_setup(target: str) -> SiteSetup:
    module_name, _, function = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as exc:
        raise SiteSetupError(f"Cannot load the site setup {target!r}: {exc}.") from exc


def check_sites(needed: set[str], setups: dict[str, str]) -> None:
    missing = sorted(needed - set(setups))
    if missing:
        raise SiteSetupError(
            f"The suite uses site(s) {', '.join(missing)} with no setup: give one with "
            f"--site-setup {missing[0]}=module:function (a function returning a context manager "
            "that yields an object with web_url, reset(), register(registry, login_as), inspector())."
        )

"""`api`, `browser` and `finish` in a notebook, exactly as the agent's kernel has them.

The notebook's own process plays the host: it builds the site clients from the user's configuration
(credentials from the site registry's secret store or the environment, never from the notebook),
serves them through the same capability bridge the agent's kernels use, and puts the bridge's stubs
into the notebook's namespace. So a code action behaves the same in a notebook as in a run: same
signatures, same errors, same policy, and every call is recorded.

    from hybrid.explore import attach
    session = attach(["demo"], into=globals(), browser=True)
    api.demo.list_projects()
    browser.login("demo"); print(browser.goto("/alice/tracker-core/issues"))
"""

from __future__ import annotations

from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, Self

import apis
from hybrid.agent.assembly import open_browser
from hybrid.agent.observation import BROWSER_CAPABILITY
from hybrid.agent.runtime import SiteHandle, api_capability, browser_capability, site_urls
from hybrid.config import Settings, load_settings
from sandbox import Call, CallRecord, HostFunction, Policy, PolicyMode
from sandbox.bridge import BridgeServer, Dispatcher, kernel_stub
from sandbox.browser import BrowserService
from sandbox.errors import HybridError
from sandbox.names import API, FINISH


class AttachError(HybridError):
    """The sites cannot be attached; the message says what to register or configure."""


def ask_on_input(call: Call) -> bool:
    """The `confirm` policy in a notebook: a yes/no question under the cell."""
    return input(f"The code wants to run {call.name} (it writes). Allow it? [y/N] ").strip().lower() in (
        "y",
        "yes",
    )


class Attachment:
    """The host side of `api`/`browser`/`finish` in this process. Close it (or use `with`) to stop its
    bridge and browser."""

    def __init__(
        self, handles: list[SiteHandle], policy: Policy, browser: BrowserService | None = None
    ) -> None:
        self.sites = [handle.name for handle in handles]
        self.answer: Any = None
        self.finished = False
        self.browser = browser
        self._dispatcher = Dispatcher(policy, [secret for handle in handles for secret in handle.secrets])
        self._dispatcher.working_dir = (
            Path.cwd
        )  # browser.upload(id, path) reads the notebook's files from there
        self._dispatcher.register(API, api_capability(handles))
        if browser is not None:
            browser.restrict(site_urls(handles))
            self._dispatcher.register(BROWSER_CAPABILITY, browser_capability(browser))
        self._dispatcher.register(FINISH, HostFunction(self._finish, writes=False))
        self._server = BridgeServer(self._dispatcher)

    def _finish(self, answer: Any = None) -> str:
        """Give the final answer (in a notebook it is only kept, as `session.answer`)."""
        self.finished, self.answer = True, answer
        return "Answer recorded."

    def stubs_into(self, namespace: MutableMapping[str, Any]) -> list[str]:
        """Put the stubs (`api`, `finish`) into `namespace`; returns their names."""
        return kernel_stub.connect(namespace, self._server.path, self._server.token)  # type: ignore[arg-type]

    def calls(self) -> list[CallRecord]:
        """The calls made since the last time this was asked (operation, arguments, status, latency)."""
        return self._dispatcher.recorder.take()

    def close(self) -> None:
        self._server.close()
        if self.browser is not None:
            self.browser.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def attach(
    sites: list[str],
    into: MutableMapping[str, Any],
    *,
    browser: bool = False,
    policy: PolicyMode | None = None,
    settings: Settings | None = None,
) -> Attachment:
    """Serve `api.<site>.*`, `finish` and, with `browser=True`, `browser.*` (the configured Chromium, started
    on first use, signing in with the registry's web logins) for `sites` (registered names), and put their
    stubs into `into` (a notebook passes `globals()`). `policy` defaults to the configured one; `confirm`
    asks with input()."""
    settings = settings or load_settings()
    registry = apis.SiteRegistry(settings.data_dir)
    try:
        handles = [SiteHandle.from_registry(registry, name) for name in sites]
    except (apis.RegistryError, apis.ApiError, apis.SpecError) as exc:
        raise AttachError(
            f"{exc} (sites are looked up in {settings.data_dir}; set HYBRID_DATA_DIR to use another data dir)"
        ) from exc
    mode = policy or settings.policy
    service = None
    if browser:
        service = open_browser(settings, registry, [handle.name for handle in handles])
        if service is None:
            raise AttachError(
                "No Chromium found for browser=True: install Debian's chromium package, or set "
                "HYBRID_BROWSER_EXECUTABLE."
            )
    attachment = Attachment(
        handles, Policy(mode=mode, confirm=ask_on_input if mode == "confirm" else None), service
    )
    try:
        attachment.stubs_into(into)
    except BaseException:
        attachment.close()
        raise
    return attachment

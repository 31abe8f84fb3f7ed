"""The request guard: every request the browser makes goes to the run's origins only, and a write (a
non-GET request) waits for the policy, held until the caller brings its verdict (see `session.Step`)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import (
    BrowserContext,
    Error as PlaywrightError,
    Frame,
    Request,
    Route,
    WebSocketRoute,
)

from sandbox.browser.errors import playwright_reason
from sandbox.browser.origins import Origins

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What a page may load without any server: its own inline data and blobs.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


def without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


@dataclass(frozen=True)
class HeldWrite:
    """A write request the page sent that waits for the policy: a script's fetch, XHR or beacon is held
    open; a navigation (a form submission) was answered with 204 No Content, which leaves the page as
    it was, and is sent again with the same method, headers and body if allowed."""

    route: Route | None
    request: Request
    frame: Frame  # where a navigation is sent again
    headers: dict[str, str]
    body: bytes | None

    def describe(self) -> dict[str, Any]:
        request = self.request
        return {
            "method": "request",
            "args": [request.method, request.url],
            "writes": True,
            "domain": host_of(request.url),
            "description": f"let the page send {request.method} {request.url} on its own",
        }


class RequestGuard:
    """Routes a browser context's requests; what it blocks, holds or lets through is told in `events`."""

    def __init__(self, origins: Origins | None, check_writes: bool, events: list[str]) -> None:
        self.origins = origins  # None: any http(s) origin
        self._check_writes = check_writes
        self._events = events
        self._installed = False  # whether the current context's requests pass `_route`
        # Lets the one request an approved action announced through (a form's submission), once.
        self.approval: Callable[[Request], bool] | None = None
        self.held: list[HeldWrite] = []
        self._replay: HeldWrite | None = None  # an allowed navigation, being sent again

    @property
    def holding(self) -> bool:
        return bool(self.held)

    def attach(self, context: BrowserContext) -> None:
        """Guard a new context (of a fresh or restarted browser) when there is anything to guard."""
        self._installed = False
        self.held, self._replay = [], None  # routes of a dead browser cannot be answered
        if self.origins is not None or self._check_writes:
            self._install(context)

    def restrict(self, origins: Origins, context: BrowserContext | None) -> None:
        """From now on, reach only `origins`."""
        self.origins = origins
        if context is not None and not self._installed:
            self._install(context)

    def _install(self, context: BrowserContext) -> None:
        context.route("**/*", self._route)
        context.route_web_socket("**/*", self._route_socket)
        self._installed = True

    def reachable(self, url: str) -> bool:
        origins = self.origins
        return origins is None or origins.allows(url) or urlsplit(url).scheme in LOCAL_SCHEMES

    def describe_held(self) -> list[dict[str, Any]]:
        return [write.describe() for write in self.held]

    def release(self, verdicts: list[bool]) -> None:
        """Send or drop the held writes, `verdicts` in the order `describe_held` listed them."""
        held, self.held = self.held[: len(verdicts)], self.held[len(verdicts) :]
        for write, allowed in zip(held, verdicts, strict=True):
            request = write.request
            if not allowed:
                if write.route is not None:
                    with suppress(PlaywrightError):
                        write.route.abort("blockedbyclient")
                self._events.append(
                    f"Blocked: the page tried to send {request.method} {request.url}, and the "
                    "session's policy refused it. Nothing was sent."
                )
                continue
            self._events.append(
                f"The page sent {request.method} {request.url} on its own; the session's policy allowed it."
            )
            try:
                if write.route is None:
                    self._send_again(write)
                else:
                    self._pass(write.route, request)
            except PlaywrightError as exc:
                self._events.append(
                    f"Notice: {request.method} {request.url} could not be sent: {playwright_reason(exc)}."
                )

    def _route(self, route: Route, request: Request) -> None:
        """Every request the browser makes: to the allowed origins only, and writes only with the policy's
        yes (held for it, never asked here: see `session.Step`)."""
        if not self.reachable(request.url):
            self._refuse(route, request)
            self._events.append(
                f"Blocked: the page tried to reach {request.url}, which is not one of the run's "
                f"sites ({self.origins}). Nothing was sent."
            )
            return
        replay = self._replay
        if replay is not None and request.is_navigation_request() and request.url == replay.request.url:
            self._replay = None
            self._pass(route, request, replay)
            return
        writes = self._check_writes and request.method not in SAFE_METHODS
        if writes and self.approval is not None and self.approval(request):
            self.approval, writes = None, False  # one submission per yes
        if not writes:
            self._pass(route, request)
        elif request.is_navigation_request():
            # Held open, a navigation would keep Playwright's own waits running; 204 leaves the page as it is.
            self.held.append(
                HeldWrite(None, request, request.frame, request.headers, request.post_data_buffer)
            )
            route.fulfill(status=204)
        else:
            self.held.append(HeldWrite(route, request, request.frame, request.headers, None))

    def _pass(self, route: Route, request: Request, replay: HeldWrite | None = None) -> None:
        """Send a request on. Where a navigation is redirected to is checked here, since Playwright routes a
        redirect's next request past the handlers."""
        # None overrides nothing: the request goes as the page sent it.
        method = replay.request.method if replay is not None else None
        headers = replay.headers if replay is not None else None
        body = replay.body if replay is not None else None
        if self.origins is None or not request.is_navigation_request():
            route.continue_(method=method, headers=headers, post_data=body)
            return
        response = route.fetch(max_redirects=0, method=method, headers=headers, post_data=body)
        location = urljoin(request.url, response.headers.get("location", ""))
        if response.status in REDIRECTS and not self.reachable(location):
            self._refuse(route, request)
            self._events.append(
                f"Blocked: {request.url} redirected to {location}, which is not one of the run's "
                f"sites ({self.origins}); the browser stopped there."
            )
            return
        # Fetching a redirect's target here to check where it leads in turn would load it twice (and, say, use
        # up a flashed message): Chromium follows the first hop on its own.
        route.fulfill(response=response)

    @staticmethod
    def _refuse(route: Route, request: Request) -> None:
        # A navigation answered with 204 leaves the page as it was; aborted, it would load an error page.
        if request.is_navigation_request():
            route.fulfill(status=204)
        else:
            route.abort("blockedbyclient")

    def _send_again(self, write: HeldWrite) -> None:
        """Replay an allowed navigation that was answered with 204 (see `_route`) in its frame."""
        self._replay = write
        try:
            write.frame.goto(write.request.url, wait_until="commit")
        finally:
            self._replay = None

    def _route_socket(self, socket: WebSocketRoute) -> None:
        if self.reachable(socket.url):
            socket.connect_to_server()
            return
        socket.close(code=1008, reason="not one of the run's sites")
        self._events.append(
            f"Blocked: the page tried to open a WebSocket to {socket.url}, which is not one of "
            f"the run's sites ({self.origins})."
        )

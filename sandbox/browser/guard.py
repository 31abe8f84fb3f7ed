"""The request guard: every request the browser makes goes to the run's origins only, and a write (a
non-GET request) waits for the policy, held until the caller brings its verdict (see `session.Step`).

Two layers see the requests. Playwright's routes see those of the pages it knows, with the frame each came
from (so a held form submission can be sent again where it was made). Under them, the browser-wide network
layer (the DevTools Fetch domain on the browser itself) sees every request Chromium sends, whatever made it:
a window the browser opened on its own (a form submitted by Shift+Enter opens one before any page knows of
it), a redirect past the routes, a key or gesture nobody listed. Whatever the routes did not let through is
judged there by the same rules, so nothing that writes leaves without the policy's yes.

What writes is told by the read rules API calls use (`sandbox.reads`): a POST that only queries (a search
form, `POST /api/flow_runs/filter` from a single-page app) or an operation the site's spec or its user marks
read is let through as a read."""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import (
    Browser,
    BrowserContext,
    CDPSession,
    Error as PlaywrightError,
    Frame,
    Request,
    Response,
    Route,
    WebSocketRoute,
)

from sandbox.browser.errors import playwright_reason
from sandbox.browser.origins import Origins
from sandbox.browser.registry import BrowserCall, BrowserEffect
from sandbox.reads import ReadRules

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The header by which the routes mark a write they let through, one token per request: the browser-wide layer
# lets exactly that request pass, and takes the header off before it leaves.
PASS_HEADER = "x-hybrid-guard-pass"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What a page may load without any server: its own inline data and blobs.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
# The requests answered with success, newest kept (see `RequestGuard.sent`).
SENT_KEPT = 2000


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


def without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


@dataclass(frozen=True)
class HeldWrite:
    """A write request the page sent that waits for the policy: `send` lets it go, `drop` answers it
    without sending it (see `RequestGuard._route` and `RequestGuard._paused` for how each layer holds)."""

    method: str
    url: str
    send: Callable[[], None]
    drop: Callable[[], None]
    # A page load only the browser-wide layer saw: often the first of a window no page knows yet (a form
    # submitted into a new window), which comes up once it is sent.
    document: bool = False

    def describe(self) -> BrowserCall:
        return BrowserCall(
            "request",
            (self.method, self.url),
            BrowserEffect(
                writes=True,
                domain=host_of(self.url),
                description=f"let the page send {self.method} {self.url} on its own",
            ),
        )


class RequestGuard:
    """Routes a browser's requests; what it blocks, holds or lets through is told in `events`."""

    def __init__(self, origins: Origins | None, check_writes: bool, events: list[str]) -> None:
        self.origins = origins  # None: any http(s) origin
        self._check_writes = check_writes
        self._events = events
        self._browser: Browser | None = None
        self._context: BrowserContext | None = None
        self._network: CDPSession | None = None  # the browser-wide layer, once installed
        # Lets the one request an approved action announced through (a form's submission), once.
        self.approval: Callable[[Request], bool] | None = None
        self.held: list[HeldWrite] = []
        self._replay: tuple[Request, dict[str, str], bytes | None] | None = None  # a navigation sent again
        # Tokens of the writes the routes let through (see `PASS_HEADER`): each lets one request pass, once.
        self._passes: set[str] = set()
        self.reads = ReadRules()
        # (method, URL) of each request the pages sent that was answered with success (below 400), for the
        # host to read which of a site's API operations the pages called (see `BrowserSession.take_sent`).
        self.sent: deque[tuple[str, str]] = deque(maxlen=SENT_KEPT)

    @property
    def holding(self) -> bool:
        return bool(self.held)

    def attach(self, browser: Browser, context: BrowserContext) -> None:
        """Guard a new browser and its context (fresh or restarted) when there is anything to guard."""
        self._browser, self._context, self._network = browser, context, None
        self.held, self._replay = [], None  # requests of a dead browser cannot be answered
        self._passes.clear()
        context.on("response", self._answered)
        if self.origins is not None or self._check_writes:
            self._install()

    def _answered(self, response: Response) -> None:
        if response.status < 400:
            self.sent.append((response.request.method, without_fragment(response.url)))

    def restrict(self, origins: Origins) -> None:
        """From now on, reach only `origins`."""
        self.origins = origins
        if self._context is not None and self._network is None:
            self._install()

    def _install(self) -> None:
        assert self._browser is not None and self._context is not None
        self._context.route("**/*", self._route)
        self._context.route_web_socket("**/*", self._route_socket)
        network = self._browser.new_browser_cdp_session()
        network.on("Fetch.requestPaused", self._paused)
        network.send("Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]})
        self._network = network

    def reachable(self, url: str) -> bool:
        origins = self.origins
        return origins is None or origins.allows(url) or urlsplit(url).scheme in LOCAL_SCHEMES

    def describe_held(self) -> list[BrowserCall]:
        return [write.describe() for write in self.held]

    def opens_windows(self, verdicts: list[bool]) -> bool:
        """Whether sending the held writes `verdicts` allow may open a window (see `HeldWrite.document`)."""
        return any(write.document and allowed for write, allowed in zip(self.held, verdicts, strict=False))

    def release(self, verdicts: list[bool]) -> None:
        """Send or drop the held writes, `verdicts` in the order `describe_held` listed them."""
        held, self.held = self.held[: len(verdicts)], self.held[len(verdicts) :]
        for write, allowed in zip(held, verdicts, strict=True):
            if not allowed:
                with suppress(PlaywrightError):
                    write.drop()
                self._events.append(
                    f"Blocked: the page tried to send {write.method} {write.url}, and the "
                    "session's policy refused it. Nothing was sent."
                )
                continue
            self._events.append(
                f"The page sent {write.method} {write.url} on its own; the session's policy allowed it."
            )
            try:
                write.send()
            except PlaywrightError as exc:
                self._events.append(
                    f"Notice: {write.method} {write.url} could not be sent: {playwright_reason(exc)}."
                )

    def writes(self, method: str, url: str) -> bool:
        """Whether a request of `method` to `url` writes by the read rules (held or not)."""
        return self.reads.writes(method, url)

    def _writes(self, method: str, url: str) -> bool:
        return self._check_writes and self.reads.writes(method, url)

    def _route(self, route: Route, request: Request) -> None:
        """Every request of the pages Playwright knows: to the allowed origins only, and writes only with
        the policy's yes (held for it, never asked here: see `session.Step`)."""
        if not self.reachable(request.url):
            self._refuse(route, request)
            self._events.append(
                f"Blocked: the page tried to reach {request.url}, which is not one of the run's "
                f"sites ({self.origins}). Nothing was sent."
            )
            return
        replay = self._replay
        if replay is not None and request.is_navigation_request() and request.url == replay[0].url:
            self._replay = None
            self._pass(route, request, replay)
            return
        writes = self._writes(request.method, request.url)
        if writes and self.approval is not None and self.approval(request):
            self.approval, writes = None, False  # one submission per yes
        if not writes:
            self._pass(route, request)
        elif request.is_navigation_request():
            frame = _frame_of(request)
            if frame is None:
                # The first request of a window opened for it (a form with target=_blank): no frame to send
                # it again from, and nothing of Playwright's waits on it. The browser-wide layer holds it.
                route.continue_()
                return
            # Held open, a navigation would keep Playwright's own waits running; 204 leaves the page as it is,
            # and an allowed one is sent again from its frame.
            held = (request, request.headers, request.post_data_buffer)
            self.held.append(
                HeldWrite(request.method, request.url, lambda: self._send_again(frame, held), _nothing)
            )
            route.fulfill(status=204)
        else:
            self.held.append(
                HeldWrite(
                    request.method,
                    request.url,
                    lambda: self._pass(route, request),
                    lambda: route.abort("blockedbyclient"),
                )
            )

    def _pass(
        self,
        route: Route,
        request: Request,
        replay: tuple[Request, dict[str, str], bytes | None] | None = None,
    ) -> None:
        """Send a request on. Where a navigation is redirected to is checked here, since Playwright routes a
        redirect's next request past the handlers."""
        method = request.method
        overrides: dict[str, Any] = {}
        if replay is not None:
            method = replay[0].method
            overrides = {"method": method, "headers": replay[1], "post_data": replay[2]}
        if self.origins is None or not request.is_navigation_request():
            if method not in SAFE_METHODS:
                token = secrets.token_urlsafe(16)
                self._passes.add(token)
                headers = dict(overrides.get("headers") or request.headers)
                overrides["headers"] = {**headers, PASS_HEADER: token}
            route.continue_(**overrides)
            return
        # Fetched by Playwright itself, this request never reaches the browser-wide layer.
        response = route.fetch(max_redirects=0, **overrides)
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

    def _send_again(self, frame: Frame, held: tuple[Request, dict[str, str], bytes | None]) -> None:
        """Replay an allowed navigation that was answered with 204 (see `_route`) in its frame."""
        self._replay = held
        try:
            frame.goto(held[0].url, wait_until="commit")
        finally:
            self._replay = None

    def _paused(self, event: dict[str, Any]) -> None:
        """Every request Chromium sends, held by the browser-wide layer: what the routes let through goes
        on; anything else (from a window no page knows yet, a redirect, ...) is judged here. A write is held
        paused until the policy answers: a window the browser opened for it is one Playwright does not wait
        on."""
        network = self._network
        assert network is not None
        request_id, request = event["requestId"], event["request"]
        method, url = request["method"], without_fragment(request["url"])
        document = event.get("resourceType") == "Document"
        headers: dict[str, str] = request.get("headers", {})
        marked = next((name for name in headers if name.lower() == PASS_HEADER), None)
        token = headers[marked] if marked is not None else None

        def go_on() -> None:
            if token is None:
                network.send("Fetch.continueRequest", {"requestId": request_id})
                return
            # The mark never leaves the browser (a forged one is taken off too, and gives nothing).
            kept = [{"name": name, "value": value} for name, value in headers.items() if name != marked]
            network.send("Fetch.continueRequest", {"requestId": request_id, "headers": kept})

        def refuse() -> None:
            if document:  # as `_refuse`: the page stays as it was
                network.send("Fetch.fulfillRequest", {"requestId": request_id, "responseCode": 204})
            else:
                network.send("Fetch.failRequest", {"requestId": request_id, "errorReason": "BlockedByClient"})

        if token is not None and token in self._passes:
            self._passes.discard(token)  # exactly the request the routes let through, once
            go_on()
        elif not self.reachable(url):
            refuse()
            self._events.append(
                f"Blocked: the browser tried to reach {url}, which is not one of the run's "
                f"sites ({self.origins}). Nothing was sent."
            )
        elif self._writes(method, url) or (
            self._check_writes and method in SAFE_METHODS and request.get("hasPostData")
        ):
            self.held.append(HeldWrite(method, url, go_on, refuse, document))
        else:
            go_on()

    def _route_socket(self, socket: WebSocketRoute) -> None:
        if self.reachable(socket.url):
            socket.connect_to_server()
            return
        socket.close(code=1008, reason="not one of the run's sites")
        self._events.append(
            f"Blocked: the page tried to open a WebSocket to {socket.url}, which is not one of "
            f"the run's sites ({self.origins})."
        )


def _frame_of(request: Request) -> Frame | None:
    try:
        return request.frame
    except PlaywrightError:  # "Frame for this navigation request is not available"
        return None


def _nothing() -> None:
    """Dropping a navigation answered with 204 already: nothing was sent and nothing is left to answer."""

"""The two layers of the request guard agree on exactly which request the routes let through: a per-request
mark, not its method and URL, so an identical write the routes never saw is still held for the policy."""

from __future__ import annotations

from typing import Any, ClassVar

from sandbox.browser.guard import PASS_HEADER, RequestGuard


class FakeRequest:
    method = "POST"
    url = "http://127.0.0.1:8000/api/comments"
    headers: ClassVar[dict[str, str]] = {"content-type": "application/json"}

    def is_navigation_request(self) -> bool:
        return False


class FakeRoute:
    def __init__(self) -> None:
        self.continued: list[dict[str, Any]] = []

    def continue_(self, **overrides: Any) -> None:
        self.continued.append(overrides)


class FakeNetwork:
    """The browser-wide layer's DevTools session: what it was told to do with each paused request."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, method: str, params: dict[str, Any]) -> None:
        self.sent.append((method, params))


def paused(request_id: str, headers: dict[str, str]) -> dict[str, Any]:
    request = {"method": FakeRequest.method, "url": FakeRequest.url, "headers": headers, "hasPostData": True}
    return {"requestId": request_id, "request": request, "resourceType": "Fetch"}


def test_an_identical_write_the_routes_did_not_allow_is_held() -> None:
    events: list[str] = []
    guard = RequestGuard(None, check_writes=True, events=events)
    network = FakeNetwork()
    guard._network = network  # type: ignore[assignment]
    # The routes hold a page's write; the policy allows it, so they send it on, marked.
    route = FakeRoute()
    guard._route(route, FakeRequest())  # type: ignore[arg-type]
    assert [write.method for write in guard.held] == ["POST"]
    guard.release([True])
    (allowed,) = route.continued
    mark = allowed["headers"][PASS_HEADER]
    # An identical write no route saw (a window no page knows yet) reaches the browser-wide layer first,
    # then the allowed one: only the allowed one goes on, without its mark; the other waits for the policy.
    guard._paused(paused("twin", dict(FakeRequest.headers)))
    guard._paused(paused("allowed", {**FakeRequest.headers, PASS_HEADER: mark}))
    assert network.sent == [
        (
            "Fetch.continueRequest",
            {"requestId": "allowed", "headers": [{"name": "content-type", "value": "application/json"}]},
        )
    ]
    assert [(write.method, write.url) for write in guard.held] == [("POST", FakeRequest.url)]
    # The mark passes once: the same request again, or a page forging it, is held too (and sent unmarked).
    guard._paused(paused("replayed", {**FakeRequest.headers, PASS_HEADER: mark}))
    assert len(guard.held) == 2 and len(network.sent) == 1
    guard.release([False, True])
    assert network.sent[-1] == (
        "Fetch.continueRequest",
        {"requestId": "replayed", "headers": [{"name": "content-type", "value": "application/json"}]},
    )
    assert network.sent[-2] == ("Fetch.failRequest", {"requestId": "twin", "errorReason": "BlockedByClient"})

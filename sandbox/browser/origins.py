"""Which origins (scheme, host and port) a browser may reach: the run's sites, and nothing else.

Ports matter: a cookie set by http://127.0.0.1:8000 is sent to every port of 127.0.0.1, so another
local port is as foreign as another host.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

WEB_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# A WebSocket's origin is its page's: ws://host:port belongs to http://host:port.
SOCKET_SCHEMES = {"ws": "http", "wss": "https"}


def origin_of(url: str) -> str | None:
    """`scheme://host:port` of an http(s) or ws(s) URL, with the default port written out; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a port that is not a number, say
        return None
    scheme = SOCKET_SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    if scheme not in WEB_SCHEMES or not parts.hostname:
        return None
    return f"{scheme}://{parts.hostname}:{port or DEFAULT_PORTS[scheme]}"


class Origins:
    """The origins of some site URLs; `allows(url)` says whether a request to `url` stays among them.

    ```python
    Origins(["http://127.0.0.1:8000/api/v1", "http://127.0.0.1:8000"]).allows("http://127.0.0.1:9000/")  #
    False
    ```
    """

    def __init__(self, urls: Iterable[str]) -> None:
        origins = set()
        for url in urls:
            origin = origin_of(url)
            if origin is None:
                raise ValueError(f"{url!r} has no web origin; site URLs look like https://host[:port]/path")
            origins.add(origin)
        self.origins = frozenset(origins)

    def allows(self, url: str) -> bool:
        return origin_of(url) in self.origins

    def __str__(self) -> str:
        return ", ".join(sorted(self.origins)) or "none"

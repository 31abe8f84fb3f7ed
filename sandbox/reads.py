"""Which requests only read, by one set of rules for API calls and the browser's own requests alike.

GET, HEAD and OPTIONS read; so does a POST that only queries: its path ends in `/filter`, `/search`,
`/query`, `/count` (FastAPI's `POST /flow_runs/filter`, Elasticsearch's `_search`), which carries its
question in the body because a URL is too small for it. Beyond those, a spec may mark an operation
`x-read-only` and a user may mark one read (`hybrid sites edit --read`): `ReadRules` holds such
operations' URL templates, so a page that sends one is not held as a write either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
QUERY_ENDINGS = frozenset({"filter", "search", "query", "count", "_search", "_count", "_msearch", "_mget"})
_PLACEHOLDER = re.compile(r"\{[^}/]*\}")


def queries_only(method: str, path: str) -> bool:
    """Whether `method` on `path` is a POST that only queries (by its last path segment)."""
    last = urlsplit(path).path.rstrip("/").rsplit("/", 1)[-1].lower()
    return method.upper() == "POST" and last in QUERY_ENDINGS


class ReadRules:
    """The read rules for requests: the methods that read, POSTs that only query, and the (method, URL
    template) pairs marked read (`https://host/api/things/{id}/lookup`, each `{...}` one path segment)."""

    def __init__(self, marked: Iterable[tuple[str, str]] = ()) -> None:
        self._marked = [(method.upper(), _template(url)) for method, url in marked]

    def writes(self, method: str, url: str) -> bool:
        method = method.upper()
        if method in READ_METHODS or queries_only(method, url):
            return False
        address = url.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        return not any(marked == method and pattern.fullmatch(address) for marked, pattern in self._marked)


def _template(url: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(url.split("?", 1)[0].rstrip("/"))
    return re.compile("[^/]+".join(re.escape(part) for part in parts))

"""Which of a spec's operations some HTTP requests called: a browser's own requests to a site's API (a
single-page app's `GET /api/v1/repos/acme/app/issues`) read back as operations, so that a run done in the
browser is learned from as one that called the API."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from apis.model import Spec

_PLACEHOLDER = re.compile(r"\{[^}/]*\}")


def operations_requested(spec: Spec, base_url: str, requests: Iterable[tuple[str, str]]) -> list[str]:
    """The names of the operations of `spec`, served at `base_url`, that `requests` ((method, URL) pairs)
    called, in first-call order. A path that fits several operations is the one with fewest parameters
    (`/repos/search` rather than `/repos/{owner}`); requests elsewhere are no operation."""
    base = urlsplit(base_url)
    prefix = base.path.rstrip("/")
    by_method: dict[str, list[tuple[int, re.Pattern[str], str]]] = {}
    for op in spec.operations:
        literal = _PLACEHOLDER.split(op.path.rstrip("/"))
        pattern = re.compile(re.escape(prefix) + "[^/]+".join(re.escape(part) for part in literal))
        by_method.setdefault(op.method.upper(), []).append((len(literal) - 1, pattern, op.name))
    for candidates in by_method.values():
        candidates.sort(key=lambda candidate: (candidate[0], -len(candidate[1].pattern)))
    called: dict[str, None] = {}
    for method, url in requests:
        address = urlsplit(url)
        if (address.scheme, address.netloc) != (base.scheme, base.netloc):
            continue
        path = address.path.rstrip("/")
        for _, pattern, name in by_method.get(method.upper(), ()):
            if pattern.fullmatch(path):
                called.setdefault(name)
                break
    return list(called)

"""What can go wrong when loading a spec or calling an API, in words a reader can act on."""

from __future__ import annotations

import html
import re
from typing import Any

from sandbox.errors import HybridError
from sandbox.text import clip

BODY_PREVIEW_CHARS = 2000
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


class RegistryError(HybridError):
    """A site cannot be added, found or removed; the message says why and what to do."""


class SpecError(HybridError):
    """The spec cannot be used at all; the message names the file and the place in it."""


class ApiError(HybridError):
    """Base class for every error raised while calling an API operation."""


class AuthError(ApiError):
    """The site's credentials cannot be found or are configured in an unsafe way."""


class ApiArgumentError(ApiError, TypeError):
    """The call's arguments do not fit the operation (unknown or missing arguments)."""


class ApiValidationError(ApiError):
    """The request broke the spec and the client was built with `validation="strict"`."""


class ApiValidationWarning(UserWarning):
    """A request or response did not match the spec; the call went ahead anyway."""


class ApiStatusError(ApiError):
    """The server answered with a 4xx or 5xx status."""

    def __init__(self, operation: str, method: str, url: str, status: int, body: Any) -> None:
        self.operation = operation
        self.method = method
        self.url = url
        self.status = status
        self.body = trim(body)
        super().__init__(
            f"{operation}: {method} {url} returned {status}. {_status_hint(status, operation)}"
            f"\nResponse body: {self.body}"
        )


class ApiNetworkError(ApiError):
    """The request did not get an answer (connection refused, timeout, DNS failure...)."""

    def __init__(self, operation: str, method: str, url: str, cause: Exception) -> None:
        self.operation = operation
        self.method = method
        self.url = url
        self.cause = cause
        super().__init__(
            f"{operation}: {method} {url} failed before any answer: {type(cause).__name__}: {cause}. "
            "Check that the site is up and its base URL is right."
        )


def trim(body: Any, limit: int = BODY_PREVIEW_CHARS) -> str:
    """The body as text, cut in the middle when longer than `limit` characters; an HTML page (a proxy's or
    a framework's error page) as one line with its title, since its markup tells the reader nothing more."""
    if isinstance(body, str) and (page := html_page(body)):
        return page
    text = body if isinstance(body, str) else repr(body)
    return clip(text, limit, cut="middle", marker=lambda cut: f" ...[{len(cut)} characters cut]... ")


def html_page(text: str) -> str | None:
    """`an HTML page titled 'Sign in' (5,120 characters)` when `text` is an HTML document, else None."""
    head = text[:1000].lstrip().lower()
    if not head.startswith(("<!doctype html", "<html")) and "<html" not in head:
        return None
    match = _TITLE.search(text)
    title = " ".join(html.unescape(match.group(1)).split()) if match else ""
    return f"an HTML page{f' titled {clip(title, 120)!r}' if title else ''} ({len(text):,} characters)"


def _status_hint(status: int, operation: str) -> str:
    if status in (401, 403):
        return "The credentials are missing, wrong or lack permission for this operation."
    if status == 404:
        return "Nothing exists at that path: check the path arguments (ids, names, owners)."
    if status in (400, 409, 422):
        return f"The server rejected the arguments: see help({operation}) and the body below."
    if status == 429:
        return "Rate limited: wait before calling again."
    if status >= 500:
        return "The server failed; retrying later or with different arguments may help."
    return "See the body below."

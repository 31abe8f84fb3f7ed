"""`build_client`: a spec becomes an object with one documented callable per operation."""

from __future__ import annotations

import difflib
import inspect
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, Literal, Self
from urllib.parse import urlsplit

import httpx

from apis import encoding
from apis.auth import SecretStore, resolve_auth
from apis.docs import operation_help, operation_line, operation_lines
from apis.errors import (
    ApiArgumentError,
    ApiNetworkError,
    ApiStatusError,
    ApiValidationError,
    ApiValidationWarning,
)
from apis.httpauth import ApiKeyAuth
from apis.model import BODY_ARGUMENT, Operation, Spec
from apis.paging import as_page
from apis.search import search
from apis.validation import Mismatch, SpecValidator

Validation = Literal["warn", "strict", "off"]
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
USER_AGENT = "hybrid-agent (apis)"
MAX_REDIRECTS = 20
# The only headers a request keeps when a redirect sends it to another origin: none can carry a credential.
CROSS_ORIGIN_HEADERS = frozenset(
    {"host", "accept", "accept-encoding", "user-agent", "content-type", "content-length"}
)
# httpx's base Auth sends the request as it is: what a request gets past a cross-origin redirect.
NO_AUTH = httpx.Auth()


@dataclass(frozen=True)
class RetryPolicy:
    """Retries for idempotent methods after network errors and overload answers, with backoff."""

    attempts: int = 3
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 10.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def wait(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds to sleep before retry number `attempt` (1-based), honouring Retry-After."""
        suggested = _retry_after(response) if response is not None else None
        delay = suggested if suggested is not None else self.backoff_seconds * 2 ** (attempt - 1)
        return min(delay, self.max_wait_seconds)


NO_RETRIES = RetryPolicy(attempts=1)


class Client:
    """A site's API: `client.<operation>(**arguments)` calls it and returns the parsed response.

    Arguments are the operation's parameters by name (path, query, header, cookie) and `body` for
    the request body. `client.operations()` lists the names, `help(client.<operation>)` explains
    one, `client.search("what you want")` finds them.
    """

    def __init__(
        self,
        spec: Spec,
        base_url: str | None = None,
        auth: httpx.Auth | Mapping[str, Any] | None = None,
        *,
        secrets: SecretStore | None = None,
        timeout: float | httpx.Timeout = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        validation: Validation = "warn",
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        on_mismatch: Callable[[Mismatch], None] | None = None,
        web_cookies: Callable[[], Iterable[Mapping[str, Any]]] | None = None,
    ) -> None:
        self.spec = spec
        self.base_url = (base_url or spec.default_base_url or "").rstrip("/")
        if not urlsplit(self.base_url).scheme:
            raise ValueError(
                f"{spec.source} names no absolute server URL ({spec.servers or 'no servers'}); "
                "pass base_url='https://host/prefix' to build_client."
            )
        self._explicit_base_url = base_url is not None
        self.retry = retry
        self.validation = validation
        # Where requests and responses that differ from the spec are reported; None: as warnings.
        self.on_mismatch = on_mismatch
        self._validator = SpecValidator(spec) if validation != "off" else None
        if isinstance(auth, Mapping):
            auth = resolve_auth(auth, secrets, web_cookies=web_cookies)
        self._http = httpx.Client(
            auth=auth,
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, **(headers or {})},
            # Redirects are followed by `_follow`, which sends no credential to another origin.
            follow_redirects=False,
            transport=transport,
        )
        self._query_secrets = frozenset(
            [auth.name] if isinstance(auth, ApiKeyAuth) and auth.location == "query" else []
        )
        self._callables: dict[str, Callable[..., Any]] = {}

    @property
    def host(self) -> str:
        """The host the client talks to, for domain allowlists."""
        return urlsplit(self.base_url).hostname or ""

    def operations(self) -> list[str]:
        return [op.name for op in self.spec.operations]

    def search(self, query: str, k: int = 10) -> list[str]:
        """One call-shaped line for each of the `k` operations that best match `query`."""
        return operation_lines(self.spec, search(self.spec, query, k))

    def url_for(self, operation: Operation) -> str:
        """The base URL an operation is sent to: the one given, else its own server, else the spec's."""
        if not self._explicit_base_url:
            own = next((s for s in operation.servers if urlsplit(s).scheme in ("http", "https")), None)
            if own:
                return own.rstrip("/")
        return self.base_url

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._callables:
            try:
                operation = self.spec.operation(name)
            except KeyError as exc:
                raise AttributeError(exc.args[0]) from None
            self._callables[name] = self._callable(operation)
        return self._callables[name]

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.operations()))

    def __repr__(self) -> str:
        name = self.spec.title or self.spec.source
        return f"<Client {name!r} at {self.base_url}: {len(self.spec.operations)} operations>"

    def call(self, operation_name: str, /, **arguments: Any) -> Any:
        """Call the operation `operation_name` with keyword arguments; same as `client.<name>(**arguments)`.

        The operation name is positional-only, so any parameter name (`name`, `self`, ...) is free for
        arguments.
        """
        try:
            operation = self.spec.operation(operation_name)
        except KeyError as exc:
            raise ApiArgumentError(exc.args[0]) from None
        values = _bind(operation, arguments)
        display_url, build = self._request_builder(operation, values)
        if self._validator is not None:
            self._report(
                self._validator.request_problems(operation, values), strict=self.validation == "strict"
            )
        response = self._send(operation, build(), build, display_url)
        if response.status_code >= 400:
            raise ApiStatusError(
                operation.name, operation.method, display_url, response.status_code, _parse(response)
            )
        parsed = _parse(response)
        if self._validator is not None:
            self._report(self._validator.response_problems(operation, response, parsed), strict=False)
        return as_page(parsed, response)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _callable(self, operation: Operation) -> Callable[..., Any]:
        def call(**arguments: Any) -> Any:
            return self.call(operation.name, **arguments)

        call.__name__ = call.__qualname__ = operation.name
        call.__doc__ = _help_or_note(self.spec, operation)
        call.__signature__ = signature(operation)  # type: ignore[attr-defined]
        call.operation = operation  # type: ignore[attr-defined]
        call.writes = operation.writes  # type: ignore[attr-defined]
        call.host = urlsplit(self.url_for(operation)).hostname  # type: ignore[attr-defined]
        return call

    def _request_builder(
        self, operation: Operation, values: dict[str, Any]
    ) -> tuple[str, Callable[[], httpx.Request]]:
        """The URL to show, and a function that builds a fresh request per attempt from the bound values."""
        path = operation.path
        query: list[tuple[str, str | int | float | bool | None]] = []
        headers: dict[str, str] = {}
        cookies: list[str] = []
        for parameter in operation.parameters:
            if parameter.argument not in values:
                if parameter.preset:
                    headers[parameter.name] = encoding.header_value(parameter.preset_value)
                continue
            value = values[parameter.argument]
            if parameter.location == "path":
                path = path.replace(f"{{{parameter.name}}}", encoding.path_segment(parameter, value))
            elif parameter.location == "query":
                query.extend(encoding.query_pairs(parameter, value))
            elif parameter.location == "header":
                headers[parameter.name] = encoding.header_value(value)
            else:
                cookies.append(f"{parameter.name}={encoding.scalar(value)}")
        if cookies:
            headers["Cookie"] = "; ".join(cookies)
        body_arguments: dict[str, Any] = {}
        if operation.body is not None and BODY_ARGUMENT in values:
            body_arguments = encoding.body_arguments(operation.name, operation.body, values[BODY_ARGUMENT])
            headers.update(body_arguments.pop("headers", {}))
        url = self.url_for(operation) + path

        def build() -> httpx.Request:
            return self._http.build_request(
                operation.method, url, params=query, headers=headers, **body_arguments
            )

        return str(httpx.URL(url, params=query)), build

    def _send(
        self, operation: Operation, first: httpx.Request, build: Callable[[], httpx.Request], display_url: str
    ) -> httpx.Response:
        """Sends `first`, and fresh requests from `build` for retries of idempotent methods."""
        attempts = self.retry.attempts if operation.method in IDEMPOTENT_METHODS else 1
        for attempt in range(1, attempts + 1):
            request = first if attempt == 1 else build()
            try:
                response = self._follow(request)
            except httpx.TransportError as exc:
                if attempt == attempts:
                    raise ApiNetworkError(operation.name, operation.method, display_url, exc) from exc
                time.sleep(self.retry.wait(attempt, None))
                continue
            except httpx.HTTPError as exc:
                raise ApiNetworkError(operation.name, operation.method, display_url, exc) from exc
            if response.status_code in self.retry.statuses and attempt < attempts:
                response.close()
                time.sleep(self.retry.wait(attempt, response))
                continue
            return response
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _follow(self, request: httpx.Request) -> httpx.Response:
        """Sends `request` and follows its redirects. Once a redirect leaves the request's origin (scheme,
        host and port), nothing of the caller's goes along: no auth, no header but the content ones, no
        cookie, no API key in the query, and none comes back on a later hop to the first origin either
        (httpx itself drops only `Authorization`, and keeps `X-API-Key`-style headers)."""
        response = self._http.send(request)
        crossed = False
        for _ in range(MAX_REDIRECTS):
            following = response.next_request
            if following is None:
                return response
            response.close()
            crossed = crossed or _origin(following.url) != _origin(request.url)
            if crossed:
                url = following.url
                for name in self._query_secrets:
                    url = url.copy_remove_param(name)
                headers = {k: v for k, v in following.headers.items() if k.lower() in CROSS_ORIGIN_HEADERS}
                following = httpx.Request(following.method, url, headers=headers, stream=following.stream)
            response = self._http.send(following, auth=NO_AUTH if crossed else httpx.USE_CLIENT_DEFAULT)
        response.close()
        raise httpx.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects", request=request)

    def _report(self, problems: list[Mismatch], *, strict: bool) -> None:
        if not problems:
            return
        if strict:
            raise ApiValidationError("\n".join(problem.line() for problem in problems))
        for problem in problems:
            if self.on_mismatch is not None:
                self.on_mismatch(problem)
            else:
                # Point at the caller of `client.<operation>(...)`: _report <- call <- the operation's
                # callable.
                warnings.warn(ApiValidationWarning(problem.line()), stacklevel=4)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or {"http": 80, "https": 443}.get(url.scheme)


def build_client(
    spec: Spec,
    base_url: str | None = None,
    auth: httpx.Auth | Mapping[str, Any] | None = None,
    **options: Any,
) -> Client:
    """A client for `spec`; `auth` is an httpx auth or a reference such as {"type": "bearer", "token_env":
    "TOKEN"}.

    Options: secrets (a SecretStore), timeout, retry (RetryPolicy), validation ("warn", "strict",
    "off"), headers, transport (an httpx transport, e.g. for tests), on_mismatch (called with each
    `Mismatch` between a request or response and the spec, instead of a warning), web_cookies (the
    browser's cookies for the site, sent by a `web_session` auth reference).
    """
    return Client(spec, base_url, auth, **options)


def signature(operation: Operation) -> inspect.Signature:
    """Keyword-only parameters, required ones first, so `help()` shows how to call the operation."""
    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY) for name in operation.required_arguments
    ] + [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
        for name in operation.optional_arguments
    ]
    return inspect.Signature(parameters)


def _bind(operation: Operation, arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments by their Python names; the spec's own parameter names are accepted too."""
    by_spec_name = {p.name: p.argument for p in operation.parameters}
    known = set(operation.required_arguments) | set(operation.optional_arguments)
    bound: dict[str, Any] = {}
    for name, value in arguments.items():
        argument = name if name in known else by_spec_name.get(name)
        if argument is None:
            close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise ApiArgumentError(
                f"{operation.name}() got an unknown argument {name!r}.{hint} "
                f"It takes: {', '.join(_argument_list(operation)) or 'no arguments'}."
            )
        if value is not None:
            bound[argument] = value
    missing = [name for name in operation.required_arguments if name not in bound]
    if missing:
        raise ApiArgumentError(
            f"{operation.name}() is missing required argument(s): {', '.join(missing)}. "
            f"It takes: {', '.join(_argument_list(operation))}."
        )
    return bound


def _help_or_note(spec: Spec, operation: Operation) -> str:
    """The operation's help; a spec whose docs trip the renderer still gets a callable, with a plain note."""
    try:
        return operation_help(spec, operation.name)
    except Exception as exc:  # noqa: BLE001 - a docs defect must never make an operation uncallable
        return (
            f"{operation_line(operation)}\n\n(The full help could not be rendered from the spec: "
            f"{type(exc).__name__}: {exc}.)"
        )


def _argument_list(operation: Operation) -> Iterator[str]:
    yield from operation.required_arguments
    yield from (f"{name}=?" for name in operation.optional_arguments)


def _parse(response: httpx.Response) -> Any:
    """JSON as Python data, text as str, anything else as bytes; no content as None."""
    if not response.content:
        return None
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type.endswith("json"):
        try:
            return response.json()
        except ValueError:
            return response.text
    if media_type.startswith("text/") or media_type.endswith(("xml", "x-www-form-urlencoded", "javascript")):
        return response.text
    return response.content


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None

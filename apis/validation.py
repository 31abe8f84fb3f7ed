"""Requests and responses checked against the spec with openapi-core, as a list of problems.

The client already knows which operation it calls, so the checks start from that operation rather
than matching the URL against the spec's servers and paths: that works with any base URL, and skips
openapi-core's path search, which is the slow part on large specs. openapi-core has gaps (deepObject
arrays, 3.1 `format: binary`, discriminators without `mapping`), so a failure inside the library is
reported as a problem like any other, and never stops a call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from http.cookies import SimpleCookie
from typing import Any

import httpx
from jsonschema_path import SchemaPath
from openapi_core import V30RequestValidator, V30ResponseValidator, V31RequestValidator, V31ResponseValidator
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from apis.model import Operation, Spec

MAX_DETAILS = 3
# How much of a value one mismatch line shows; the record keeps the whole validator text.
SHOWN_CHARS = 60
_ABOUT_PROPERTIES = frozenset({"required", "additionalProperties", "dependentRequired", "unevaluatedProperties"})


@dataclass(frozen=True)
class Mismatch:
    """A request or response that does not match the spec: one short line for the model, the detail for the record."""

    operation: str
    direction: str  # "request" or "response"
    field: str  # where in it, e.g. "body.labels[0]" or "query parameter state"; "" when the whole message
    expected: str  # what the spec says
    actual: str  # what was sent or came back
    detail: str

    def line(self) -> str:
        """`get_item: response body.count: spec says type 'integer', got 'abc'`."""
        where = f" {self.field}" if self.field else ""
        if not self.expected:
            return f"{self.operation}: {self.direction}{where} does not match the spec: {self.actual}"
        return f"{self.operation}: {self.direction}{where}: spec says {self.expected}, got {self.actual}"


@dataclass
class _CheckedRequest:
    """The shape of request openapi-core reads (its `Request` protocol)."""

    method: str
    body: bytes | None
    content_type: str
    parameters: RequestParameters = field(default_factory=RequestParameters)


class SpecValidator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._is_31 = spec.openapi_version.startswith("3.1")

    @cached_property
    def _schema(self) -> SchemaPath:
        return SchemaPath.from_dict(self.spec.document)

    @cached_property
    def _request_validator(self) -> Any:
        return (V31RequestValidator if self._is_31 else V30RequestValidator)(self._schema)

    @cached_property
    def _response_validator(self) -> Any:
        return (V31ResponseValidator if self._is_31 else V30ResponseValidator)(self._schema)

    def _locate(self, operation: Operation) -> tuple[SchemaPath, SchemaPath]:
        path_item = self._schema / "paths" / operation.path
        return path_item, path_item / operation.method.lower()

    def request_problems(self, operation: Operation, request: httpx.Request, path_values: dict[str, str]) -> list[Mismatch]:
        cookie = SimpleCookie(request.headers.get("Cookie", ""))
        checked = _CheckedRequest(
            method=operation.method.lower(),
            body=request.read() or None,
            content_type=request.headers.get("Content-Type", ""),
            parameters=RequestParameters(
                query=ImmutableMultiDict(list(request.url.params.multi_items())),
                header=Headers(list(request.headers.items())),
                cookie=ImmutableMultiDict({k: m.value for k, m in cookie.items()}),
                path=path_values,
            ),
        )
        try:
            path_item, operation_node = self._locate(operation)
            validator = self._request_validator
            errors = [
                *validator._iter_parameters_errors(checked, operation_node, path_item),
                *(validator._iter_body_errors(checked, operation_node) if checked.body else []),
            ]
        except Exception as exc:  # noqa: BLE001 - a gap in openapi-core: report it, never block the call
            return _unvalidated(operation, "request", exc)
        return [found for error in errors for found in mismatches(operation, "request", error)]

    def response_problems(self, operation: Operation, response: httpx.Response) -> list[Mismatch]:
        try:
            _, operation_node = self._locate(operation)
            errors = list(
                self._response_validator._iter_errors(
                    response.status_code,
                    response.content,
                    Headers(list(response.headers.items())),
                    response.headers.get("Content-Type", ""),
                    operation_node,
                )
            )
        except Exception as exc:  # noqa: BLE001 - a gap in openapi-core: report it, never fail the call
            return _unvalidated(operation, "response", exc)
        return [found for error in errors for found in mismatches(operation, "response", error)]


def _unvalidated(operation: Operation, direction: str, exc: Exception) -> list[Mismatch]:
    text = f"could not be validated ({type(exc).__name__}: {exc})"
    return [Mismatch(operation.name, direction, "", "", _clip(text, 200), text)]


def mismatches(operation: Operation, direction: str, error: BaseException) -> list[Mismatch]:
    """One Mismatch per schema error under openapi-core's error (what was wrong, where), else one for the error."""
    detail = describe(error)
    schema_errors = _schema_errors(error)
    if not schema_errors:
        return [Mismatch(operation.name, direction, "", "", _clip(" ".join(str(error).split()), 200), detail)]
    prefix = "body" if "body" in type(error).__name__.lower() or "data" in type(error).__name__.lower() else ""
    return [_schema_mismatch(operation, direction, prefix, schema_error, detail) for schema_error in schema_errors]


def _schema_mismatch(operation: Operation, direction: str, prefix: str, error: Any, detail: str) -> Mismatch:
    field = _field(prefix, list(getattr(error, "absolute_path", ())))
    if error.validator in _ABOUT_PROPERTIES:
        # "'id' is a required property": the message names the property, the object itself says nothing.
        return Mismatch(operation.name, direction, field, "", _clip(error.message, SHOWN_CHARS * 2), detail)
    return Mismatch(
        operation.name, direction, field, _clip(f"{error.validator} {error.validator_value!r}", SHOWN_CHARS),
        _clip(repr(error.instance), SHOWN_CHARS), detail,
    )


def _schema_errors(error: BaseException) -> list[Any]:
    cause: BaseException | None = error
    while cause is not None:
        found = list(getattr(cause, "schema_errors", None) or [])
        if found:
            return found
        cause = cause.__cause__ or cause.__context__
    return []


def _field(prefix: str, path: list[Any]) -> str:
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe(error: BaseException) -> str:
    """openapi-core's error with the schema errors underneath it, which say what was wrong."""
    details = []
    cause: BaseException | None = error
    while cause is not None and not details:
        details = [getattr(e, "message", str(e)) for e in getattr(cause, "schema_errors", [])]
        cause = cause.__cause__ or cause.__context__
    text = str(error)
    if details:
        text += ": " + "; ".join(details[:MAX_DETAILS]) + (" ..." if len(details) > MAX_DETAILS else "")
    return text

"""Requests and responses checked against the spec, as Mismatches (one short line each, and the detail).

The client knows which operation it calls and holds the caller's values before they are encoded, so
a request is checked value by value: each argument against its parameter's schema and the body
against the body's. A response is checked by its status and, for JSON, its parsed body. The schemas
are compiled once per operation with openapi-schema-validator (the OpenAPI dialects of JSON Schema:
`nullable`, `readOnly`/`writeOnly`, 3.1's full JSON Schema), with `$ref`s resolved in the document,
so a check costs tens of microseconds. A check that cannot run is reported, and never stops a call.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

# jsonschema checks the `iri` formats with rfc3987-syntax when it is installed (JupyterLab's jupyter-events
# brings it), and that module compiles a grammar on import: 1.5 s added to every command. Specs seldom use
# `iri`; where it is installed but not yet imported, jsonschema is told it is absent, so `iri` goes unchecked.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, OAS31Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4, DRAFT202012

from apis.docs import response_schema
from apis.model import BODY_ARGUMENT, Operation, Parameter, Spec
from apis.shapes import schema_types
from sandbox.text import clip

# How much of a value one mismatch line shows; the record keeps the whole validator text.
SHOWN_CHARS = 60
_ABOUT_PROPERTIES = frozenset(
    {"required", "additionalProperties", "dependentRequired", "unevaluatedProperties"}
)
# Where the schemas of one operation are put beside the document, so their `$ref`s resolve in it.
_CHECKED = "x-hybrid-checked"
_SPEC_URI = "urn:hybrid:spec"


@dataclass(frozen=True)
class Mismatch:
    """A request or response that does not match the spec: one short line for the model, the detail for the
    record."""

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


@dataclass(frozen=True)
class _Checks:
    """One operation's compiled validators: per parameter argument, the JSON body, and per response status."""

    parameters: dict[str, tuple[Parameter, Any]]
    body: Any | None
    responses: dict[str, Any | None]


class SpecValidator:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._is_31 = spec.openapi_version.startswith("3.1")
        self._checks: dict[str, _Checks] = {}

    def request_problems(self, operation: Operation, values: Mapping[str, Any]) -> list[Mismatch]:
        """Mismatches between the caller's arguments (by argument name) and the operation's schemas."""
        try:
            checks = self._compiled(operation)
            found = []
            for argument, value in values.items():
                if argument == BODY_ARGUMENT:
                    if checks.body is not None and _is_json_like(value):
                        found += _errors(operation, "request", "body", checks.body, value)
                elif argument in checks.parameters:
                    parameter, validator = checks.parameters[argument]
                    field = f"{parameter.location} parameter {parameter.name}"
                    found += _errors(operation, "request", field, validator, _as_sent(parameter, value))
            return found
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a finding; it never blocks the call
            return [_unchecked(operation, "request", exc)]

    def response_problems(self, operation: Operation, response: httpx.Response, body: Any) -> list[Mismatch]:
        """Mismatches between a response (its status, and its parsed JSON body) and the spec."""
        try:
            checks = self._compiled(operation)
            status = str(response.status_code)
            key = next(
                (k for k in (status, f"{status[0]}XX", f"{status[0]}xx", "default") if k in checks.responses),
                None,
            )
            if key is None:
                if not checks.responses:
                    return []
                declared = ", ".join(checks.responses)
                return [
                    Mismatch(
                        operation.name,
                        "response",
                        "status",
                        f"one of {declared}",
                        status,
                        f"status {status} is not among the responses the spec declares ({declared})",
                    )
                ]
            validator = checks.responses[key]
            media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if validator is None or not media_type.endswith("json") or body is None:
                return []
            return _errors(operation, "response", "body", validator, body)
        except Exception as exc:  # noqa: BLE001 - a check that cannot run is a finding; it never fails the call
            return [_unchecked(operation, "response", exc)]

    def _compiled(self, operation: Operation) -> _Checks:
        if operation.name not in self._checks:
            self._checks[operation.name] = self._compile(operation)
        return self._checks[operation.name]

    def _compile(self, operation: Operation) -> _Checks:
        schemas: dict[str, Any] = {}
        for parameter in operation.parameters:
            if parameter.schema:
                schemas[f"parameter {parameter.argument}"] = parameter.schema
        if (
            operation.body is not None
            and operation.body.schema
            and _json_like_media(operation.body.media_types)
        ):
            schemas["body"] = operation.body.schema
        for status in operation.responses:
            schema = response_schema(self.spec.document, operation, status)
            if schema:
                schemas[f"response {status}"] = schema
        contents = {**self.spec.document, _CHECKED: schemas}
        specification = DRAFT202012 if self._is_31 else DRAFT4
        registry: Registry = Registry().with_resource(_SPEC_URI, specification.create_resource(contents))

        def compiled(key: str, *, writing: bool) -> Any:
            if key not in schemas:
                return None
            cls = OAS31Validator if self._is_31 else (OAS30WriteValidator if writing else OAS30ReadValidator)
            pointer = "/" + key.replace("~", "~0").replace("/", "~1")
            return cls(
                {"$ref": f"{_SPEC_URI}#/{_CHECKED}{pointer}"},
                registry=registry,
                format_checker=cls.FORMAT_CHECKER,
            )

        return _Checks(
            parameters={
                p.argument: (p, compiled(f"parameter {p.argument}", writing=True))
                for p in operation.parameters
                if f"parameter {p.argument}" in schemas
            },
            body=compiled("body", writing=True),
            responses={
                status: compiled(f"response {status}", writing=False) for status in operation.responses
            },
        )


def _errors(operation: Operation, direction: str, field: str, validator: Any, value: Any) -> list[Mismatch]:
    return [
        _mismatch(operation, direction, field, error)
        for error in itertools.islice(validator.iter_errors(value), 10)
    ]


def _mismatch(operation: Operation, direction: str, prefix: str, error: ValidationError) -> Mismatch:
    field = _field(prefix, list(error.absolute_path))
    detail = f"{operation.name}: {direction} {field}: {error.message}"
    if error.validator in _ABOUT_PROPERTIES:
        # "'id' is a required property": the message names the property, the object itself says nothing.
        return Mismatch(operation.name, direction, field, "", clip(error.message, SHOWN_CHARS * 2), detail)
    return Mismatch(
        operation.name,
        direction,
        field,
        clip(f"{error.validator} {error.validator_value!r}", SHOWN_CHARS),
        clip(repr(error.instance), SHOWN_CHARS),
        detail,
    )


def _unchecked(operation: Operation, direction: str, exc: Exception) -> Mismatch:
    text = f"could not be checked ({type(exc).__name__}: {exc})"
    return Mismatch(operation.name, direction, "", "", clip(text, 200), text)


def _as_sent(parameter: Parameter, value: Any) -> Any:
    """The value as the server reads it: text of a number or boolean parameter counts as that number or
    boolean."""
    if not isinstance(value, str):
        return value
    kinds = schema_types(parameter.schema)
    for kind, convert in (("integer", int), ("number", float)):
        if kind in kinds:
            try:
                return convert(value)
            except ValueError:
                return value
    if "boolean" in kinds and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _is_json_like(value: Any) -> bool:
    """Data a JSON schema can judge: not bytes, files or (filename, content) tuples."""
    if isinstance(value, Mapping):
        return all(_is_json_like(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_json_like(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def _json_like_media(media_types: list[str]) -> bool:
    essence = media_types[0].split(";")[0].strip().lower() if media_types else ""
    return essence.endswith("json") or essence in ("application/x-www-form-urlencoded", "multipart/form-data")


def _field(prefix: str, path: list[Any]) -> str:
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text

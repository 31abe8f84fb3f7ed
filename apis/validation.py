"""Requests and responses checked against the spec, as Mismatches (one short line each, and the detail).

The client knows which operation it calls and holds the caller's values before they are encoded, so
a request is checked value by value: each argument against its parameter's schema and the body
against the body's. A response is checked by its status and, for JSON, its parsed body. The schemas
are compiled once per operation, twice: by jsonschema-rs (Rust, with the document's `nullable` turned
into JSON Schema), which says quickly whether a value matches, and by openapi-schema-validator (the
OpenAPI dialects of JSON Schema), which runs only for a value that does not and says where and why.
A 100-item page is checked in about a millisecond (tests/apis/bench_validation.py). A request's
`readOnly` properties are not checked: path parameters and bodies that echo them are how real clients
call real APIs. A check that cannot run is reported, and never stops a call.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

import httpx
import jsonschema_rs

from apis.docs import response_content, response_schema
from apis.errors import html_page
from apis.model import BODY_ARGUMENT, Operation, Parameter, Spec
from apis.refs import pointer_get
from apis.shapes import schema_types
from sandbox.text import clip

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

# How much of a value one mismatch line shows; the record keeps the whole validator text.
SHOWN_CHARS = 60
# Mismatch lines shown to the model after one step; the rest are counted.
MAX_MISMATCH_LINES = 10
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


class _Check:
    """One schema's two validators: `fast` (jsonschema-rs; None if it could not compile the schema) says
    whether a value matches; `explain` (openapi-schema-validator, built on first need) lists the errors
    of one that does not."""

    def __init__(self, fast: Any | None, explain: Callable[[], Any]) -> None:
        self.fast = fast
        self._explain = explain

    @cached_property
    def explain(self) -> Any:
        return self._explain()

    def iter_errors(self, value: Any) -> Iterator[ValidationError]:
        if self.fast is not None:
            try:
                if self.fast.is_valid(value):
                    return iter(())
            except (ValueError, TypeError, OverflowError):
                pass  # a value Rust cannot take (an integer past 64 bits): the full check decides
        return cast("Iterator[ValidationError]", self.explain.iter_errors(value))


@dataclass(frozen=True)
class _Checks:
    """One operation's compiled checks: per parameter argument, the JSON body, and per response status."""

    parameters: dict[str, tuple[Parameter, _Check]]
    body: _Check | None
    responses: dict[str, _Check | None]
    # Per response status, the media types the spec declares for it.
    media_types: dict[str, list[str]]


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
            promised = checks.media_types.get(key, [])
            if response.content and promised and not media_type.endswith("json") and _all_json(promised):
                return [_not_json(operation, promised, media_type, response)]
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
        fast_root = self._fast_root(schemas)
        registries: list[Any] = []

        def registry() -> Any:
            # Built, and openapi-schema-validator imported (with jsonschema and pydantic-settings), only when
            # a value does not match and the mismatch is explained: a matching call needs none of it.
            if not registries:
                from referencing import Registry
                from referencing.jsonschema import DRAFT4, DRAFT202012

                specification = DRAFT202012 if self._is_31 else DRAFT4
                registries.append(
                    Registry().with_resource(_SPEC_URI, specification.create_resource(contents))
                )
            return registries[0]

        def compiled(key: str, *, writing: bool) -> _Check:
            pointer = "/" + key.replace("~", "~0").replace("/", "~1")
            reference = {"$ref": f"{_SPEC_URI}#/{_CHECKED}{pointer}"}

            def explain() -> Any:
                from openapi_schema_validator import OAS30ReadValidator, OAS30Validator, OAS31Validator

                # Requests are not held to readOnly/writeOnly (OAS30Validator ignores both); responses are.
                cls = OAS31Validator if self._is_31 else (OAS30Validator if writing else OAS30ReadValidator)
                return cls(reference, registry=registry(), format_checker=cls.FORMAT_CHECKER)

            return _Check(self._fast(fast_root, pointer), explain)

        return _Checks(
            parameters={
                p.argument: (p, compiled(f"parameter {p.argument}", writing=True))
                for p in operation.parameters
                if f"parameter {p.argument}" in schemas
            },
            body=compiled("body", writing=True) if "body" in schemas else None,
            responses={
                status: compiled(f"response {status}", writing=False)
                if f"response {status}" in schemas
                else None
                for status in operation.responses
            },
            media_types={
                status: list(response_content(self.spec.document, operation, status))
                for status in operation.responses
            },
        )

    def _fast_root(self, schemas: dict[str, Any]) -> dict[str, Any]:
        """What jsonschema-rs compiles for one operation: its schemas and only the parts of the document
        they reach through `$ref`s (compiling all of GitHub's would take seconds), with 3.0's `nullable`
        as an anyOf with null."""
        root = {**_reachable(self.spec.document, schemas), _CHECKED: schemas}
        return root if self._is_31 else _with_null_types(root)

    def _fast(self, root: dict[str, Any], pointer: str) -> Any | None:
        cls = jsonschema_rs.Draft202012Validator if self._is_31 else jsonschema_rs.Draft4Validator
        try:
            return cls({**root, "$ref": f"#/{_CHECKED}{quote(pointer)}"}, validate_formats=True)
        except (ValueError, TypeError, OverflowError):
            return None  # a schema it cannot compile: openapi-schema-validator alone checks it


def _reachable(document: dict[str, Any], schemas: Any) -> dict[str, Any]:
    """A skeleton of `document` holding only the nodes that local `$ref`s in `schemas` lead to,
    transitively."""
    skeleton: dict[str, Any] = {}
    seen: set[str] = set()
    stack = [schemas]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        reference = node.get("$ref")
        if not (isinstance(reference, str) and reference.startswith("#/")) or reference in seen:
            continue
        seen.add(reference)
        try:
            target = pointer_get(document, reference[1:])
        except KeyError:
            continue  # an unresolvable reference: compiling fails, and the full check reports it
        tokens = [unquote(t).replace("~1", "/").replace("~0", "~") for t in reference[2:].split("/")]
        place = skeleton
        for token in tokens[:-1]:
            place = place.setdefault(token, {})
        place[tokens[-1]] = target
        stack.append(target)
    return skeleton


def _with_null_types(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema: `{anyOf: [the schema, {type: null}]}`, throughout."""
    if isinstance(node, list):
        return [_with_null_types(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _with_null_types(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") is True:
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def mismatch_section(found: Mapping[str, Sequence[Mismatch]], shown: set[str]) -> str:
    """For the model after a step: one line per mismatch, naming its site (`gitea: list_issues: ...`),
    each shown once in a run (`shown` holds those already seen), at most MAX_MISMATCH_LINES, then how
    many more. Empty when there is nothing new."""
    lines = [f"{site}: {mismatch.line()}" for site, mismatches in found.items() for mismatch in mismatches]
    new = [line for line in dict.fromkeys(lines) if line not in shown]
    shown.update(new)
    if not new:
        return ""
    listed = [f"- {line}" for line in new[:MAX_MISMATCH_LINES]]
    if len(new) > MAX_MISMATCH_LINES:
        listed.append(f"- and {len(new) - MAX_MISMATCH_LINES} more (the run record has every one)")
    return "\nDifferences from the API spec (the calls went ahead):\n" + "\n".join(listed)


def _errors(
    operation: Operation, direction: str, field: str, validator: _Check, value: Any
) -> list[Mismatch]:
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


def _all_json(media_types: list[str]) -> bool:
    return all(media.split(";")[0].strip().lower().endswith("json") for media in media_types)


def _not_json(
    operation: Operation, declared: list[str], media_type: str, response: httpx.Response
) -> Mismatch:
    """A page where JSON was promised (a login page, a proxy's error page), in one line."""
    page = html_page(response.text) if "html" in media_type or not media_type else None
    actual = (media_type or "no content type") + (f", {page}" if page else "")
    expected = " or ".join(declared)
    detail = f"{operation.name}: response is {actual}, but the spec promises {expected}"
    return Mismatch(operation.name, "response", "content type", expected, actual, detail)


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

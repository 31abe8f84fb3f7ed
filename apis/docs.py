"""Docs for the model, in three tiers sized for a prompt.

Tier 0, `group_index`: the groups (tags, else first path segments) with operation counts.
Tier 1, `operation_lines`: one call-shaped line per operation.
Tier 2, `operation_help`: everything about one operation (also each callable's `__doc__`).
`render_api_section` picks among them for a task within a token budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from apis.model import BODY_ARGUMENT, Operation, Spec
from apis.refs import resolve
from apis.search import LearnedTask, search
from apis.shapes import schema_types
from sandbox.text import CHARS_PER_TOKEN, clip, estimate_tokens

# Operations for a task, best first: `search`, or a reference ranking a benchmark compares it with.
Ranker = Callable[[Spec, str, int], list[Operation]]
SUMMARY_CHARS = 90
OPTIONAL_SHOWN = 2
SCHEMA_DEPTH = 2
MAX_PROPERTIES = 25
MAX_ENUM = 8
DESCRIPTION_CHARS = 1200
# Named schemas a request body's help shows in full at any depth: how to write a filter is in their fields.
_FILTER = re.compile(r"filter|criteria|condition", re.IGNORECASE)


def group_index(spec: Spec) -> str:
    """Tier 0: one line per group with its operation count and, for tags, their description."""
    descriptions = {
        tag.get("name"): " ".join(str(tag.get("description", "")).split())
        for tag in spec.document.get("tags") or []
        if isinstance(tag, dict)
    }
    lines = []
    for group, operations in spec.groups().items():
        line = f"{group} ({len(operations)} operation{'s' if len(operations) != 1 else ''})"
        if descriptions.get(group):
            line += f" - {clip(descriptions[group], 70)}"
        lines.append(line)
    return "\n".join(lines)


def call_shape(name: str, required: Sequence[str], optional: Sequence[str]) -> str:
    """`list_issues(owner, project, state=?, ...)`: how a callable is called, shown in one line."""
    arguments = [*required, *(f"{argument}=?" for argument in optional[:OPTIONAL_SHOWN])]
    if len(optional) > OPTIONAL_SHOWN:
        arguments.append("...")
    return f"{name}({', '.join(arguments)})"


def operation_line(operation: Operation) -> str:
    """`list_issues(owner, project, state=?, ...) GET /projects/{owner}/{project}/issues - List issues`"""
    line = (
        f"{call_shape(operation.name, operation.required_arguments, operation.shown_optional_arguments)} "
        f"{operation.method} {operation.path}"
    )
    summary = _first_sentence(operation.summary)
    if summary:
        line += f" - {summary}"
    return line + (" [deprecated]" if operation.deprecated else "")


def operation_lines(spec: Spec, operations: Iterable[Operation] | None = None) -> list[str]:
    """Tier 1: one line per operation (all of the spec's when `operations` is None)."""
    return [operation_line(op) for op in (spec.operations if operations is None else operations)]


def operation_help(spec: Spec, name: str) -> str:
    """Tier 2: signature, method and path, description, arguments, body schema, responses and auth."""
    operation = spec.operation(name)
    document = spec.document
    signature = ", ".join(
        [*operation.required_arguments, *(f"{n}=None" for n in operation.shown_optional_arguments)]
    )
    lines = [
        f"{operation.name}({signature})",
        f"{operation.method} {operation.path}  ({_effect_text(operation)})",
    ]
    if operation.alias:
        lines.append(f"Also callable as {operation.alias} (its operationId).")
    description = operation.description or operation.summary
    if description:
        lines += ["", clip(description.strip(), DESCRIPTION_CHARS)]
    if operation.deprecated:
        lines += ["", "Deprecated."]
    if operation.parameters or operation.body:
        lines += ["", "Arguments:"]
    for parameter in operation.parameters:
        if parameter.preset:
            continue  # sent for the caller with the spec's value
        kind = schema_text(document, parameter.schema, depth=1) if parameter.schema else "string"
        flags = "required" if parameter.required else "optional"
        text = f"  {parameter.argument}: {kind}, {flags}, in {parameter.location}"
        if parameter.argument != parameter.name:
            text += f" as {parameter.name!r}"
        if parameter.description:
            text += f" - {clip(' '.join(parameter.description.split()), 200)}"
        lines.append(text)
    if operation.body is not None:
        body = operation.body
        flags = "required" if body.required else "optional"
        text = f"  {BODY_ARGUMENT}: {flags}, sent as {' or '.join(body.media_types)}"
        if body.description:
            text += f" - {clip(' '.join(body.description.split()), 200)}"
        lines += [text, f"    {schema_text(document, body.schema, SCHEMA_DEPTH, filters=frozenset())}"]
    if operation.responses:
        lines += ["", "Returns:"]
        for status, summary in operation.responses.items():
            text = f"  {status}" + (f" - {clip(summary, 120)}" if summary else "")
            schema = response_schema(document, operation, status) if status.startswith("2") else None
            lines.append(text)
            if schema:
                lines.append(f"    {schema_text(document, schema, SCHEMA_DEPTH - 1)}")
    auth = _auth_text(document, operation)
    if auth:
        lines += ["", f"Auth: {auth}"]
    lines += [
        "",
        "Errors: raises ApiStatusError (status, body) on 4xx/5xx, ApiNetworkError when unreachable.",
    ]
    return "\n".join(lines)


def _effect_text(operation: Operation) -> str:
    if operation.is_graphql:
        return "reads, unless the body's document is a mutation"
    if not operation.writes and operation.method not in ("GET", "HEAD", "OPTIONS"):
        return "read-only: it only queries"
    return "changes data" if operation.writes else "read-only"


def render_api_section(
    spec: Spec,
    task: str,
    token_budget: int = 3000,
    site: str = "site",
    rank: Ranker | None = None,
    learned: Sequence[LearnedTask] = (),
) -> str:
    """The API part of a prompt for `task`: every operation when they fit, else groups + the most relevant
    (chosen by `rank`, by default `search` with what past tasks on the site called, `learned`; best first,
    then shown by group so an operation's neighbours sit beside it)."""
    header = (
        f"api.{site}: {(spec.title or 'API').rstrip('.')} ({len(spec.operations)} operations). Call "
        f"api.{site}.<operation>(argument=value, ..., body={{...}}); arguments marked =? are optional; "
        f"help(api.{site}.<operation>) shows parameters, body schema and responses."
    )
    everything = "\n".join([header, *operation_lines(spec)])
    if estimate_tokens(everything) <= token_budget:
        return everything
    index = "Groups: " + "; ".join(f"{group} ({len(ops)})" for group, ops in spec.groups().items())
    if estimate_tokens(index) > token_budget // 4:
        index = clip(index, token_budget // 4 * CHARS_PER_TOKEN)
    footer_template = (
        "{shown} of {total} operations shown, most relevant to the task first; "
        f"api.{site}.search('words') lists others."
    )
    footer = footer_template.format(shown=len(spec.operations), total=len(spec.operations))
    title = "Operations for this task:"
    budget = token_budget * CHARS_PER_TOKEN - len(header) - len(index) - len(title) - len(footer) - 4
    chosen: dict[str, list[str]] = {}
    shown = 0
    ranked = (
        rank(spec, task, len(spec.operations))
        if rank is not None
        else search(spec, task, len(spec.operations), learned)
    )
    for operation in ranked:
        line = operation_line(operation)
        if len(line) + 1 > budget:
            break
        chosen.setdefault(operation.group, []).append(line)
        shown += 1
        budget -= len(line) + 1
    footer = footer_template.format(shown=shown, total=len(spec.operations))
    lines = [line for group in chosen.values() for line in group]
    return "\n".join([header, index, title, *lines, footer])


def schema_text(
    document: dict[str, Any], schema: Any, depth: int = SCHEMA_DEPTH, *, filters: frozenset[str] | None = None
) -> str:
    """A compact type such as `{title: string, labels?: [integer], state?: "open"|"closed"}`.

    With `filters` (the filter schemas already being shown, for a request body), a named filter schema
    (`FlowRunFilter`, `SearchCriteria`) is shown whatever the depth, once along each path: a name alone
    does not say how to write a filter."""
    name = _ref_name(schema)
    schema = resolve(document, schema)
    if not isinstance(schema, dict) or not schema:
        return name or "any"
    expandable = filters is not None and name is not None and name not in filters and _FILTER.search(name)
    if depth <= 0 and name and not expandable:
        return name
    if expandable and filters is not None and name is not None:
        filters, depth = filters | {name}, max(depth, 1)
    for combinator in ("oneOf", "anyOf"):
        if isinstance(schema.get(combinator), list):
            parts = [
                schema_text(document, s, depth - 1 if _ref_name(s) else depth, filters=filters)
                for s in schema[combinator][:4]
            ]
            return " | ".join(parts) + (" | ..." if len(schema[combinator]) > 4 else "")
    if isinstance(schema.get("allOf"), list):
        schema = _merge_all_of(document, schema)
    if "enum" in schema and isinstance(schema["enum"], list):
        values = [json.dumps(v) for v in schema["enum"][:MAX_ENUM]]
        return "|".join(values) + ("|..." if len(schema["enum"]) > MAX_ENUM else "")
    kinds = schema_types(schema)
    nullable = schema.get("nullable") is True or "null" in kinds
    kinds = [k for k in kinds if k != "null"]
    kind = (
        kinds[0]
        if kinds
        else ("object" if "properties" in schema else "array" if "items" in schema else None)
    )
    if kind == "object" or (kind is None and "additionalProperties" in schema):
        text = _object_text(document, schema, depth, name, filters)
    elif kind == "array":
        items = schema_text(document, schema.get("items"), depth - 1, filters=filters)
        # In a filter, `any_: ["SCHEDULED"|...]` says what to write where `[...]` would not.
        text = f"[{items}]" if depth > 0 or filters is not None else "[...]"
    elif kind:
        text = kind + (f"({schema['format']})" if isinstance(schema.get("format"), str) else "")
    else:
        text = name or "any"
    return text + ("|null" if nullable else "")


def _object_text(
    document: dict[str, Any],
    schema: dict[str, Any],
    depth: int,
    name: str | None,
    filters: frozenset[str] | None,
) -> str:
    declared = schema.get("properties")
    properties: dict[str, Any] = declared if isinstance(declared, dict) else {}
    if depth <= 0:
        return name or ("{...}" if properties else "object")
    required = set(_names(schema.get("required")))
    fields = [
        f"{key}{'' if key in required else '?'}: {schema_text(document, value, depth - 1, filters=filters)}"
        for key, value in list(properties.items())[:MAX_PROPERTIES]
    ]
    if len(properties) > MAX_PROPERTIES:
        fields.append(f"... {len(properties) - MAX_PROPERTIES} more")
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        fields.append(f"[key: string]: {schema_text(document, extra, depth - 1, filters=filters)}")
    if not fields:
        return "object"
    return "{" + ", ".join(fields) + "}"


def _merge_all_of(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    properties = dict(_mapping(merged.get("properties")))
    required = _names(merged.get("required"))
    for part in schema["allOf"]:
        part = resolve(document, part)
        if isinstance(part, dict) and isinstance(part.get("allOf"), list):
            part = _merge_all_of(document, part)
        if isinstance(part, dict):
            properties.update(_mapping(part.get("properties")))
            required += _names(part.get("required"))
            merged.setdefault("type", part.get("type"))
    if properties:
        merged["properties"] = properties
        merged["type"] = merged.get("type") or "object"
    merged["required"] = required
    return merged


def response_schema(document: dict[str, Any], operation: Operation, status: str) -> Any:
    """The schema of the operation's response for `status` (its JSON content first), or None."""
    content = response_content(document, operation, status)
    if not content:
        return None
    json_like = [m for m in content if m.split(";")[0].endswith("json")]
    chosen = content[json_like[0] if json_like else next(iter(content))]
    return chosen.get("schema") if isinstance(chosen, dict) else None


def response_content(document: dict[str, Any], operation: Operation, status: str) -> dict[str, Any]:
    """The `content` of the operation's response for `status`, by media type (empty when it has none)."""
    node = resolve(document, document.get("paths", {}).get(operation.path))
    raw = _mapping(_mapping(node).get(operation.method.lower()))
    response = resolve(document, _mapping(raw.get("responses")).get(status))
    return _mapping(response.get("content") if isinstance(response, dict) else None)


def _auth_text(document: dict[str, Any], operation: Operation) -> str:
    if not operation.security:
        return "none" if operation.security == [] else ""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    options = []
    for requirement in operation.security:
        if not requirement:
            options.append("none")
            continue
        options.append(
            " + ".join(_scheme_text(name, resolve(document, schemes.get(name, {}))) for name in requirement)
        )
    return " or ".join(dict.fromkeys(options))


def _scheme_text(name: str, scheme: dict[str, Any]) -> str:
    kind = scheme.get("type")
    if kind == "http":
        return f"{name} (http {scheme.get('scheme', '')})"
    if kind == "apiKey":
        return f"{name} (api key in {scheme.get('in')} {scheme.get('name')!r})"
    return f"{name} ({kind})" if kind else name


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _names(value: Any) -> list[str]:
    """A schema's `required` list; the boolean some specs put there instead names no property."""
    return [name for name in value if isinstance(name, str)] if isinstance(value, list) else []


def _ref_name(schema: Any) -> str | None:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return None


def _first_sentence(text: str) -> str:
    sentence = text.split(". ")[0].rstrip(".")
    return clip(sentence, SUMMARY_CHARS)

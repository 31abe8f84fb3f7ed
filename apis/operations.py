"""Operations out of an OpenAPI 3.x document: names, arguments, bodies, and the defects on the way."""

from __future__ import annotations

import re
from typing import Any

from apis.model import BODY_ARGUMENT, EFFECTS, Operation, Parameter, RequestBody, SpecProblem
from apis.naming import operation_name, snake_case, unique
from apis.refs import resolve
from apis.shapes import flag, plain_text

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PARAMETER_LOCATIONS = ("path", "query", "header", "cookie")
# OpenAPI says header parameters with these names are ignored: the client sets them itself.
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_TEMPLATE_VARIABLE = re.compile(r"{([^}/]+)}")
_FORMAT_SUFFIX = re.compile(r"\.?\{format\}/?$")
_VERSION_SEGMENT = re.compile(r"^v?\d+(\.\d+)*$|^api$", re.IGNORECASE)
# Body media types in order of preference when an operation accepts several.
_PREFERRED_MEDIA = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


def where(*parts: str | int) -> str:
    """The JSON pointer of a node, such as `#/paths/~1pets/get/parameters/0` (RFC 6901 escapes)."""
    return "#" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def extract_operations(document: dict[str, Any], problems: list[SpecProblem]) -> list[Operation]:
    paths = document.get("paths") or {}
    taken: set[str] = set()
    first_user: dict[str, str] = {}
    operations = []
    for path, item in paths.items():
        twin = format_twin_of(path, paths)
        if twin is not None:
            problems.append(
                SpecProblem(where("paths", path), f"the same as {twin} with a format suffix; left out")
            )
            continue
        item = resolve(document, item)
        if not isinstance(item, dict):
            problems.append(SpecProblem(where("paths", path), "path item is not an object; skipped"))
            continue
        for method in HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, dict):
                continue
            location = where("paths", path, method)
            preferred = operation_name(raw.get("operationId"), method, path)
            if not raw.get("operationId"):
                problems.append(
                    SpecProblem(location, f"no operationId; named {preferred} from method and path")
                )
            name = unique(preferred, taken)
            if name != preferred:
                problems.append(
                    SpecProblem(
                        location, f"name {preferred} is already used by {first_user[preferred]}; named {name}"
                    )
                )
            first_user.setdefault(preferred, f"{method.upper()} {path}")
            operations.append(_operation(document, name, method, path, item, raw, location, problems))
    _shorten_generated_names(operations)
    return operations


def _shorten_generated_names(operations: list[Operation]) -> None:
    """FastAPI's generated ids repeat the route: `read_flow_runs_flow_runs_filter_post` is the function
    `read_flow_runs` plus the path and the method. Such an operation is named by the function when that
    name is free, and keeps the generated one as an alias (callable too)."""
    taken = {op.name for op in operations}
    for operation in operations:
        suffix = "_" + snake_case(f"{operation.path} {operation.method}")
        short = operation.name.removesuffix(suffix)
        if short != operation.name and short and short not in taken:
            taken.add(short)
            operation.alias, operation.name = operation.name, short


def format_twin_of(path: str, paths: dict[str, Any]) -> str | None:
    """The path that `path` repeats with a format suffix (Django REST framework's `/items{format}` or
    `/items.{format}` beside `/items`), or None: such twins would double every list of operations."""
    match = _FORMAT_SUFFIX.search(path)
    if match is None:
        return None
    base = path[: match.start()]
    for candidate in (base, base + "/", base.rstrip("/")):
        if candidate and candidate != path and candidate in paths:
            return candidate
    return None


def _operation(
    document: dict[str, Any],
    name: str,
    method: str,
    path: str,
    item: dict[str, Any],
    raw: dict[str, Any],
    location: str,
    problems: list[SpecProblem],
) -> Operation:
    tags = [t for t in raw.get("tags") or [] if isinstance(t, str)]
    servers = raw.get("servers") or item.get("servers") or []
    security = raw.get("security", document.get("security"))
    return Operation(
        name=name,
        method=method.upper(),
        path=path,
        operation_id=raw.get("operationId"),
        summary=_one_line(plain_text(raw.get("summary") or raw.get("description"))),
        description=plain_text(raw.get("description")),
        tags=tags,
        group=tags[0] if tags else _path_group(path),
        parameters=_parameters(document, path, item, raw, location, problems),
        body=_request_body(document, raw.get("requestBody"), location, problems),
        responses={
            str(status): _one_line(plain_text(resolve(document, response).get("description")))
            for status, response in (raw.get("responses") or {}).items()
            if isinstance(resolve(document, response), dict)
        },
        security=[list(requirement) for requirement in security] if isinstance(security, list) else None,
        servers=[server_url(s) for s in servers if isinstance(s, dict) and "url" in s],
        deprecated=flag(raw.get("deprecated")),
        effect=_marked_effect(raw),
    )


def _marked_effect(raw: dict[str, Any]) -> str | None:
    """What the spec says the operation does, by the extensions specs use for it."""
    if flag(raw.get("x-read-only")) or flag(raw.get("x-readonly")):
        return "read"
    effect = raw.get("x-effect")
    return effect if effect in EFFECTS else None


def _parameters(
    document: dict[str, Any],
    path: str,
    item: dict[str, Any],
    raw: dict[str, Any],
    location: str,
    problems: list[SpecProblem],
) -> list[Parameter]:
    declared: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for origin, entries in (("path item", item.get("parameters")), ("operation", raw.get("parameters"))):
        for index, entry in enumerate(entries or []):
            here = (
                f"{location}/parameters/{index}"
                if origin == "operation"
                else where("paths", path, "parameters", index)
            )
            parameter = resolve(document, entry)
            if (
                not isinstance(parameter, dict)
                or not parameter.get("name")
                or parameter.get("in") not in PARAMETER_LOCATIONS
            ):
                problems.append(SpecProblem(here, "parameter without a usable name and location; skipped"))
                continue
            # Operation-level parameters override path-level ones with the same name and location.
            declared[(parameter["name"], parameter["in"])] = (parameter, here)

    template_variables = _TEMPLATE_VARIABLE.findall(path)
    for variable in template_variables:
        if (variable, "path") not in declared:
            problems.append(
                SpecProblem(location, f"path variable {{{variable}}} is not declared; taken as a string")
            )
            declared[(variable, "path")] = ({"name": variable, "in": "path", "required": True}, location)

    arguments_taken = {BODY_ARGUMENT}
    parameters = []
    for (name, where_in), (parameter, here) in declared.items():
        if where_in == "header" and name.lower() in IGNORED_HEADERS:
            continue
        if where_in == "path" and name not in template_variables:
            problems.append(SpecProblem(here, f"path parameter {name!r} does not appear in {path}; ignored"))
            continue
        preferred = snake_case(name)
        argument = unique(
            preferred if preferred not in arguments_taken else f"{preferred}_{where_in}", arguments_taken
        )
        schema = resolve(document, parameter.get("schema")) or _schema_from_content(document, parameter)
        parameters.append(
            Parameter(
                name=name,
                location=where_in,
                argument=argument,
                required=flag(parameter.get("required")) or where_in == "path",
                schema=schema if isinstance(schema, dict) else {},
                description=plain_text(parameter.get("description")),
                style=parameter.get("style"),
                explode=parameter.get("explode"),
                deprecated=flag(parameter.get("deprecated")),
            )
        )
    # Required arguments first, each group in spec order: that is how a call reads best.
    return sorted(parameters, key=lambda p: not p.required)


def _schema_from_content(document: dict[str, Any], parameter: dict[str, Any]) -> dict[str, Any]:
    content = parameter.get("content")
    if isinstance(content, dict) and content:
        return resolve(document, next(iter(content.values())).get("schema")) or {}
    return {}


def _request_body(
    document: dict[str, Any], raw: Any, location: str, problems: list[SpecProblem]
) -> RequestBody | None:
    if raw is None:
        return None
    body = resolve(document, raw)
    content = body.get("content") if isinstance(body, dict) else None
    if not isinstance(content, dict) or not content:
        problems.append(
            SpecProblem(f"{location}/requestBody", "request body without content types; sent as JSON")
        )
        return RequestBody(media_types=["application/json"], schema={}, required=flag(body.get("required")))
    media_types = sorted(content, key=media_preference)
    chosen = content[media_types[0]] if isinstance(content[media_types[0]], dict) else {}
    return RequestBody(
        media_types=media_types,
        schema=chosen.get("schema") or {},
        required=flag(body.get("required")),
        description=plain_text(body.get("description")),
    )


def media_preference(media_type: str) -> int:
    essence = media_type.split(";")[0].strip().lower()
    if essence in _PREFERRED_MEDIA:
        return _PREFERRED_MEDIA.index(essence)
    if essence.endswith("+json"):
        return 0
    return len(_PREFERRED_MEDIA)


def server_url(server: dict[str, Any]) -> str:
    """A server URL with its `{variables}` replaced by their defaults."""
    url = str(server["url"])
    for variable, spec in (server.get("variables") or {}).items():
        if isinstance(spec, dict) and "default" in spec:
            url = url.replace(f"{{{variable}}}", str(spec["default"]))
    return url


def _path_group(path: str) -> str:
    for segment in path.split("/"):
        if segment and not segment.startswith("{") and not _VERSION_SEGMENT.match(segment):
            return segment
    return "root"


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())

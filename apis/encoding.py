"""Python values -> HTTP: parameter serialisation by OpenAPI style, and request bodies by media type."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from apis.errors import ApiArgumentError
from apis.model import Parameter, RequestBody

DEFAULT_STYLES = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|"}


def scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def path_segment(parameter: Parameter, value: Any) -> str:
    """The text that replaces `{name}` in the path, percent-encoded."""
    style = parameter.style or "simple"
    explode = bool(parameter.explode)
    if isinstance(value, Mapping):
        pairs = [(scalar(k), scalar(v)) for k, v in value.items()]
        items = [f"{k}={v}" for k, v in pairs] if explode else [x for pair in pairs for x in pair]
    elif isinstance(value, (list, tuple)):
        items = [scalar(v) for v in value]
    else:
        items = [scalar(value)]
    encoded = [quote(item, safe="=") for item in items]
    if style == "label":
        return "." + ("." if explode else ",").join(encoded)
    if style == "matrix":
        if explode and isinstance(value, (list, tuple)):
            return "".join(f";{parameter.name}={item}" for item in encoded)
        return f";{parameter.name}=" + ",".join(encoded)
    return ",".join(encoded)


def query_pairs(parameter: Parameter, value: Any) -> list[tuple[str, str]]:
    """The (name, value) pairs a query parameter becomes."""
    style = parameter.style or "form"
    explode = parameter.explode if parameter.explode is not None else style == "form"
    name = parameter.name
    if isinstance(value, Mapping):
        if style == "deepObject":
            return [(f"{name}[{k}]", scalar(v)) for k, v in value.items()]
        if explode:
            return [(str(k), scalar(v)) for k, v in value.items()]
        return [(name, ",".join(f"{k},{scalar(v)}" for k, v in value.items()))]
    if isinstance(value, (list, tuple)):
        if explode:
            return [(name, scalar(v)) for v in value]
        return [(name, _DELIMITERS.get(style, ",").join(scalar(v) for v in value))]
    return [(name, scalar(value))]


def header_value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(scalar(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k},{scalar(v)}" for k, v in value.items())
    return scalar(value)


def _is_file(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, io.IOBase)) or (
        isinstance(value, tuple) and len(value) in (2, 3)
    )


def body_arguments(operation_name: str, body_spec: RequestBody, body: Any) -> dict[str, Any]:
    """httpx keyword arguments (`content`, `data`, `files`, `headers`) that send `body` as the spec asks.

    JSON is preferred when offered. A dict with file values (bytes, open files, or
    `(filename, content[, content_type])` tuples) goes as multipart when the operation takes it.
    """
    media_type = _concrete(_choose_media_type(body_spec.media_types, body), body)
    essence = media_type.split(";")[0].strip().lower()
    if essence == "multipart/form-data":
        if not isinstance(body, Mapping):
            raise ApiArgumentError(
                f"{operation_name}: body must be a dict of form fields and files for {media_type}."
            )
        files = []
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                # httpx sends multipart only when there are files; (None, text) is a plain field.
                files.append((str(key), item if _is_file(item) else (None, scalar(item))))
        return {"files": files}
    if essence == "application/x-www-form-urlencoded":
        if not isinstance(body, Mapping):
            raise ApiArgumentError(f"{operation_name}: body must be a dict of form fields for {media_type}.")
        fields = {
            str(k): [scalar(v) for v in value] if isinstance(value, list) else scalar(value)
            for k, value in body.items()
        }
        return {"data": fields}
    if essence.endswith("json") and not isinstance(body, (bytes, bytearray)):
        return {"content": json.dumps(body).encode(), "headers": {"Content-Type": media_type}}
    if isinstance(body, str):
        return {"content": body.encode(), "headers": {"Content-Type": media_type}}
    if isinstance(body, (bytes, bytearray, io.IOBase)):
        content = body.read() if isinstance(body, io.IOBase) else bytes(body)
        return {"content": content, "headers": {"Content-Type": media_type}}
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": media_type}}


def _choose_media_type(media_types: list[str], body: Any) -> str:
    essences = [m.split(";")[0].strip().lower() for m in media_types]
    has_files = isinstance(body, Mapping) and any(
        _is_file(v) or (isinstance(v, list) and any(_is_file(i) for i in v)) for v in body.values()
    )
    if has_files and "multipart/form-data" in essences:
        return media_types[essences.index("multipart/form-data")]
    if isinstance(body, (bytes, bytearray, io.IOBase, str)):
        raw = [m for m, e in zip(media_types, essences) if not e.endswith("json") and "form" not in e]
        if raw:
            return raw[0]
    # Operations list media types in preference order (JSON, form, multipart, the rest).
    return media_types[0]


def _concrete(media_type: str, body: Any) -> str:
    """A wildcard such as `*/*` or `application/*` replaced by what the body naturally is."""
    if "*" not in media_type:
        return media_type
    if isinstance(body, (bytes, bytearray, io.IOBase)):
        return "application/octet-stream"
    return "text/plain" if isinstance(body, str) else "application/json"

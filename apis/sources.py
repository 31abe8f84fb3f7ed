"""Reading a spec document (and the documents its `$ref`s point to) from a file or a URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
import yaml

from apis.errors import SpecError

FETCH_TIMEOUT_SECONDS = 30.0


class _SpecLoader(yaml.CSafeLoader):
    """Safe YAML that yields JSON-compatible data: string keys, and dates left as strings."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
        return {str(key): value for key, value in super().construct_mapping(node, deep).items()}


def is_url(source: str | Path) -> bool:
    return isinstance(source, str) and urlsplit(source).scheme in ("http", "https")


def read_bytes(source: str | Path) -> bytes:
    """The raw document at `source`, a file path or an http(s) URL."""
    if is_url(source):
        try:
            response = httpx.get(str(source), timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SpecError(f"{source}: could not fetch the spec ({exc}).") from exc
        return response.content
    path = Path(source).expanduser()
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror}).") from exc


def parse_document(raw: bytes, origin: str) -> dict[str, Any]:
    """JSON or YAML text as a mapping; a parse error names the line and column in `origin`."""
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"{origin}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}).") from exc
    else:
        try:
            document = yaml.load(text, Loader=_SpecLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or exc
            raise SpecError(f"{origin}: {where}invalid YAML ({problem}).") from exc
    if not isinstance(document, dict):
        raise SpecError(f"{origin}: the document is a {type(document).__name__}, not an OpenAPI object.")
    return document


def resolve_location(reference: str, base: str) -> str:
    """Where a relative `$ref` document lives, relative to the document that holds the `$ref`."""
    if is_url(base) or is_url(reference):
        return urljoin(base, reference)
    return str((Path(base).parent / reference).resolve())

"""`load_spec`: any OpenAPI 3.0/3.1 or Swagger 2.0 document, from a file or URL, cached by content hash."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

# openapi-spec-validator validates with jsonschema-rs whenever it is installed (apis.validation uses it), and
# that backend's errors carry no context for best_match or paths for `_pointer_of`: strict checks keep to
# jsonschema, whose findings say where and why, unless the user's environment picks a backend. (The
# validators themselves are imported by `strict_problems`, the only code that needs them: loading a spec
# from the cache, as every run does, imports neither them nor jsonschema.)
os.environ.setdefault("OPENAPI_SPEC_VALIDATOR_SCHEMA_VALIDATOR_BACKEND", "jsonschema")

import orjson
import platformdirs

from apis import swagger2
from apis.errors import SpecError
from apis.model import Spec, SpecProblem
from apis.operations import extract_operations, server_url, where
from apis.records import is_url
from apis.refs import ExternalRefs, break_reference_cycles, has_external_refs
from apis.sources import parse_document, read_bytes
from sandbox.text import clip

# Bump when the processed form changes, so stale cache entries are ignored.
CACHE_FORMAT = 5
# Bumped when strict checking changes what it finds (2: Swagger 2.0's legal `type: file` is no problem).
CHECK_FORMAT = 2
MAX_STRICT_PROBLEMS = 25
# Which content hash each source was last processed to, so the previous version's entries can go.
ORIGINS_FILE = "origins.json"


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("hybrid-agent") / "specs"


def load_spec(
    source: str | Path,
    cache_dir: str | Path | None = None,
    *,
    refresh: bool = False,
    assume_openapi: str | None = None,
) -> Spec:
    """Load, normalise and index an OpenAPI spec from a file path or an http(s) URL.

    Defects are collected in `Spec.warnings`; SpecError is raised only when nothing usable remains.
    The processed result is cached in `cache_dir` by a hash of the document's bytes (and of the
    other documents its `$ref`s name), so loading the same content again skips parsing, conversion
    and reference handling. Strict validation against the OpenAPI schema is slow on large specs and
    is not part of loading: `check_spec` runs it on demand, once per content.

    A URL is fetched once and kept in the cache; `refresh=True` asks the server whether it changed
    (a conditional request), for it and for the documents its `$ref`s name.

    `assume_openapi="3.0.0"` loads a document that is OpenAPI 3 in shape but declares no version (Beyond
    Browsing's Magento documents: no `openapi` field, a `server_url` instead of `servers`): see
    `assume_openapi_version`; the spec's warnings say what was assumed.
    """
    directory = Path(cache_dir or default_cache_dir())

    def read(location: str | Path) -> bytes:
        return read_bytes(location, directory / "urls", refresh=refresh)

    origin = _origin(source)
    raw = read(source)
    assumed = f"\nassume openapi {assume_openapi}".encode() if assume_openapi else b""
    cache = _Cache(directory, hashlib.sha256(raw + assumed).hexdigest(), assume_openapi)
    cached = cache.read_spec(origin)
    if cached is not None and _unchanged(cached.dependencies, read):
        return cached
    with _depth_guard(origin):
        spec = _process(raw, origin, cache.content_hash, read, assume_openapi)
        cache.write(spec)
    cache.forget_older_versions(origin)
    return spec


def check_spec(source: str | Path, cache_dir: str | Path | None = None) -> list[SpecProblem]:
    """The problems openapi-spec-validator finds in the document, each at its JSON pointer with its root
    cause, grouped and deduplicated; computed once per content and cached beside the processed spec."""
    directory = Path(cache_dir or default_cache_dir())
    raw = read_bytes(source, directory / "urls")
    cache = _Cache(directory, hashlib.sha256(raw).hexdigest())
    known = cache.read_check()
    if known is not None:
        return known
    with _depth_guard(_origin(source)):
        document = parse_document(raw, _origin(source))
        declared = document.get("openapi") or document.get("swagger")
        problems = strict_problems(document, str(declared))
    cache.write_check(problems)
    return problems


@contextmanager
def _depth_guard(origin: str) -> Iterator[None]:
    """A document nested deeper than Python's recursion limit (thousands of levels: no real spec, an
    attack or a broken generator) is refused in one line instead of a RecursionError's traceback."""
    try:
        yield
    except RecursionError:
        raise SpecError(
            f"{origin}: the document is nested deeper than {sys.getrecursionlimit()} levels; such a "
            "document is refused (no real spec nests that deep)."
        ) from None


def _origin(source: str | Path) -> str:
    return str(source) if is_url(source) else str(Path(source).expanduser().resolve())


def _unchanged(dependencies: dict[str, str], read: Callable[[str], bytes]) -> bool:
    """Whether the other documents a spec's `$ref`s named still have the bytes they had."""
    for location, digest in dependencies.items():
        try:
            if hashlib.sha256(read(location)).hexdigest() != digest:
                return False
        except SpecError:
            return False
    return True


def assume_openapi_version(
    document: dict[str, Any], version: str
) -> tuple[dict[str, Any], list[SpecProblem]]:
    """A document with no `openapi`/`swagger` field taken as OpenAPI `version`, its `server_url` (when it
    has no `servers`) as its one server; and the warnings that say so. Other documents are returned as
    they are."""
    if "openapi" in document or "swagger" in document:
        return document, []
    assumed = {"openapi": version, **document}
    notes = [SpecProblem("#/openapi", f"no openapi field: assumed OpenAPI {version}, as asked")]
    if "servers" not in document and isinstance(document.get("server_url"), str):
        assumed["servers"] = [{"url": assumed.pop("server_url")}]
        notes.append(SpecProblem("#/server_url", "taken as the one entry of servers"))
    return assumed, notes


def _process(
    raw: bytes,
    origin: str,
    content_hash: str,
    read: Callable[[str], bytes] = read_bytes,
    assume_openapi: str | None = None,
) -> Spec:
    document = parse_document(raw, origin)
    problems: list[SpecProblem] = []
    if assume_openapi is not None:
        document, problems = assume_openapi_version(document, assume_openapi)
    declared = document.get("openapi") or document.get("swagger")
    if not isinstance(declared, str) or not re.match(r"^(2\.0|3\.[01])(\.\d+)?", declared):
        raise SpecError(
            f'{origin}: neither an `openapi: 3.0/3.1` nor a `swagger: "2.0"` field at the top '
            f"(found {declared!r}); only OpenAPI 3.0, 3.1 and Swagger 2.0 documents are supported "
            "(a document "
            'OpenAPI 3 in shape that declares no version loads with assume_openapi="3.0.0").'
        )
    converted_from = None
    if declared.startswith("2"):
        document, converted_from = swagger2.convert(document), f"swagger {declared}"
    dependencies: dict[str, str] = {}
    if has_external_refs(document):
        ref_problems: list[tuple[str, str]] = []
        external = ExternalRefs(origin, ref_problems, read)
        document = external.inline(document)
        dependencies = external.dependencies
        problems.extend(SpecProblem(w, m) for w, m in ref_problems)
    problems.extend(SpecProblem(w, m) for w, m in break_reference_cycles(document))
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SpecError(f"{origin}: `paths` is missing or empty, so there is no operation to call.")
    operations = extract_operations(document, problems)
    if not operations:
        raise SpecError(f"{origin}: `paths` holds no operation (no get/post/put/patch/delete... entries).")
    info: dict[str, Any] = document["info"] if isinstance(document.get("info"), dict) else {}
    return Spec(
        source=origin,
        content_hash=content_hash,
        title=str(info.get("title") or ""),
        api_version=str(info.get("version") or ""),
        openapi_version=str(document["openapi"]),
        converted_from=converted_from,
        servers=_servers(document, origin),
        operations=operations,
        warnings=problems,
        load_document=lambda: document,
        dependencies=dependencies,
    )


def strict_problems(document: dict[str, Any], declared: str) -> list[SpecProblem]:
    """openapi-spec-validator's findings: each at the JSON pointer of the offending node, with the root
    cause (the most relevant error inside a oneOf/anyOf failure, not the failure's dump), deduplicated."""
    from jsonschema.exceptions import best_match
    from jsonschema_path import SchemaPath
    from openapi_spec_validator import (
        OpenAPIV2SpecValidator,
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    if declared.startswith("2"):
        validator_cls: Any = OpenAPIV2SpecValidator
        document = _swagger2_files_as_strings(document)
    elif declared.startswith("3.1"):
        validator_cls = OpenAPIV31SpecValidator
    else:
        validator_cls = OpenAPIV30SpecValidator
    try:
        errors = list(
            itertools.islice(validator_cls(SchemaPath.from_dict(document)).iter_errors(), MAX_STRICT_PROBLEMS)
        )
    except Exception as exc:  # noqa: BLE001 - the validator itself can trip over broken documents; that is a finding too
        return [SpecProblem("#", f"strict validation could not run: {type(exc).__name__}: {exc}")]
    problems: dict[SpecProblem, None] = {}
    for error in errors:
        cause = best_match(error.context) if getattr(error, "context", None) else error
        cause = cause or error
        pointer, value = _pointer_of(document, cause)
        message = str(getattr(cause, "message", cause))
        # The value is at the pointer already; said again it only makes the message long and ungroupable.
        message = "the value" + message[len(value) :] if value else message
        problems[SpecProblem(pointer, clip(" ".join(message.split()), 300))] = None
    return list(problems)


def _swagger2_files_as_strings(document: dict[str, Any]) -> dict[str, Any]:
    """A Swagger 2.0 document with `type: file` where Swagger 2.0 allows it (a formData parameter, a
    response's schema) read as a binary string, which it means: openapi-spec-validator's 2.0 schema
    refuses it there, and reported the legal value as a problem at `#/type`. Elsewhere it stays, and is
    still reported."""

    def parameters(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        return [
            {**p, "type": "string", "format": "binary"}
            if isinstance(p, dict) and p.get("in") == "formData" and p.get("type") == "file"
            else p
            for p in items
        ]

    def responses(answers: Any) -> Any:
        if not isinstance(answers, dict):
            return answers
        return {
            code: {**answer, "schema": {**answer["schema"], "type": "string", "format": "binary"}}
            if isinstance(answer, dict)
            and isinstance(answer.get("schema"), dict)
            and answer["schema"].get("type") == "file"
            else answer
            for code, answer in answers.items()
        }

    paths: dict[str, Any] = {}
    for route, item in (document.get("paths") or {}).items():
        if not isinstance(item, dict):
            paths[route] = item
            continue
        paths[route] = {
            key: (
                parameters(value)
                if key == "parameters"
                else {
                    **value,
                    "parameters": parameters(value.get("parameters")),
                    "responses": responses(value.get("responses")),
                }
                if isinstance(value, dict) and "responses" in value
                else value
            )
            for key, value in item.items()
        }
        for operation in paths[route].values():
            if isinstance(operation, dict) and operation.get("parameters") is None:
                operation.pop("parameters", None)
    shared = document.get("parameters")
    return {
        **document,
        "paths": paths,
        **(
            {"parameters": dict(zip(shared, parameters(list(shared.values())), strict=True))}
            if isinstance(shared, dict)
            else {}
        ),
        **(
            {"responses": responses(document["responses"])}
            if isinstance(document.get("responses"), dict)
            else {}
        ),
    }


def _pointer_of(document: dict[str, Any], error: Any) -> tuple[str, str]:
    """Where the error is. Errors found through a `$ref` come without a path and often without the
    offending value, whose repr then starts the message: the node is looked up by that repr (returned too)."""
    path = list(getattr(error, "absolute_path", ()))
    message = str(getattr(error, "message", ""))
    if path or not message.startswith(("{", "[")):
        return where(*path), ""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        where_, node = stack.pop()
        if (
            where_
            and node
            and message[0] == ("[" if isinstance(node, list) else "{")
            and _repr_starts(node, message)
        ):
            return where(*where_), repr(node)
        children = (
            node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        )
        stack.extend(
            reversed([(where_ + (key,), value) for key, value in children if isinstance(value, (dict, list))])
        )
    return where(*path), ""


def _repr_starts(node: Any, message: str) -> bool:
    """Whether `message` starts with repr(node), checking the first member before the whole (cheap misses)."""
    first = next(iter(node.items())) if isinstance(node, dict) else node[0]
    head = f"{first[0]!r}: {first[1]!r}" if isinstance(node, dict) else repr(first)
    return message.startswith(head, 1) and message.startswith(repr(node))


def _servers(document: dict[str, Any], origin: str) -> list[str]:
    urls = [server_url(s) for s in document.get("servers") or [] if isinstance(s, dict) and "url" in s]
    return [urljoin(origin, url) if is_url(origin) else url for url in urls]


class _Cache:
    """The cache entries of one content hash: the processed spec, its document (read on first use) and
    the strict-validation findings. Unreadable entries count as absent; unwritable ones only cost speed."""

    def __init__(self, directory: Path, content_hash: str, assume_openapi: str | None = None) -> None:
        self.directory = directory
        self.content_hash = content_hash
        self.assume_openapi = assume_openapi
        stem = directory / f"{content_hash}-{CACHE_FORMAT}"
        self.spec_file = stem.with_suffix(".spec.json")
        self.document_file = stem.with_suffix(".document.json")
        self.check_file = stem.with_suffix(f".check{CHECK_FORMAT}.json")

    def read_spec(self, origin: str) -> Spec | None:
        try:
            data = orjson.loads(self.spec_file.read_bytes())
            data["source"] = origin
            return Spec.from_dict(data, load_document=lambda: self._read_document(origin))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def _read_document(self, origin: str) -> dict[str, Any]:
        try:
            document: dict[str, Any] = orjson.loads(self.document_file.read_bytes())
            return document
        except (OSError, ValueError):
            # The entry lost its document: process the source again (it was readable a moment ago).
            return _process(
                read_bytes(origin), origin, self.content_hash, assume_openapi=self.assume_openapi
            ).document

    def write(self, spec: Spec) -> None:
        # The document first: a spec entry always has its document beside it.
        _write_atomically(self.document_file, _dumps(spec.document))
        _write_atomically(self.spec_file, _dumps(spec.to_dict()))

    def forget_older_versions(self, origin: str) -> None:
        """Removes the entries of the version of `origin` processed before this one (unless another source
        still has that content), so a spec that changes keeps one version in the cache, not all of them."""
        index_file = self.directory / ORIGINS_FILE
        try:
            index = orjson.loads(index_file.read_bytes())
        except (OSError, ValueError):
            index = {}
        previous = index.get(origin) if isinstance(index, dict) else None
        index = {**(index if isinstance(index, dict) else {}), origin: self.content_hash}
        _write_atomically(index_file, orjson.dumps(index))
        if not previous or previous == self.content_hash or previous in index.values():
            return
        for stale in self.directory.glob(f"{previous}-*"):
            stale.unlink(missing_ok=True)

    def read_check(self) -> list[SpecProblem] | None:
        try:
            return [SpecProblem(**problem) for problem in orjson.loads(self.check_file.read_bytes())]
        except (OSError, ValueError, TypeError):
            return None

    def write_check(self, problems: list[SpecProblem]) -> None:
        _write_atomically(self.check_file, orjson.dumps([asdict(problem) for problem in problems]))


def _dumps(data: Any) -> bytes:
    try:
        return orjson.dumps(data)
    except TypeError:
        # orjson refuses integers past 64 bits, which some specs use as bounds (DigitalOcean, NetBox);
        # read back, they become floats, close enough for a bound.
        return json.dumps(data, separators=(",", ":")).encode()


def _write_atomically(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, delete=False, suffix=".tmp") as handle:
            handle.write(data)
        os.replace(handle.name, path)
    except OSError:
        pass  # a cache that cannot be written only costs speed next time

"""`load_spec`: any OpenAPI 3.0/3.1 or Swagger 2.0 document, from a file or URL, cached by content hash."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import platformdirs
from jsonschema_path import SchemaPath
from openapi_spec_validator import OpenAPIV2SpecValidator, OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

from apis import swagger2
from apis.errors import SpecError
from apis.model import Spec, SpecProblem
from apis.operations import extract_operations, server_url, where
from apis.refs import ExternalRefs
from apis.sources import is_url, parse_document, read_bytes

# Bump when the processed form changes, so stale cache entries are ignored.
CACHE_FORMAT = 2
MAX_STRICT_PROBLEMS = 25
_EXTERNAL_REF = re.compile(rb"""["']?\$ref["']?\s*:\s*["']?(?!#)[^"'\s,}]""")


def default_cache_dir() -> Path:
    return platformdirs.user_cache_path("hybrid-agent") / "specs"


def load_spec(source: str | Path, cache_dir: str | Path | None = None, *, strict_check: bool = True) -> Spec:
    """Load, normalise and index an OpenAPI spec from a file path or an http(s) URL.

    Defects are collected in `Spec.warnings`; SpecError is raised only when nothing usable remains.
    The processed result is cached in `cache_dir` by a hash of the document's bytes, so loading the
    same content again skips conversion, reference handling and validation. `strict_check` runs
    openapi-spec-validator once (cold load only) and reports what it finds as warnings.
    """
    origin = str(source) if is_url(source) else str(Path(source).expanduser().resolve())
    raw = read_bytes(source)
    content_hash = hashlib.sha256(raw).hexdigest()
    multi_document = bool(_EXTERNAL_REF.search(raw))
    cache_file = Path(cache_dir or default_cache_dir()) / f"{content_hash}-{CACHE_FORMAT}.json"
    if not multi_document:
        cached = _read_cache(cache_file)
        if cached is not None:
            cached.source = origin
            return cached
    spec = _process(raw, origin, content_hash, multi_document, strict_check)
    # A spec spread over several files is not cached: its hash would not cover the other files.
    if not multi_document:
        _write_cache(cache_file, spec)
    return spec


def _process(raw: bytes, origin: str, content_hash: str, multi_document: bool, strict_check: bool) -> Spec:
    document = parse_document(raw, origin)
    problems: list[SpecProblem] = []
    declared = document.get("openapi") or document.get("swagger")
    if not isinstance(declared, str) or not re.match(r"^(2\.0|3\.[01])(\.\d+)?", declared):
        raise SpecError(
            f"{origin}: neither an `openapi: 3.0/3.1` nor a `swagger: \"2.0\"` field at the top "
            f"(found {declared!r}); only OpenAPI 3.0, 3.1 and Swagger 2.0 documents are supported."
        )
    converted_from = None
    if strict_check:
        problems.extend(_strict_problems(document, declared))
    if declared.startswith("2"):
        document, converted_from = swagger2.convert(document), f"swagger {declared}"
    if multi_document:
        ref_problems: list[tuple[str, str]] = []
        document = ExternalRefs(origin, ref_problems).inline(document)
        problems.extend(SpecProblem(w, m) for w, m in ref_problems)
    if not isinstance(document.get("paths"), dict) or not document["paths"]:
        raise SpecError(f"{origin}: `paths` is missing or empty, so there is no operation to call.")
    operations = extract_operations(document, problems)
    if not operations:
        raise SpecError(f"{origin}: `paths` holds no operation (no get/post/put/patch/delete... entries).")
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    return Spec(
        source=origin,
        content_hash=content_hash,
        title=str(info.get("title") or ""),
        api_version=str(info.get("version") or ""),
        openapi_version=str(document["openapi"]),
        converted_from=converted_from,
        servers=_servers(document, origin),
        document=document,
        operations=operations,
        warnings=problems,
    )


def _strict_problems(document: dict[str, Any], declared: str) -> list[SpecProblem]:
    if declared.startswith("2"):
        validator_cls: Any = OpenAPIV2SpecValidator
    elif declared.startswith("3.1"):
        validator_cls = OpenAPIV31SpecValidator
    else:
        validator_cls = OpenAPIV30SpecValidator
    try:
        errors = list(itertools.islice(validator_cls(SchemaPath.from_dict(document)).iter_errors(), MAX_STRICT_PROBLEMS))
    except Exception as exc:  # noqa: BLE001 - the validator itself can trip over broken documents; that is a finding too
        return [SpecProblem(where(), f"strict validation could not run: {type(exc).__name__}: {exc}")]
    problems = []
    for error in errors:
        location = getattr(error, "json_path", None) or where()
        message = " ".join(str(getattr(error, "message", error)).split())
        problems.append(SpecProblem(location, f"strict validation: {message[:300]}"))
    return problems


def _servers(document: dict[str, Any], origin: str) -> list[str]:
    urls = [server_url(s) for s in document.get("servers") or [] if isinstance(s, dict) and "url" in s]
    return [urljoin(origin, url) if is_url(origin) else url for url in urls]


def _read_cache(cache_file: Path) -> Spec | None:
    try:
        return Spec.from_dict(json.loads(cache_file.read_bytes()))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_cache(cache_file: Path, spec: Spec) -> None:
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a concurrent reader never sees half a file.
        with tempfile.NamedTemporaryFile("w", dir=cache_file.parent, delete=False, suffix=".tmp") as handle:
            json.dump(spec.to_dict(), handle, separators=(",", ":"))
        os.replace(handle.name, cache_file)
    except OSError:
        pass  # a cache that cannot be written only costs speed next time

"""Reading a spec document (and the documents its `$ref`s point to) from a file or a URL."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

import yaml

from apis.errors import SpecError
from apis.records import is_url

if TYPE_CHECKING:
    import httpx

FETCH_TIMEOUT_SECONDS = 30.0
# How long one spec document may take to arrive in all (a 100 MB spec over a slow link takes seconds).
FETCH_DEADLINE_SECONDS = 120.0
# The largest spec read, unless HYBRID_MAX_SPEC_MB says otherwise: the biggest public specs are tens of MB.
DEFAULT_MAX_SPEC_MB = 128
MAX_SPEC_MB_VARIABLE = "HYBRID_MAX_SPEC_MB"
# A YAML document may expand through aliases to at most this many nodes, and this many times its own size:
# alias "bombs" expand a few KB into billions of nodes.
MAX_EXPANDED_NODES = 5_000_000
MAX_EXPANSION_FACTOR = 100


class _SpecLoader(yaml.CSafeLoader):
    """Safe YAML that yields JSON-compatible data: string keys, and dates left as strings."""

    # PyYAML keeps resolvers per class; its stubs declare them per instance.
    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {  # type: ignore[misc]
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        return {str(key): value for key, value in super().construct_mapping(node, deep).items()}


def max_spec_bytes() -> int:
    """The size limit for one spec document, in bytes."""
    text = os.environ.get(MAX_SPEC_MB_VARIABLE, "")
    try:
        megabytes = float(text) if text else DEFAULT_MAX_SPEC_MB
    except ValueError:
        raise SpecError(f"{MAX_SPEC_MB_VARIABLE}={text!r} is not a number of megabytes.") from None
    return int(megabytes * 1024 * 1024)


def read_bytes(source: str | Path, url_cache: Path | None = None, *, refresh: bool = False) -> bytes:
    """The raw document at `source`, a file path or an http(s) URL, refused past the size limit.

    With a `url_cache` directory, a URL is fetched once and then read from there; `refresh` asks the
    server again with a conditional request (ETag / Last-Modified), so an unchanged spec costs a 304.
    """
    if is_url(source):
        return (
            _url_bytes(str(source), url_cache, refresh)
            if url_cache is not None
            else _fetch(str(source), {})[1]
        )
    limit = max_spec_bytes()
    path = Path(source).expanduser()
    try:
        if path.stat().st_size > limit:
            _too_large(path, path.stat().st_size, limit)
        return path.read_bytes()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read the spec file ({exc.strerror}).") from exc


def _url_bytes(url: str, directory: Path, refresh: bool) -> bytes:
    stem = directory / hashlib.sha256(url.encode()).hexdigest()
    body_file, meta_file = stem.with_suffix(".body"), stem.with_suffix(".json")
    try:
        body, validators = body_file.read_bytes(), json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        body, validators = None, {}
    if body is not None and not refresh:
        return body
    conditional = {
        "If-None-Match": validators.get("etag"),
        "If-Modified-Since": validators.get("last_modified"),
    }
    status, fetched, headers = _fetch(url, {k: v for k, v in conditional.items() if v and body is not None})
    if status == 304 and body is not None:
        return body
    try:
        directory.mkdir(parents=True, exist_ok=True)
        body_file.write_bytes(fetched)
        meta_file.write_text(
            json.dumps(
                {"url": url, "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}
            ),
            encoding="utf-8",
        )
    except OSError:
        pass  # an unwritable cache only means fetching again next time
    return fetched


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes, httpx.Headers]:
    """The document at `url`, within FETCH_DEADLINE_SECONDS overall. httpx's timeouts bound each read, so
    a server that sends a byte every few seconds would hold the download for ever: it runs in a thread,
    and past the deadline its sockets are shut, which ends it at once."""
    sockets: list[socket.socket] = []
    outcome: list[tuple[int, bytes, httpx.Headers] | BaseException] = []

    def trace(event: str, info: dict[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            raw = info["return_value"].get_extra_info("socket")
            if raw is not None:
                sockets.append(raw)

    def download() -> None:
        try:
            outcome.append(_download(url, headers, trace))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            outcome.append(exc)

    worker = threading.Thread(target=download, name=f"fetch {url}", daemon=True)
    worker.start()
    worker.join(FETCH_DEADLINE_SECONDS)
    if worker.is_alive():
        for raw in sockets:
            with contextlib.suppress(OSError):
                raw.shutdown(socket.SHUT_RDWR)
        worker.join(FETCH_TIMEOUT_SECONDS)
        raise SpecError(
            f"{url}: the spec did not arrive within {FETCH_DEADLINE_SECONDS:g} s (the server is too slow or "
            "stalled); try again later, or download it and give its file."
        )
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _download(url: str, headers: dict[str, str], trace: Any) -> tuple[int, bytes, httpx.Headers]:
    import httpx  # only to fetch a spec: naming a site's source needs none of it

    limit = max_spec_bytes()
    try:
        with (
            httpx.Client(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client,
            client.stream("GET", url, headers=headers, extensions={"trace": trace}) as response,
        ):
            if response.status_code == 304:
                return 304, b"", response.headers
            response.raise_for_status()
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > limit:
                    _too_large(url, size, limit)
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise SpecError(f"{url}: could not fetch the spec ({exc}).") from exc
    return response.status_code, b"".join(chunks), response.headers


def _too_large(source: str | Path, size: int, limit: int) -> None:
    raise SpecError(
        f"{source}: the spec is larger than {limit / 1024 / 1024:g} MB (at least {size / 1024 / 1024:.1f} MB "
        f"read); set {MAX_SPEC_MB_VARIABLE} to a larger number of megabytes if you trust it."
    )


def parse_document(raw: bytes, origin: str) -> dict[str, Any]:
    """JSON or YAML text as a mapping; a parse error names the line and column in `origin`."""
    text = raw.decode("utf-8-sig", errors="replace")
    if text.lstrip().startswith(("{", "[")):
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{origin}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})."
            ) from exc
    else:
        try:
            document = _load_yaml(text, origin)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
            problem = getattr(exc, "problem", None) or exc
            raise SpecError(f"{origin}: {where}invalid YAML ({problem}).") from exc
    if not isinstance(document, dict):
        raise SpecError(f"{origin}: the document is a {type(document).__name__}, not an OpenAPI object.")
    return document


def _load_yaml(text: str, origin: str) -> Any:
    """YAML composed first, its expanded size checked, then constructed: aliases cannot blow it up."""
    loader = _SpecLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        distinct, expanded = _node_counts(node)
        if expanded > MAX_EXPANDED_NODES or expanded > MAX_EXPANSION_FACTOR * distinct + 10_000:
            raise SpecError(
                f"{origin}: the YAML expands through aliases (&anchor / *alias) from {distinct:,} to more "
                f"than {min(expanded, MAX_EXPANDED_NODES):,} nodes; such a document is refused (an alias "
                "bomb or a broken spec). Resolve the aliases or ask the publisher for a JSON version."
            )
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _node_counts(root: yaml.Node) -> tuple[int, int]:
    """(distinct nodes, nodes after expanding every alias), counting shared nodes once per use."""
    expanded: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in expanded:
            continue
        children = _children(node)
        if children_done or not children:
            expanded[id(node)] = min(
                1 + sum(expanded[id(child)] for child in children), MAX_EXPANDED_NODES + 1
            )
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in expanded)
    return len(expanded), expanded[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def resolve_location(reference: str, base: str) -> str:
    """Where a relative `$ref` document lives, relative to the document that holds the `$ref`."""
    if is_url(base) or is_url(reference):
        return urljoin(base, reference)
    return str((Path(base).parent / reference).resolve())

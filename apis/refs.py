"""`$ref` handling: local JSON pointers, and external documents inlined offline at load time."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from apis.errors import SpecError
from apis.records import is_url
from apis.sources import parse_document, read_bytes, resolve_location

MAX_REF_HOPS = 50


def pointer_get(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer such as `/components/schemas/Pet`; KeyError when absent."""
    node = document
    for token in pointer.lstrip("/").split("/") if pointer.strip("/") else []:
        token = unquote(token).replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError) as exc:
                raise KeyError(pointer) from exc
        elif isinstance(node, dict) and token in node:
            node = node[token]
        else:
            raise KeyError(pointer)
    return node


def resolve(document: dict[str, Any], node: Any) -> Any:
    """`node` with local `$ref`s followed (chains too); an unresolvable ref yields an empty dict."""
    for _ in range(MAX_REF_HOPS):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        reference = node["$ref"]
        if not reference.startswith("#"):
            return {}
        try:
            node = pointer_get(document, reference[1:])
        except KeyError:
            return {}
    return {}


def has_external_refs(document: Any) -> bool:
    """Whether any `$ref` key points outside the document (a property or a path named `$ref` does not)."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and not reference.startswith("#"):
                return True
            stack.extend(value for value in node.values() if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend(value for value in node if isinstance(value, (dict, list)))
    return False


def _escaped(key: str) -> str:
    """A key as one JSON pointer token (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")


class ExternalRefs:
    """Inlines `$ref`s to other documents so the spec is self-contained and nothing is fetched later.

    Relative file references are read from disk beside the spec. Remote documents are fetched only
    when the spec itself came from a URL (the user asked for the network); otherwise they become
    problems and the reference is replaced by an empty schema.
    """

    def __init__(
        self, origin: str, problems: list[tuple[str, str]], read: Callable[[str], bytes] = read_bytes
    ) -> None:
        self.origin = origin
        self.read = read
        self.allow_remote = is_url(origin)
        self.problems = problems
        self._documents: dict[str, dict[str, Any]] = {}
        # The other documents read, by location, with the hash of their bytes: a cached result holds only
        # while they do.
        self.dependencies: dict[str, str] = {}

    def inline(self, document: dict[str, Any]) -> dict[str, Any]:
        inlined: dict[str, Any] = self._walk(document, self.origin, document, "#", frozenset())
        return inlined

    def _walk(
        self, node: Any, base: str, base_document: dict[str, Any], where: str, active: frozenset[str]
    ) -> Any:
        if isinstance(node, list):
            return [
                self._walk(item, base, base_document, f"{where}/{i}", active) for i, item in enumerate(node)
            ]
        if not isinstance(node, dict):
            return node
        reference = node.get("$ref")
        if isinstance(reference, str) and (not reference.startswith("#") or base != self.origin):
            return self._inline_reference(reference, base, base_document, where, active)
        return {
            key: self._walk(value, base, base_document, f"{where}/{_escaped(key)}", active)
            for key, value in node.items()
        }

    def _inline_reference(
        self, reference: str, base: str, base_document: dict[str, Any], where: str, active: frozenset[str]
    ) -> Any:
        location, _, fragment = reference.partition("#")
        target_base = resolve_location(location, base) if location else base
        key = f"{target_base}#{fragment}"
        if key in active:
            self.problems.append((where, f"circular external reference {reference!r} left empty"))
            return {}
        if is_url(target_base) and not self.allow_remote:
            self.problems.append(
                (where, f"remote reference {reference!r} not fetched (spec was loaded from a file)")
            )
            return {}
        try:
            document = base_document if not location else self._document(target_base)
            target = pointer_get(document, fragment)
        except (SpecError, KeyError) as exc:
            self.problems.append((where, f"unresolvable reference {reference!r} ({exc})"))
            return {}
        return self._walk(target, target_base, document, where, active | {key})

    def _document(self, location: str) -> dict[str, Any]:
        if location not in self._documents:
            raw = self.read(location)
            self.dependencies[location] = hashlib.sha256(raw).hexdigest()
            self._documents[location] = parse_document(raw, location)
        return self._documents[location]


def break_reference_cycles(document: dict[str, Any]) -> list[tuple[str, str]]:
    """Components that are only a `$ref` leading back to themselves (A -> A, A -> B -> A) name no value.
    Each such cycle is reported once, as (where, message), and its members become empty schemas (any
    value), so nothing that follows references (docs, validators) goes round it."""
    components = document.get("components")
    if not isinstance(components, dict):
        return []
    problems: list[tuple[str, str]] = []
    reported: set[str] = set()
    for kind, entries in components.items():
        for name in list(entries) if isinstance(entries, dict) else []:
            chain: list[str] = []
            pointer, node = f"#/components/{_escaped(kind)}/{_escaped(name)}", entries[name]
            while pointer not in chain and isinstance(node, dict) and _local_ref(node):
                chain.append(pointer)
                pointer = node["$ref"]
                try:
                    node = pointer_get(document, pointer[1:])
                except KeyError:
                    break
            if pointer not in chain or pointer in reported:
                continue
            cycle = chain[chain.index(pointer) :]
            reported.update(cycle)
            names = " -> ".join(member.rsplit("/", 1)[-1] for member in [*cycle, pointer])
            message = (
                f"is only a reference to itself ({names}), a cycle that describes no value; "
                "treated as any value"
            )
            problems.append((pointer, message))
            for member in cycle:
                parent, _, key = member[1:].rpartition("/")
                pointer_get(document, parent)[unquote(key).replace("~1", "/").replace("~0", "~")] = {}
    return problems


def _local_ref(node: dict[str, Any]) -> bool:
    return isinstance(node.get("$ref"), str) and node["$ref"].startswith("#")

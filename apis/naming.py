"""Python names for operations and arguments: snake_case, valid identifiers, stable across loads."""

from __future__ import annotations

import keyword
import re

# Attributes the client object itself uses; an operation with one of these names gets a trailing "_".
CLIENT_ATTRIBUTES = frozenset(
    {"operations", "call", "search", "close", "spec", "base_url", "web_url", "host"}
)

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^0-9a-zA-Z]+")


def snake_case(text: str) -> str:
    """`listIssues`, `list-issues`, `List Issues`, `repo.getIssue` -> `list_issues`-style identifiers."""
    words = _NON_WORD.sub(" ", _CAMEL_BOUNDARY.sub(" ", text)).split()
    name = "_".join(word.lower() for word in words) or "unnamed"
    if name[0].isdigit():
        name = f"n{name}"
    if keyword.iskeyword(name):
        name = f"{name}_"
    return name


def name_from_route(method: str, path: str) -> str:
    """A name for an operation without operationId: `GET /repos/{owner}/issues` ->
    `get_repos_owner_issues`."""
    segments = [segment.strip("{}") for segment in path.split("/") if segment]
    return snake_case(" ".join([method.lower(), *segments]))


def operation_name(operation_id: str | None, method: str, path: str) -> str:
    name = snake_case(operation_id) if operation_id else name_from_route(method, path)
    return f"{name}_" if name in CLIENT_ATTRIBUTES else name


def unique(name: str, taken: set[str]) -> str:
    """`name`, else `name_2`, `name_3`... whichever is first free; records the result in `taken`."""
    candidate, counter = name, 1
    while candidate in taken:
        counter += 1
        candidate = f"{name}_{counter}"
    taken.add(candidate)
    return candidate

"""Hints added to an observation for the mistakes models make most, each saying exactly what to do:
an operation name that does not exist, HTTP done by hand instead of through `api`, a list read from its
first page only. The sandbox's own messages (a missing argument with the operation's signature, output
trimmed in the middle) already say what to do and get no hint."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import apis

HTTP_BY_HAND = re.compile(
    r"^\s*(?:import|from)\s+(requests|httpx|urllib|aiohttp|http\.client)\b", re.MULTILINE
)
NO_SUCH_ATTRIBUTE = re.compile(r"AttributeError: '(\w+)' object has no attribute '(\w+)'")
PAGE_SIZE_ARGUMENTS = ("per_page", "page_size", "limit", "size")
# Arguments that choose a page of a listing rather than the listing itself.
PAGING_ARGUMENTS = ("page", "offset", "cursor", "after", "before", "start", "skip", "page_token", "marker")


def unknown_operation(observation: str, operations: Mapping[str, Sequence[str]]) -> str | None:
    """For `api.<site>.<name>` with no such operation: the closest names, and how to search."""
    match = NO_SUCH_ATTRIBUTE.search(observation)
    named = {apis.code_name(site): site for site in operations}  # acme-deploy is api.acme_deploy in code
    if match is None or match.group(1) not in named:
        return None
    site, name = match.groups()
    close = difflib.get_close_matches(name, operations[named[site]], n=3, cutoff=0.5)
    closest = f" Did you mean {', '.join(f'api.{site}.{c}' for c in close)}?" if close else ""
    return (
        f"Hint: api.{site} has no operation {name!r}.{closest} `print(api.{site}.search('what you need'))` "
        "lists the operations for a need; the system prompt lists them all."
    )


def http_by_hand(code: str, sites: Sequence[str]) -> str | None:
    match = HTTP_BY_HAND.search(code)
    if match is None:
        return None
    example = f"api.{apis.code_name(sites[0])}.<operation>(...)" if sites else "api.<site>.<operation>(...)"
    return (
        f"Hint: call the site through {example}, not with {match.group(1)}: the kernel holds no "
        "credentials and its own requests bypass the policy and the run's record; the api client is "
        "signed in."
    )


def noting_more_pages(
    func: Callable[..., Any], site: str, operation: apis.Operation, notes: list[str]
) -> Callable[..., Any]:
    """`func`, noting in `notes` when a list it returns is one page of more: as the site's paging headers
    say (how many pages and items, what asks for the next), else when the page is full."""
    page_size = next((p for p in operation.parameters if p.argument in PAGE_SIZE_ARGUMENTS), None)
    query_arguments = {p.name: p.argument for p in operation.parameters if p.location == "query"}

    # The hint given for each listing (the same call but for its paging arguments): taken back once the
    # code reads that listing's last page, so code that reads every page is not told that more exist.
    given: dict[tuple[Any, ...], str] = {}
    paging = {*PAGING_ARGUMENTS, *(() if page_size is None else (page_size.argument,))}

    def noted(listing: tuple[Any, ...], hint: str | None) -> None:
        previous = given.pop(listing, None)
        if previous is not None and previous in notes:
            notes.remove(previous)
        if hint is not None:
            given[listing] = hint
            notes.append(hint)

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        name = f"api.{apis.code_name(site)}.{operation.name}"
        listing = (args, tuple(sorted((k, repr(v)) for k, v in kwargs.items() if k not in paging)))
        if isinstance(result, apis.Page):
            noted(listing, _more_pages(name, result, query_arguments, page_size) if result.more else None)
            return result
        if page_size is None:
            return result
        size = kwargs.get(page_size.argument) or page_size.schema.get("default")
        if isinstance(result, list) and isinstance(size, int) and size:
            full = len(result) >= size
            noted(
                listing,
                f"Hint: {name} returned a full page of {len(result)} items, so there may be more: ask "
                f"for the next pages (page=2, 3, ...) until one comes back shorter{_bigger(page_size, size)}."
                if full
                else None,
            )
        return result

    return call


def _more_pages(
    name: str, page: apis.Page, query_arguments: Mapping[str, str], page_size: apis.Parameter | None
) -> str:
    asked = ", ".join(
        f"{query_arguments.get(key, key)}={_literal(value)}" for key, value in (page.next or {}).items()
    )
    bigger = _bigger(page_size, len(page))
    return f"Hint: {name} returned {page.describe()}: more pages exist; pass {asked} for the next{bigger}."


def _bigger(page_size: apis.Parameter | None, size: int) -> str:
    largest = page_size.schema.get("maximum") if page_size is not None else None
    return (
        f"; {page_size.argument} can be up to {largest}" if page_size and largest and size < largest else ""
    )


def _literal(value: str) -> str:
    return value if value.isdigit() else repr(value)

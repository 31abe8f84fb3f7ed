"""Paged list responses: what a response says of the pages beyond it.

Sites that page their lists say so in headers, as GitHub, Gitea and GitLab do: an RFC 8288 `Link` header
(`rel="next"`, `rel="last"`) and often `X-Total-Count`. A list the client returns from such a response is
a `Page`: still a plain list, which also knows how to ask for the next page and how many items there are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

TOTAL_HEADERS = ("X-Total-Count", "X-Total")


class Page(list[Any]):
    """One page of a longer list. `next` holds the query parameters that ask for the next page (e.g.
    `{"page": "2"}`), None on the last page; `last` those of the last page when the site says; `total`
    the number of items over all pages when the site says."""

    def __init__(
        self, items: list[Any], *, next: dict[str, str] | None, last: dict[str, str] | None, total: int | None
    ) -> None:
        super().__init__(items)
        self.next = next
        self.last = last
        self.total = total

    @property
    def more(self) -> bool:
        """Whether pages after this one exist."""
        return self.next is not None

    def describe(self) -> str:
        """What this page is, in a few words: '20 items, page 1 of 8 (148 in all)'."""
        numbered = _page_number(self.next)
        position = ""
        if numbered is not None:
            name, following = numbered
            last = (self.last or {}).get(name)
            position = f", page {following - 1}" + (f" of {last}" if last and last.isdigit() else "")
        total = f" ({self.total} in all)" if self.total is not None else ""
        return f"{len(self)} items{position}{total}"


def as_page(parsed: Any, response: httpx.Response) -> Any:
    """`parsed` as a `Page` when it is a list and `response` says it is one page of several; else
    unchanged."""
    if not isinstance(parsed, list):
        return parsed
    links = response.links
    total = next(
        (int(value) for name in TOTAL_HEADERS if (value := response.headers.get(name, "").strip()).isdigit()),
        None,
    )
    if "next" not in links and "last" not in links and total is None:
        return parsed
    asked = _query(response.request.url)
    # What a site repeats in every link (say, its default per_page) does not move from page to page.
    fixed = _query((links.get("prev") or links.get("first") or {}).get("url"))
    return Page(
        parsed,
        next=_asking_for(links.get("next"), asked, fixed),
        last=_asking_for(links.get("last"), asked, fixed),
        total=total,
    )


def _query(url: str | httpx.URL | None) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(str(url)).query)) if url else {}


def _asking_for(
    link: dict[str, str] | None, asked: dict[str, str], fixed: dict[str, str]
) -> dict[str, str] | None:
    """The query parameters that ask for a linked page: those that differ from the request's and move
    between pages."""
    if link is None or "url" not in link:
        return None
    return {
        name: value
        for name, value in _query(link["url"]).items()
        if asked.get(name) != value and fixed.get(name) != value
    }


def _page_number(query: dict[str, str] | None) -> tuple[str, int] | None:
    """(parameter, number) when the next page is asked for by one numeric parameter, e.g. ("page", 2)."""
    if query is None or len(query) != 1:
        return None
    ((name, value),) = query.items()
    return (name, int(value)) if value.isdigit() else None

"""Paged list responses: a list that is one page of more says so, as the site's headers do."""

from __future__ import annotations

import httpx

from apis import Page
from apis.paging import as_page

URL = "https://tracker.example/api/issues"


def response(asked: str, items: list, **headers: str) -> tuple[list, httpx.Response]:
    return items, httpx.Response(
        200, json=items, headers=headers, request=httpx.Request("GET", f"{URL}{asked}")
    )


def link(**rels: str) -> str:
    return ", ".join(f'<{URL}?{query}>; rel="{rel}"' for rel, query in rels.items())


def test_a_first_page_says_how_many_pages_and_items_and_what_asks_for_the_next() -> None:
    page = as_page(
        *response(
            "?state=open",
            list(range(20)),
            Link=link(
                first="state=open&page=1&per_page=20",
                next="state=open&page=2&per_page=20",
                last="state=open&page=8&per_page=20",
            ),
            **{"X-Total-Count": "148"},
        )
    )
    assert isinstance(page, Page) and page == list(range(20))
    assert (page.more, page.next, page.last, page.total) == (True, {"page": "2"}, {"page": "8"}, 148)
    assert page.describe() == "20 items, page 1 of 8 (148 in all)"


def test_a_middle_page_counts_from_where_it_is() -> None:
    page = as_page(
        *response(
            "?page=3&per_page=50",
            list(range(50)),
            Link=link(prev="page=2&per_page=50", next="page=4&per_page=50", last="page=5&per_page=50"),
        )
    )
    assert (page.next, page.total) == ({"page": "4"}, None)
    assert page.describe() == "50 items, page 3 of 5"


def test_the_last_page_has_no_more() -> None:
    page = as_page(
        *response(
            "?page=8", list(range(8)), Link=link(first="page=1", prev="page=7"), **{"X-Total-Count": "148"}
        )
    )
    assert isinstance(page, Page) and not page.more
    assert page.describe() == "8 items (148 in all)"


def test_a_cursor_asks_for_the_next_page_by_its_value() -> None:
    page = as_page(*response("", ["a", "b"], Link=link(next="cursor=eyJpZCI6Mn0")))
    assert page.next == {"cursor": "eyJpZCI6Mn0"} and page.describe() == "2 items"


def test_responses_that_say_nothing_of_pages_are_left_as_they_are() -> None:
    plain = as_page(*response("", [1, 2]))
    assert type(plain) is list
    _, paged = response("", [1], Link=link(next="page=2"))
    assert type(as_page({"items": [1]}, paged)) is dict  # an object that wraps its list is the site's own way

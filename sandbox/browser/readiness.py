"""Waiting for a page to be ready after an action: loaded, and its requests finished."""

from __future__ import annotations

import time
from collections.abc import Callable

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sandbox.browser.tabs import Tab


def settle(tab: Tab, limit: float, holding: Callable[[], bool]) -> str | None:
    """Wait up to `limit` seconds for the page to load and its requests to finish; say what was still going
    on if not. While the guard is `holding` a write, its request never finishes: that is not waited for."""
    deadline = time.monotonic() + limit
    try:
        tab.page.wait_for_load_state("load", timeout=limit * 1000)
    except PlaywrightTimeout:
        return f"the page had not finished loading after {limit:g} s"
    while tab.inflight and not holding() and time.monotonic() < deadline:
        tab.page.wait_for_timeout(20)
    if tab.inflight and not holding():  # held writes are told of once the policy has decided
        pending = next(iter(tab.inflight))
        return f"{len(tab.inflight)} request(s) still pending after {limit:g} s, e.g. {pending.url}"
    return None

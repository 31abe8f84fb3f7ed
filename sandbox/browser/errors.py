"""What can go wrong in the browser, each saying what happened and what to do next.

Messages are written for the model that called `browser.*`: they never carry a Playwright stack.
"""

from __future__ import annotations

import re

from playwright.sync_api import Error as PlaywrightError

from sandbox.errors import HybridError


class BrowserError(HybridError):
    """A browser action could not be done; the message says why and how to proceed."""


class UnknownElement(BrowserError):
    """No element was ever issued with this id."""


class StaleElement(BrowserError):
    """The id belongs to a page (or element) that is gone: observe again for fresh ids."""


class ElementNotInteractable(BrowserError):
    """The element exists but is hidden, disabled, or not the kind the action needs."""


class ElementNotFound(BrowserError):
    """`find(role, name)` matched no element, or more than one."""


class WaitTimeout(BrowserError):
    """Something waited for did not happen in time; the message names what was awaited."""


class WriteRefused(BrowserError):
    """The host's policy refused a form submission or other write."""


class BrowserCrashed(BrowserError):
    """The browser process died during the action; it has been restarted."""


class LoginFailed(BrowserError):
    """Signing in with the host's configured credentials did not work."""


def playwright_reason(exc: PlaywrightError) -> str:
    """The useful part of a Playwright message, without the API name, call log or stack."""
    message = exc.message or str(exc)
    for line in message.splitlines():
        if "intercepts pointer events" in line:
            return "another element covers it (" + re.sub(r"^\s*-\s*", "", line).strip() + ")"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return re.sub(r"^[\w.]+: ", "", first).strip()

"""The browser service: Playwright driving the system's Chromium on the host, for `browser.*` in the
kernel."""

from sandbox.browser.config import SiteLogin, Timeouts
from sandbox.browser.errors import (
    BrowserCrashed,
    BrowserError,
    ElementNotFound,
    ElementNotInteractable,
    LoginFailed,
    StaleElement,
    UnknownElement,
    WaitTimeout,
    WriteRefused,
)
from sandbox.browser.observe import Limits
from sandbox.browser.origins import Origins, origin_of
from sandbox.browser.registry import BrowserCall, BrowserEffect
from sandbox.browser.service import DEFAULT_ARGS, BrowserService

__all__ = [
    "DEFAULT_ARGS",
    "BrowserCall",
    "BrowserCrashed",
    "BrowserEffect",
    "BrowserError",
    "BrowserService",
    "ElementNotFound",
    "ElementNotInteractable",
    "Limits",
    "LoginFailed",
    "Origins",
    "SiteLogin",
    "StaleElement",
    "Timeouts",
    "UnknownElement",
    "WaitTimeout",
    "WriteRefused",
    "origin_of",
]

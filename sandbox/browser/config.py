"""How a browser session is set up: its Chromium, its time limits, and the host's sign-in details."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sandbox.browser.observe import Limits

if TYPE_CHECKING:
    from sandbox.browser.registry import BrowserCall


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait, by what is awaited."""

    navigation: float = 15.0  # for a page to start arriving
    settle: float = 5.0  # after an action, for the page to finish loading
    action: float = 5.0  # for an element to accept a click or input
    wait: float = 10.0  # default for wait_for()


@dataclass(frozen=True)
class SiteLogin:
    """How to sign in to a site's web UI; held by the host, never sent to the kernel."""

    url: str
    username: str
    password: str = field(repr=False)


WriteCheck = Callable[["BrowserCall"], bool]
CredentialProvider = Callable[[str], "SiteLogin | None"]


@dataclass(frozen=True)
class BrowserConfig:
    executable: str
    args: tuple[str, ...]
    headless: bool
    timeouts: Timeouts
    limits: Limits
    screenshot_dir: Path
    check_writes: bool = False  # whether writes wait for the policy (see `session.Step`)

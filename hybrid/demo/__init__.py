"""The bundled demo site: a small project tracker with a REST API and an HTML UI.

Names are imported when first used, so that a command that only needs the demo site's name
(`hybrid.demo.registration.SITE_NAME`) does not import FastAPI and the whole app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

if TYPE_CHECKING:
    # `X as X`: names re-exported for type checkers (at run time `__getattr__` imports them).
    from hybrid.demo.server import (
        DemoSite as DemoSite,
        DemoSiteError as DemoSiteError,
        demo_site as demo_site,
    )

__all__, __getattr__ = lazy_names(
    __name__, {"hybrid.demo.server": ("DemoSite", "DemoSiteError", "demo_site")}
)

"""The bundled demo site: a small project tracker with a REST API and an HTML UI."""

from hybrid.demo.server import DemoSite, DemoSiteError, demo_site

__all__ = ["DemoSite", "DemoSiteError", "demo_site"]

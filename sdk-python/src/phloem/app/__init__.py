"""Apps and their pages."""

from phloem.app.app import App, Page
from phloem.app.loader import AppNotFound, load_app

__all__ = ["App", "AppNotFound", "Page", "load_app"]

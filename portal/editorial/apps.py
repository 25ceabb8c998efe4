from __future__ import annotations

from django.apps import AppConfig


class EditorPagesConfig(AppConfig):
    """The editor pages (a face): no models of its own; the core is portal.editors."""

    name = "portal.editorial"
    label = "editor_pages"
    verbose_name = "Editor pages"

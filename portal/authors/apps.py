from __future__ import annotations

from django.apps import AppConfig


class AuthorPagesConfig(AppConfig):
    """The author pages (a face): no models of its own; the core is portal.submissions."""

    name = "portal.authors"
    label = "author_pages"
    verbose_name = "Author pages"

from __future__ import annotations

from django.apps import AppConfig


class AuthorsConfig(AppConfig):
    name = "portal.authors"
    label = "authors"
    verbose_name = "Authors and submissions"

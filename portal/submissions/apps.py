from __future__ import annotations

from django.apps import AppConfig


class SubmissionsConfig(AppConfig):
    """The domain core: authors, submissions and their files.

    Its label stays "authors", the label these tables, their migration history
    and every backup (`authors.submission` rows in database.json) already carry.
    """

    name = "portal.submissions"
    label = "authors"
    verbose_name = "Authors and submissions"

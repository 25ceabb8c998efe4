"""The language switcher and the `lang` attribute, for every page (authors' and editors').

The switcher is a plain form posting to Django's `set_language` view, so it
works without JavaScript. It sends the visitor back to the page they were on
when that page can be fetched again (a GET); a page that answered a form (a
refused login, an upload error) sends them to a safe page instead.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.utils.translation import get_language

register = template.Library()

# BCP 47 tags as browsers and screen readers expect them (Django's codes are lower case).
BCP47 = {"en": "en", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}


@register.filter
def bcp47(code: str) -> str:
    return BCP47.get(code, code)


@register.inclusion_tag("language_switcher.html", takes_context=True)
def language_switcher(context: Any, fallback: str = "/") -> dict[str, Any]:
    request = context.get("request")
    here = request.get_full_path() if request is not None and request.method == "GET" else fallback
    current = get_language()
    return {
        "csrf_token": context.get("csrf_token"),
        "next": here,
        "languages": [
            {"code": code, "tag": bcp47(code), "name": name, "current": code == current}
            for code, name in settings.LANGUAGES
        ],
    }

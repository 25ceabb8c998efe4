"""After the idle expiry, a form sent to an author page says what was not sent.

Threat answered: losing work without knowing it. An author session ends after
two hours without a request (SESSION_COOKIE_AGE); a message written slowly, or
a confirm pressed after lunch, used to land on the start page with no word of
what happened. Now the answer is one sentence that says what was NOT sent,
above the login form, and the text she wrote comes back in a field to copy
from. It is only what her browser sent with this very request: the server
kept nothing of it, and keeps nothing now.

Only a browser that still carries a session cookie whose session is gone gets
this page; a visitor with no session at all is sent to the start page as
before (`portal.access.author_required`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.access import current_author

from .forms import CodenameForm, NewAuthorForm


def session_expired(request: HttpRequest) -> bool:
    """The browser names a session the server no longer has (expired or ended elsewhere)."""
    return (settings.SESSION_COOKIE_NAME in request.COOKIES
            and not list(request.session.keys()))


def _not_sent() -> dict[str, str]:
    return {
        "message": _("Your message was not sent: you were logged out after two hours without "
                     "activity."),
        "upload": _("Your upload was not sent: you were logged out after two hours without "
                    "activity. Log in and upload the files again."),
        "confirm": _("Your submission was not sent: you were logged out after two hours "
                     "without activity. Log in and upload the files again."),
        "other": _("Nothing was changed: you were logged out after two hours without "
                   "activity."),
    }


# Which fields of each form carry the author's own writing, to give back.
WRITTEN_FIELDS = ("text", "title", "message")


def expired_page(request: HttpRequest, what: str) -> HttpResponse:
    written = [(name, request.POST.get(name, "")) for name in WRITTEN_FIELDS
               if what != "upload" and request.POST.get(name, "").strip()]
    return render(request, "authors/start.html", {
        "author": None, "expired_error": _not_sent()[what], "written": written,
        "pen_name_form": NewAuthorForm(), "login_form": CodenameForm(),
        "codename_style": "pinyin" if (request.LANGUAGE_CODE or "").startswith("zh") else "english",
    }, status=403)


def expired_aware(what: str) -> Callable[[Callable[..., HttpResponseBase]],
                                         Callable[..., HttpResponseBase]]:
    """Answer a POST from an expired session with `expired_page`, else run the view."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if (request.method == "POST" and current_author(request) is None
                    and session_expired(request)):
                return expired_page(request, what)
            return view(request, *args, **kwargs)

        return wrapper

    return decorate

"""Error pages: a plain sentence for people, never a traceback or request data."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from portal.counters import count


def _page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 400, _("The request could not be understood. Please go back and use "
                                 "the form again."))


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, _("You cannot open this page."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, _("There is no page here."))


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(request, 500, _("Something went wrong on the server. Nothing you sent in this "
                                 "step was kept. Please try again later."))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    # Counted, not logged: a line would say when someone (often an author whose
    # form had expired) was here. The reason is Django's fixed sentence.
    count(f"form refused (CSRF): {reason}")
    return _page(request, 403, _("This form has expired or was not sent from this site. Nothing "
                                 "was kept. Please reload the page and try again."))

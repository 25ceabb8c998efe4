"""Response headers that keep author activity out of caches and other sites' hands.

- Author pages (and every page under /author/) are `Cache-Control: no-store`:
  a shared computer's browser cache must not keep a codename or a review page.
- Cookies get the Secure flag when the request arrived over HTTPS; an onion
  service is plain HTTP inside Tor, where a Secure cookie would be dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PrivacyHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, max-age=0"
        if request.is_secure():
            for morsel in response.cookies.values():
                morsel["secure"] = True
        return response

"""The page an author sees when every cleaning slot stays taken: come back in a few minutes.

Cleaning is bounded across the server (portal.authors.cleaning); when the bound
is reached, an upload is not half-accepted with its files refused as "busy" but
turned away whole, nothing kept, with HTTP 503 and Retry-After, in the author's
language. nginx shows the same words (static portal/busy.html) when gunicorn
itself is full.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from portal.submissions.models import Author

# "A few minutes": a cleaning takes at most five (Limits.wall_seconds).
RETRY_AFTER_SECONDS = 180


def busy_page(request: HttpRequest, author: Author) -> HttpResponse:
    response = render(request, "authors/busy.html", {"author": author}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

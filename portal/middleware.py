"""Response headers that keep author activity out of caches and other sites' hands.

- Every page except static files is `Cache-Control: no-store`: a shared
  computer's browser cache must not keep a codename or a review page.
- Every cookie, including the ones that delete a cookie at log-out, is
  HttpOnly and SameSite=Strict: no script and no other site's request ever
  carries a session. Cookies get the Secure flag when the request arrived over
  HTTPS; an onion service is plain HTTP inside Tor, where a Secure cookie
  would be dropped.
- Every response is isolated from other origins: no other site may open it in
  a window it controls (Cross-Origin-Opener-Policy), embed it as a resource
  (Cross-Origin-Resource-Policy), or have its own resources loaded into our
  pages (Cross-Origin-Embedder-Policy); and no page may use the camera,
  microphone, location or other device features (Permissions-Policy).
- Editor pages (under /editor/) get `settings.PORTAL_EDITOR_CSP`, which adds
  same-origin scripts for the security-key ceremony. Every other page gets
  SECURE_CSP plus one script, by its full URL on this host and nothing else:
  `settings.PORTAL_WARNING_SCRIPT`, which only reveals the warning that
  scripts are running (Tor Browser at "Safest" never runs it). Responses
  without a known host (a refused Host header) get SECURE_CSP alone, from
  Django's CSP middleware, which keeps a policy already set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers
from django.utils.csp import CSP, build_policy

# Features no Penname page needs. The WebAuthn features (publickey-credentials-*)
# are left at their default, this origin only, for editors' security keys.
DENIED_FEATURES = (
    "accelerometer", "ambient-light-sensor", "autoplay", "bluetooth", "browsing-topics",
    "camera", "display-capture", "encrypted-media", "fullscreen", "geolocation", "gyroscope",
    "hid", "idle-detection", "local-fonts", "magnetometer", "microphone", "midi", "payment",
    "picture-in-picture", "screen-wake-lock", "serial", "usb", "web-share",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)

ISOLATION_HEADERS = {
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Permissions-Policy": PERMISSIONS_POLICY,
}

EDITOR_PREFIX = "/editor/"


class PrivacyHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.editor_policy = build_policy(cast(dict[str, list[str]], settings.PORTAL_EDITOR_CSP))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, max-age=0"
        for name, value in ISOLATION_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.path.startswith(EDITOR_PREFIX):
            response.headers.setdefault(str(CSP.HEADER_ENFORCE), self.editor_policy)
        else:
            policy = warning_script_policy(request)
            if policy:
                response.headers.setdefault(str(CSP.HEADER_ENFORCE), policy)
        for morsel in response.cookies.values():
            morsel["httponly"] = True
            morsel["samesite"] = "Strict"
            if request.is_secure():
                morsel["secure"] = True
        return response


def warning_script_policy(request: HttpRequest) -> str:
    """SECURE_CSP with the warning script allowed by its exact URL ("" without a valid host).

    A source with a path matches that one file, so no other script of this
    origin (and no inline script) may run on an author page.
    """
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""
    script = f"{request.scheme}://{host}{static(settings.PORTAL_WARNING_SCRIPT)}"
    return build_policy({**cast(dict[str, list[str]], settings.SECURE_CSP), "script-src": [script]})

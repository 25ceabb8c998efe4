"""What every editor login path shares: one refusal, one way to count it, one way to finish.

Threat answered: several doors into an editor account (the login form, its
second step, first-time enrolment, a security key) must not differ in what
they reveal or how they count. Each refuses with the same sentence, counts the
failure against the account (`portal.editors.throttle`), records it in the
audit log (never an address or a User-Agent), and finishes a login the same
way: a new session key, the OTP device recorded, the earlier failures forgotten.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware import csrf
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login

from portal.access import SESSION_EPOCH, editor_of
from portal.editors.throttle import COOL_OFF_SECONDS, Throttle
from portal.submissions import audit

EDITOR_PREFIX = "/editor/"


def refusal() -> str:
    """The one message for a wrong username, password or code: it says nothing about which."""
    return _("The username, password or code was not accepted.")


def locked_message() -> str:
    return _("Too many failed attempts for this account. Try again in %(minutes)d minutes.") % {
        "minutes": COOL_OFF_SECONDS // 60
    }


def password_accepted(request: HttpRequest) -> bool:
    """This session passed an editor's password (and is not ended by "log out everywhere")."""
    editor = editor_of(getattr(request, "user", None))
    return editor is not None and request.session.get(SESSION_EPOCH) == editor.session_epoch


def finish_verification(request: HttpRequest, user: Any, device: Any, factor: str) -> None:
    """The second factor passed: mark the session verified under a new key."""
    otp_login(request, device)
    request.session.cycle_key()
    Throttle(user.get_username()).succeed()
    audit.record(user, "login", user.get_username(), factor=factor)


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Where to go after logging in: an editor page on this site, or the dashboard."""
    if candidate and candidate.startswith(EDITOR_PREFIX) and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("editorial:dashboard")


def webauthn_available(request: HttpRequest) -> bool:
    """Whether security keys can work here: the browser's origin must be a configured one.

    A plain-HTTP onion address is not a secure origin for WebAuthn, so there the
    pages offer only the authenticator app and backup codes.
    """
    origin = f"{request.scheme}://{request.get_host()}"
    return origin in settings.OTP_WEBAUTHN_ALLOWED_ORIGINS


def webauthn_config(request: HttpRequest) -> dict[str, Any]:
    """The configuration django-otp-webauthn's scripts read (our URLs, not its default ones)."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse("editorial:webauthn_login_begin"),
        "completeAuthenticationUrl": reverse("editorial:webauthn_login_complete"),
        "beginRegistrationUrl": reverse("editorial:webauthn_register_begin"),
        "completeRegistrationUrl": reverse("editorial:webauthn_register_complete"),
    }

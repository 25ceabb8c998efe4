"""Security keys and passkeys (django-otp-webauthn) as a further second factor.

Threat answered: phishing. A WebAuthn credential is bound to this site's
origin, so a cloned login page cannot replay it. It is only ever a second
factor here (OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN is off): the password comes
first, through the throttled login form.

The ceremonies need JavaScript (the library's own scripts, served from this
site); every page still works without it, because the authenticator app and
backup codes remain the way in.

Who may call what (each view carries an access mark for the URLconf walk):

- `security_key_add`, `security_key_remove`, `webauthn_register_begin`,
  `webauthn_register_complete`: `editor_required`, and in addition a fresh
  code: adding a key needs a code entered within `REGISTRATION_GRANT_SECONDS`
  (the grant is used up by the registration), removing one needs a code in the
  same request.
- `webauthn_login_begin`, `webauthn_login_complete`: marked public because they
  run *during* login, before the session is verified; each checks itself that
  the password was already accepted in this session (`password_accepted`) and
  refuses otherwise. A failed assertion counts against the account's throttle.
- `webauthn_jsi18n`: public; the library's translated interface strings.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from django.views.i18n import JavaScriptCatalog
from django_otp import login as otp_login
from django_otp_webauthn import exceptions
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from portal.access import editor_required, public
from portal.editors.throttle import Throttle, record_failure
from portal.submissions import audit

from .auth_forms import RemoveKeyForm
from .auth_views import account_page, check_fresh_code
from .forms import FreshOtpForm
from .login_steps import (
    finish_verification,
    password_accepted,
    safe_next,
    webauthn_available,
    webauthn_config,
)

# Long enough to find the key and touch it; matches the library's ceremony timeout.
REGISTRATION_GRANT_SECONDS = 5 * 60
REGISTRATION_GRANT = "webauthn_registration_until"


class FreshCodeRequired(exceptions.OTPWebAuthnApiError):
    status_code = 403
    default_detail = _("Enter a current code on the account page before adding a security key.")
    default_code = "fresh_code_required"


class TooManyAttempts(exceptions.OTPWebAuthnApiError):
    status_code = 429
    default_detail = _("Too many failed attempts for this account. Try again later.")
    default_code = "throttled"


class FreshCodeGrantMixin:
    """Registration is open only within the grant a fresh code opened (see security_key_add)."""

    request: HttpRequest

    def check_can_register(self) -> None:
        if float(self.request.session.get(REGISTRATION_GRANT, 0)) < time.time():
            raise FreshCodeRequired()


class RegistrationBegin(FreshCodeGrantMixin, BeginCredentialRegistrationView):
    pass


class RegistrationComplete(FreshCodeGrantMixin, CompleteCredentialRegistrationView):
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        self.request.session.pop(REGISTRATION_GRANT, None)
        user: Any = self.request.user
        audit.record(user, "devices-changed", user.get_username(), added=["security key"])
        return response


class SecondFactorMixin:
    """Only a session whose password was just accepted, and is not verified yet, may proceed."""

    request: HttpRequest

    def check_can_authenticate(self) -> None:
        user: Any = self.request.user
        if not password_accepted(self.request) or user.is_verified():
            raise exceptions.NotAuthenticated()


class SecondFactorBegin(SecondFactorMixin, BeginCredentialAuthenticationView):
    pass


class SecondFactorComplete(SecondFactorMixin, CompleteCredentialAuthenticationView):
    throttle: Throttle | None = None

    def initial(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        throttle = Throttle(request.user.get_username())
        if throttle.locked():
            raise TooManyAttempts()
        self.throttle = throttle

    def handle_exception(self, exc: Exception) -> Any:
        if self.throttle is not None:
            record_failure(self.throttle, self.request.user)
            self.throttle = None
        return super().handle_exception(exc)

    def complete_auth(self, device: Any) -> None:
        finish_verification(self.request, self.request.user, device, "security key")
        self.throttle = None

    def get_success_url(self) -> str:
        return safe_next(self.request, self.request.GET.get("next"))


@require_POST
@editor_required
def security_key_add(request: HttpRequest) -> HttpResponse:
    """A fresh code opens a short window in which this session may register one key."""
    form = FreshOtpForm(request.POST, auto_id="key_%s")
    if not webauthn_available(request):
        form.add_error(None, gettext("Security keys cannot be used at this address."))
        return account_page(request, 400, key_form=form)
    _device, refused = check_fresh_code(request, form, "key_form")
    if refused is not None:
        return refused
    request.session[REGISTRATION_GRANT] = time.time() + REGISTRATION_GRANT_SECONDS
    return render(request, "editorial/auth/security_key_add.html",
                  {"webauthn_config": webauthn_config(request)})


@require_POST
@editor_required
def security_key_remove(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    form = RemoveKeyForm(request.POST, auto_id="remove_%s")
    device, refused = check_fresh_code(request, form, "remove_form", field=None)
    if refused is not None:
        return refused
    credential = WebAuthnCredential.objects.filter(user=user, pk=form.cleaned_data["credential"]).first()
    if credential is not None:
        was_session_device = user.otp_device is not None and \
            user.otp_device.persistent_id == credential.persistent_id
        credential.delete()
        if was_session_device:
            # The session stays verified by the device that gave the fresh code.
            otp_login(request, device)
        audit.record(user, "devices-changed", user.get_username(), removed=["security key"])
    return redirect("editorial:account")


webauthn_register_begin = editor_required(RegistrationBegin.as_view())
webauthn_register_complete = editor_required(RegistrationComplete.as_view())
webauthn_login_begin = public(SecondFactorBegin.as_view())
webauthn_login_complete = public(SecondFactorComplete.as_view())
webauthn_jsi18n = public(cast(Callable[..., HttpResponse],
                             JavaScriptCatalog.as_view(packages=["django_otp_webauthn"])))

"""Editor login, first-time enrolment, the account page, logging out.

Threat answered: a stolen or guessed editor password. Logging in takes the
password and a current code (TOTP or a single-use backup code) in one form, or
the password and then a security key; every failure counts against that
account's throttle and is recorded without an address. Changing the password
or the second factors needs a fresh code, so a session left open on a laptop
cannot be turned into a permanent takeover.

Accepted trade-off: for an account with a security key, the right password
with an empty code leads to the key step, which shows that the password was
right. That attempt stays counted against the account until the key answers,
so it buys no extra guesses; accounts without a key get the one refusal.

Who may call what (decided in `portal.access`):

- `login`, `logout`: public (they are how one gets in and out);
- `enrol`: `enrolment_required`: password accepted, no confirmed device yet;
- `account`, `password_change`, `backup_codes`, `logout_everywhere`,
  `revoke_token`: `editor_required` (password, verified device, current
  session epoch). Revoking one's own API token needs no fresh code: it only
  takes power away.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from portal.access import (
    api_tokens_of,
    editor_of,
    editor_required,
    enrolment_required,
    has_confirmed_device,
    log_out_everywhere,
    public,
    revoke_api_token,
    start_editor_session,
)
from portal.editors.throttle import Throttle, known_user, record_failure
from portal.submissions import audit

from . import devices
from .auth_forms import MAX_CODE_CHARS, CodeForm, EnrolForm, LoginForm, PasswordChangeForm, RemoveKeyForm
from .forms import FreshOtpForm, NotifyForm
from .login_steps import (
    finish_verification,
    locked_message,
    password_accepted,
    refusal,
    safe_next,
    webauthn_available,
    webauthn_config,
)

TEMPLATES = "editorial/auth/"


def _next(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get("next") or request.GET.get("next"))


@public
@sensitive_post_parameters("password", "otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Username, password and code in one form (the code may be left out for a security key)."""
    user: Any = request.user
    if password_accepted(request) and "username" not in request.POST:
        if user.is_verified():
            return redirect(_next(request))
        if not has_confirmed_device(user):
            return redirect("editorial:enrol")
        return _second_step(request, user)
    if request.method == "GET":
        return _login_page(request, LoginForm())
    form = LoginForm(request.POST)
    if not form.is_valid():
        return _login_page(request, form, refusal(), status=400)
    username = form.cleaned_data["username"]
    throttle = Throttle(username)
    if throttle.locked():
        return _login_page(request, LoginForm(), locked_message(), status=429)
    candidate: Any = authenticate(request, username=username, password=form.cleaned_data["password"])
    if candidate is None or editor_of(candidate) is None:
        record_failure(throttle, known_user(username))
        return _login_page(request, LoginForm(initial={"username": username}), refusal(), status=400)
    if not has_confirmed_device(candidate):
        # First login: the password is all this account has; enrolment is the only page open.
        _start_session(request, candidate)
        return redirect("editorial:enrol")
    code = form.cleaned_data["otp_token"]
    device = devices.fresh_code_device(candidate, code) if code else None
    if device is not None:
        _start_session(request, candidate)
        finish_verification(request, candidate, device, type(device).__name__)
        return redirect(_next(request))
    if not code and devices.has_security_key(candidate):
        # The security key is asked for on the next page; the attempt stays counted until then.
        _start_session(request, candidate)
        return redirect(f"{reverse('editorial:login')}?{urlencode({'next': _next(request)})}")
    record_failure(throttle, candidate)
    return _login_page(request, LoginForm(initial={"username": username}), refusal(), status=400)


def _start_session(request: HttpRequest, user: Any) -> None:
    """A new session for this editor, with nothing carried over (not even an author's id)."""
    request.session.flush()
    auth_login(request, user)
    start_editor_session(request, user)


def _login_page(request: HttpRequest, form: LoginForm, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, TEMPLATES + "login.html",
                  {"form": form, "error": error, "next": _next(request)}, status=status)


def _second_step(request: HttpRequest, user: Any) -> HttpResponse:
    """Password accepted, the account has a device: a code or a security key finishes the login."""
    # Bound on every POST, even an empty one: errors can only be added to a bound form.
    form = CodeForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        throttle = Throttle(user.get_username())
        if throttle.locked():
            form.add_error(None, locked_message())
            status = 429
        else:
            code = request.POST.get("otp_token", "")[:MAX_CODE_CHARS]
            device = devices.fresh_code_device(user, code)
            if device is not None:
                finish_verification(request, user, device, type(device).__name__)
                return redirect(_next(request))
            record_failure(throttle, user)
            form.add_error("otp_token", refusal())
            status = 400
    return render(request, TEMPLATES + "second_step.html", {
        "form": form, "next": _next(request),
        "webauthn": webauthn_available(request) and devices.has_security_key(user),
        "webauthn_config": webauthn_config(request),
    }, status=status)


@public
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect("editorial:login")


@require_POST
@editor_required
def logout_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session and API token of this editor, this one included."""
    user: Any = request.user
    log_out_everywhere(user)
    audit.record(user, "logout-everywhere", user.get_username())
    auth_logout(request)
    return redirect("editorial:login")


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
@enrolment_required
def enrol(request: HttpRequest) -> HttpResponse:
    """First login: scan the QR code (or type the secret), prove it with a code, get backup codes."""
    user: Any = request.user
    device = devices.enrolment_device(user)
    form = EnrolForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        throttle = Throttle(user.get_username())
        if throttle.locked():
            form.add_error(None, locked_message())
            status = 429
        elif form.is_valid() and devices.confirm_enrolment(device, form.cleaned_data["otp_token"]):
            finish_verification(request, user, device, "enrolment")
            codes = devices.new_backup_codes(user)[1]
            audit.record(user, "devices-changed", user.get_username(),
                         added=["authenticator", "backup codes"])
            return render(request, TEMPLATES + "backup_codes.html", {"codes": codes, "first": True})
        else:
            record_failure(throttle, user)
            form.add_error("otp_token", _("That code was not accepted. Check the time on your "
                                          "phone and enter the newest code."))
            status = 400
    return render(request, TEMPLATES + "enrol.html", {
        "form": form,
        "qr_svg": devices.qr_svg(device.config_url, _("QR code for your authenticator app")),
        "secret": devices.secret_text(device),
    }, status=status)


@require_GET
@editor_required
def account(request: HttpRequest) -> HttpResponse:
    return account_page(request)


def account_page(request: HttpRequest, status: int = 200, **bound: Any) -> HttpResponse:
    """The account page; `bound` holds a submitted form (with its errors) by its context name."""
    user: Any = request.user
    return render(request, TEMPLATES + "account.html", {
        "notify_form": NotifyForm(initial={"address": user.editor.notify_address},
                                  auto_id="notify_%s"),
        **devices.describe_devices(user),
        "password_form": PasswordChangeForm(user, auto_id="password_%s"),
        "backup_form": FreshOtpForm(auto_id="backup_%s"),
        "key_form": FreshOtpForm(auto_id="key_%s"),
        "remove_form": RemoveKeyForm(auto_id="remove_%s"),
        "tokens": [{"token": t, "scopes": "、".join(scope_label(x) for x in t.scopes)
                    if translation.get_language().startswith("zh")
                    else ", ".join(scope_label(x) for x in t.scopes)}
                   for t in api_tokens_of(user)],
        **bound,
        "done": request.GET.get("done", "")[:20],
        "webauthn": webauthn_available(request),
    }, status=status)


def scope_label(scope: str) -> str:
    """A token scope in the reader's language."""
    labels = {"read": _("read"), "note": _("note"), "reply": _("reply"),
              "reencrypt": _("re-encrypt")}
    return labels.get(scope, scope)


def check_fresh_code(request: HttpRequest, form: Any, name: str,
                     field: str | None = "otp_token") -> tuple[Any, HttpResponse | None]:
    """The device that accepted the form's fresh code, or the account page refusing it.

    `name` is the form's name on the account page; the refusal goes on `field`
    (None: on the form as a whole).
    """
    user: Any = request.user
    throttle = Throttle(user.get_username())
    if throttle.locked():
        form.add_error(None, locked_message())
        return None, account_page(request, 429, **{name: form})
    device = devices.fresh_code_device(user, form.cleaned_data["otp_token"]) if form.is_valid() else None
    if device is None:
        record_failure(throttle, user, "fresh-code-failed")
        form.add_error(field, _("The code was not accepted."))
        return None, account_page(request, 400, **{name: form})
    throttle.succeed()
    return device, None


@sensitive_post_parameters("current_password", "new_password1", "new_password2", "otp_token")
@require_POST
@editor_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Needs the current password and a fresh code; ends every other session and API token."""
    user: Any = request.user
    form = PasswordChangeForm(user, request.POST, auto_id="password_%s")
    if not form.is_valid():
        return account_page(request, 400, password_form=form)
    throttle = Throttle(user.get_username())
    if throttle.locked():
        form.add_error(None, locked_message())
        return account_page(request, 429, password_form=form)
    if not user.check_password(form.cleaned_data["current_password"]) or \
            devices.fresh_code_device(user, form.cleaned_data["otp_token"]) is None:
        record_failure(throttle, user, "password-change-failed")
        form.add_error(None, _("The current password or the code was not accepted."))
        return account_page(request, 400, password_form=form)
    throttle.succeed()
    user.set_password(form.cleaned_data["new_password2"])
    user.save(update_fields=["password"])
    log_out_everywhere(user)
    user.editor.refresh_from_db(fields=["session_epoch"])
    update_session_auth_hash(request, user)
    start_editor_session(request, user)
    audit.record(user, "password-changed", user.get_username())
    return redirect(f"{reverse('editorial:account')}?done=password")


@sensitive_post_parameters("otp_token")
@require_POST
@editor_required
def backup_codes(request: HttpRequest) -> HttpResponse:
    """Replace every backup code after a fresh code; the new ones are shown once."""
    user: Any = request.user
    device, refused = check_fresh_code(request, FreshOtpForm(request.POST, auto_id="backup_%s"),
                                       "backup_form")
    if refused is not None:
        return refused
    backup, codes = devices.new_backup_codes(user)
    # The old backup device is gone; if it (or one of its codes) verified this
    # session, the session stays verified by the new one rather than ending here.
    if isinstance(device, StaticDevice) or isinstance(user.otp_device, StaticDevice):
        otp_login(request, backup)
    audit.record(user, "devices-changed", user.get_username(), replaced=["backup codes"])
    return render(request, TEMPLATES + "backup_codes.html", {"codes": codes, "first": False})


@require_POST
@editor_required
def notifications(request: HttpRequest) -> HttpResponse:
    """Opt in to (an address) or out of (empty) the "something new" mail."""
    form = NotifyForm(request.POST, auto_id="notify_%s")
    if not form.is_valid():
        return account_page(request, 400, notify_form=form)
    editor = request.user.editor  # type: ignore[union-attr]
    editor.notify_address = form.cleaned_data["address"]
    editor.save(update_fields=["notify_address"])
    audit.record(request.user, "notifications", request.user.get_username(),
                 on=bool(editor.notify_address))
    return redirect(reverse("editorial:account") + "?done=notify")


@require_POST
@editor_required
def revoke_token(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of this editor's portal-editor tokens (another editor's: 404)."""
    if not revoke_api_token(request.user, pk):
        raise Http404("no such token")
    audit.record(request.user, "api-token-revoked", request.user.get_username(), token=pk,
                 via="web")
    return redirect(reverse("editorial:account") + "?done=token")

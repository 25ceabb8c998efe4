"""Forms of the editor login and account pages: every field bounded.

Passwords are capped so a megabyte "password" cannot make Argon2 (or the
fallback hasher) do unbounded work per request.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from .forms import FreshOtpForm

MAX_PASSWORD_CHARS = 1024
MAX_USERNAME_CHARS = 150
# Six to eight digits for TOTP, eight characters for a backup code, with room for spaces.
MAX_CODE_CHARS = 16


def _code_field(label: Any, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=MAX_CODE_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric",
                                      "autocapitalize": "none", "spellcheck": "false"}),
    )


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=MAX_USERNAME_CHARS,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none",
                                      "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=_("Password"), max_length=MAX_PASSWORD_CHARS, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp_token = _code_field(_("Code from your authenticator (or a backup code)"), required=False)


class CodeForm(forms.Form):
    """One code: the login's second step and enrolment's confirmation."""

    otp_token = _code_field(_("Code from your authenticator (or a backup code)"))


class EnrolForm(forms.Form):
    otp_token = _code_field(_("Code the app shows now"))


class PasswordChangeForm(FreshOtpForm):
    current_password = forms.CharField(
        label=_("Current password"), max_length=MAX_PASSWORD_CHARS, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"), max_length=MAX_PASSWORD_CHARS, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"), max_length=MAX_PASSWORD_CHARS, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    field_order = ["current_password", "new_password1", "new_password2", "otp_token"]

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_new_password2(self) -> str:
        first = self.cleaned_data.get("new_password1")
        second: str = self.cleaned_data["new_password2"]
        if first and first != second:
            raise forms.ValidationError(_("The two new passwords differ."))
        validate_password(second, self.user)
        return second


class RemoveKeyForm(FreshOtpForm):
    credential = forms.IntegerField(min_value=1, widget=forms.HiddenInput)

"""Author and editor forms for the thread and reply keys: every field bounded."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.crypto.codenames import MAX_INPUT_CHARS
from portal.crypto.openpgp import MAX_KEY_BYTES


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Message"), max_length=settings.PORTAL_MAX_MESSAGE_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Please write a message."),
                        "max_length": _("A message can be at most %(limit_value)d characters.")},
    )


class ReplyForm(MessageForm):
    """An editor's reply from the web page (the server encrypts it on arrival)."""


class OwnKeyForm(forms.Form):
    public_key = forms.CharField(
        label=_("Your OpenPGP public key"), max_length=MAX_KEY_BYTES,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_("Paste the whole key, from “-----BEGIN PGP PUBLIC KEY BLOCK-----” to the "
                    "end line."),
        error_messages={"required": _("Please paste your public key."),
                        "max_length": _("This is larger than any public key needs to be.")},
    )


class CodenameAgainForm(forms.Form):
    codename = forms.CharField(
        label=_("Your codename, once more"), max_length=MAX_INPUT_CHARS,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "autocapitalize": "none",
                                          "spellcheck": "false"}),
        error_messages={"required": _("Please type your codename."),
                        "max_length": _("That codename was not recognised.")},
    )

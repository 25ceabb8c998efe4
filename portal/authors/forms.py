"""Author-facing forms: every field bounded, every error a sentence."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.crypto.codenames import MAX_INPUT_CHARS, STYLES


def _single_line(value: str) -> str:
    return " ".join(value.split())


class PenNameForm(forms.Form):
    pen_name = forms.CharField(
        label=_("Pen name (optional)"), required=False,
        max_length=settings.PORTAL_MAX_PEN_NAME_CHARS,
        help_text=_("The name editors will see. You can change it later. Do not use your real name."),
    )

    def clean_pen_name(self) -> str:
        return _single_line(self.cleaned_data["pen_name"])


class NewAuthorForm(PenNameForm):
    # Empty means "the kind that suits the page's language" (see views.new_author).
    style = forms.ChoiceField(
        label=_("Kind of codename"), required=False,
        choices=[("", "")] + [(style, style) for style in STYLES],
        error_messages={"invalid_choice": _("Choose pinyin words or English words.")},
    )


class CodenameForm(forms.Form):
    # The bound is checked before any hashing (see portal.crypto.codenames).
    codename = forms.CharField(
        label=_("Codename"), max_length=MAX_INPUT_CHARS, strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "autocapitalize": "none",
                                          "spellcheck": "false"}),
        error_messages={"max_length": _("That codename was not recognised."),
                        "required": _("Please type your codename.")},
    )


class SubmissionForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=settings.PORTAL_MAX_TITLE_CHARS)
    message = forms.CharField(
        label=_("Message to the editors (optional)"), required=False,
        max_length=settings.PORTAL_MAX_MESSAGE_CHARS, widget=forms.Textarea(attrs={"rows": 5}),
    )
    # Set on a submission's own page: the upload is a new version of that submission.
    revision_of = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def clean_title(self) -> str:
        return _single_line(self.cleaned_data["title"])

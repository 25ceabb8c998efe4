"""Editor forms: every field bounded."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from portal.crypto.openpgp import MAX_KEY_BYTES
from portal.editors.models import Editor
from portal.submissions.models import Submission


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Pen name"), required=False, max_length=80)
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("any")), *Submission.State.choices])
    mine = forms.BooleanField(label=_("Assigned to me"), required=False)
    # "Show all": every submission from the author of this one, unfolded.
    by = forms.UUIDField(required=False, widget=forms.HiddenInput)


class StateForm(forms.Form):
    target = forms.ChoiceField(label=_("Move to"), choices=Submission.State.choices)
    message = forms.CharField(
        label=_("Message to the author (optional)"), required=False,
        max_length=settings.PORTAL_MAX_MESSAGE_CHARS, widget=forms.Textarea(attrs={"rows": 4}),
    )


class AssignForm(forms.Form):
    editor = forms.IntegerField(min_value=1)


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), max_length=settings.PORTAL_MAX_MESSAGE_CHARS,
                           widget=forms.Textarea(attrs={"rows": 4}))


class FreshOtpForm(forms.Form):
    otp_token = forms.CharField(label=_("Current code from your authenticator"),
                                max_length=16, min_length=6,
                                widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                              "inputmode": "numeric"}))


class KeyForm(FreshOtpForm):
    owner = forms.TypedChoiceField(label=_("Whose key"), coerce=int, choices=[])
    armored = forms.CharField(label=_("OpenPGP public key (armored)"), max_length=MAX_KEY_BYTES,
                              widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        editors = Editor.objects.filter(user__is_active=True).select_related("user") \
            .order_by("user__username")
        self.fields["owner"].choices = [(e.user.pk, e.user.get_username())  # type: ignore[attr-defined]
                                        for e in editors]


class ApproveKeyForm(FreshOtpForm):
    pass


class SeenForm(forms.Form):
    through = forms.IntegerField(min_value=0)
    next = forms.CharField(max_length=200, required=False)


class NewEditorForm(FreshOtpForm):
    username = forms.CharField(label=_("Username"), max_length=150)
    role = forms.ChoiceField(label=_("Role"), choices=Editor.Role.choices)
    armored = forms.CharField(label=_("Their OpenPGP public key (armored)"),
                              max_length=MAX_KEY_BYTES,
                              widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}))


class NotifyForm(forms.Form):
    address = forms.EmailField(
        label=_("Address for “something new” notifications"), required=False, max_length=254,
        help_text=_("Leave empty to receive nothing (the default). The mail says only that "
                    "something new is waiting: no pen name, no title, no time."),
    )


class HideAuthorForm(forms.Form):
    """Hide ("1") or show again ("0") the author of a submission."""

    hidden = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")],
                                    coerce=lambda value: value == "1")

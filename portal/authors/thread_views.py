"""Author pages of the thread and the reply key: plain forms, no JavaScript.

Who may call what: only the logged-in author, only for their own submissions
(`author_required`, `own_submission`: 404 for anyone else's). Every change is
a CSRF-protected POST. Downloads are attachments (`nosniff`), never shown
inline. Exporting the generated secret key asks for the codename again: it is
the one thing a stolen, still-open session must not be able to take away.
"""

from __future__ import annotations

from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.access import author_required, own_submission
from portal.correspondence import replykeys, thread, unlock
from portal.correspondence.forms import CodenameAgainForm, MessageForm, OwnKeyForm
from portal.correspondence.models import Message, ReplyKey
from portal.crypto import replykey
from portal.crypto.openpgp import KeyUnusable, armor_message
from portal.store import Store
from portal.submissions.models import Author
from portal.submissions.unused import mark_came_back

from .expiry import expired_aware
from .identity import attempt_codename, canonical
from .submission_views import submission_context


@require_POST
@expired_aware("message")
@author_required
def write(request: HttpRequest, author: Author, public_id: str) -> HttpResponse:
    first = own_submission(author, public_id).first_version
    form = MessageForm(request.POST)
    status, error = 400, ""
    if form.is_valid():
        if first.state == first.State.WITHDRAWN:
            error = _("This submission was withdrawn; messages can no longer be sent.")
        else:
            try:
                # The message is encrypted to the author's reply key too: made now if missing.
                replykeys.ready_for_replies(author, unlock.secret(request, author))
                thread.post(first, form.cleaned_data["text"], sender=Message.Sender.AUTHOR)
            except replykeys.NoReplyKey as missing:
                status, error = missing.status, missing.sentence()
            except thread.MessageNotSent as failed:
                status, error = 503, (
                    _("Your reply key cannot be used (it may have expired), so nothing was "
                      "sent. Add a new key on your reply key page, or use the portal’s key.")
                    if failed.reason is thread.NotSent.AUTHOR_KEY else failed.reason.sentence())
            else:
                mark_came_back(author)
                return redirect(f"{first_url(first.public_id)}#thread")
    return render(request, "authors/submission.html", submission_context(
        request, author, first, message_form=form, message_error=error), status=status)


def first_url(public_id: UUID | str) -> str:
    return reverse("authors:received", kwargs={"public_id": public_id})


@require_GET
@author_required
def download_message(request: HttpRequest, author: Author, public_id: str, number: int) -> HttpResponse:
    """Any message of the thread as an armored `.asc`, to read with the author's own key."""
    first = own_submission(author, public_id).first_version
    messages = list(first.messages.all())  # type: ignore[attr-defined]
    if not 1 <= number <= len(messages):
        raise Http404("no such message")
    try:
        with Store.default().open(messages[number - 1].blob) as handle:
            data = handle.read()
    except (OSError, ValueError):
        raise Http404("message missing") from None
    # A name that says neither the portal nor an id the server could match.
    return _attachment(armor_message(data), f"message-{number}.asc", "application/pgp-encrypted")


def _attachment(text: str, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(text.encode("ascii"), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- The reply key ---------------------------------------------------------------------


def _key_page(request: HttpRequest, author: Author, status: int = 200, **extra: object) -> HttpResponse:
    keys = list(ReplyKey.objects.filter(author=author))
    return render(request, "authors/reply_key.html", {
        "author": author,
        "active": next((k for k in keys if k.active), None),
        "generated": next((k for k in keys if k.generated), None),
        "own_key_form": extra.pop("own_key_form", OwnKeyForm()),
        "codename_form": extra.pop("codename_form", CodenameAgainForm()),
        **extra,
    }, status=status)


@require_GET
@author_required
def reply_key(request: HttpRequest, author: Author) -> HttpResponse:
    # The page shows the key, so this is where an author who has sent nothing yet
    # first needs one. Without it the page still offers their own key.
    try:
        replykeys.ready_for_replies(author, unlock.secret(request, author))
    except replykeys.NoReplyKey as missing:
        return _key_page(request, author, key_missing=missing.sentence())
    return _key_page(request, author)


@require_POST
@author_required
def own_key(request: HttpRequest, author: Author) -> HttpResponse:
    form = OwnKeyForm(request.POST)
    if not form.is_valid():
        return _key_page(request, author, 400, own_key_form=form)
    try:
        replykeys.add_own_key(author, form.cleaned_data["public_key"])
    except replykeys.KeyNamesOwner:
        return _key_page(request, author, 400, own_key_form=form, key_error=_(
            "This key says who owns it (a name, an email address or a photo), so it was not "
            "stored. Make a key for this portal alone whose user ID is only the word “reply”, "
            "for example with: gpg --quick-generate-key reply — or keep using the portal’s "
            "key."))
    except KeyUnusable as refused:
        # The reason comes from gpg's view of the key, in English; the sentence around it
        # is translated.
        return _key_page(request, author, 400, own_key_form=form, key_error=_(
            "This key cannot be used for replies (%(reason)s).") % {"reason": refused})
    return redirect("authors:reply_key")


@require_POST
@author_required
def generated_key(request: HttpRequest, author: Author) -> HttpResponse:
    secret = unlock.secret(request, author)
    if secret is not None:
        try:
            replykeys.ensure_generated(author, secret)
        except (replykey.ReplyKeyError, OSError):
            return _key_page(request, author, 503, key_missing=replykeys.Missing.FAILED.sentence())
    if replykeys.use_generated(author) is None:
        return _key_page(request, author, 400,
                         key_missing=replykeys.Missing.NO_SECRET.sentence())
    return redirect("authors:reply_key")


@require_POST
@author_required
def secret_key(request: HttpRequest, author: Author) -> HttpResponse:
    """The generated secret key, protected by the codename typed here once more.

    Typing the codename here runs the same KDF as a login, so it spends the same
    failure budgets: an open session must not become an unthrottled guessing oracle.
    """
    form = CodenameAgainForm(request.POST)
    attempt = attempt_codename(request, form.data.get("codename", ""), expected=author) \
        if form.is_valid() else None
    if attempt is not None and attempt.refusal is not None:
        return attempt.refusal.applied_to(
            _key_page(request, author, codename_error=attempt.refusal.message))
    if attempt is None or attempt.author is None:
        return _key_page(request, author, 403, codename_form=CodenameAgainForm(), codename_error=_(
            "That codename was not recognised. Check each word and try again."))
    secret = attempt.secret
    codename = canonical(form.data["codename"]) or ""
    try:
        replykeys.ensure_generated(author, secret)  # an author who has sent nothing yet
        exported = replykeys.export_secret(author, secret, codename)
    except (replykey.ReplyKeyError, OSError):
        return _key_page(request, author, 503, codename_error=_(
            "The key could not be prepared. Nothing was sent. Please try again later."))
    response = _attachment(exported, "key.asc", "application/pgp-keys")
    # A fresh cookie too: the codename was just proven again.
    unlock.remember(request, response, author, secret)
    return response

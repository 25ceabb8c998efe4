"""Author pages: plain HTML forms that work with JavaScript disabled.

Who may call what: `start`, `new_author`, `login` and `logout` are public;
everything else needs an author session (`portal.access.author_required`) and
reaches only that author's own pending uploads and submissions. Every POST is
CSRF-protected, including the upload (whose body is streamed into the
encrypted spool before the token can be checked, and discarded on failure).
New codenames, codename logins and uploads spend budgets per Tor circuit
(`portal.authors.budgets`), taken before any KDF runs or any body is read.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST

from portal.access import author_required, current_author, log_in_author, log_out, public
from portal.correspondence import replykeys, unlock
from portal.counters import count
from portal.crypto import codenames
from portal.crypto.spool import SpoolCorrupt
from portal.sanitize import CleaningRefused
from portal.submissions import unused as unused_identities
from portal.submissions.models import Author

from . import budgets, first_session, pressed_twice, sending, titles
from . import pending as pending_uploads
from .busy import busy_page
from .expiry import expired_aware, expired_page, session_expired
from .forms import CodenameForm, NewAuthorForm, PenNameForm, SubmissionForm
from .identity import attempt_codename, create_author, reply_secret_for
from .reporting import describe
from .sending import (
    RevisionRefused,
    SendFailed,
    SubmissionsClosed,
    revision_target,
    send,
    submissions_open,
)
from .upload import Problem, SpooledUploadedFile, SpoolingUploadHandler, UploadRefused

SESSION_PENDING = "pending_uploads"
SESSION_SENT = "sent_uploads"
MAX_PENDING_PER_SESSION = 5
MiB = 1024 * 1024


def default_codename_style() -> str:
    """Pinyin words for a reader of Chinese, English words otherwise."""
    return "pinyin" if (get_language() or "").startswith("zh") else "english"


def _start_page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    # A logged-in author sees her session here too, never a page that looks logged out.
    return render(request, "authors/start.html", {
        "author": current_author(request),
        "pen_name_form": NewAuthorForm(), "login_form": CodenameForm(),
        "codename_style": default_codename_style(), **context,
    }, status=status)


def codename_words(codename: str) -> list[dict[str, str]]:
    """The codename word by word, each pinyin word with its characters in the page's script."""
    traditional = (get_language() or "") == "zh-hant"
    script = "zh-Hant" if traditional else "zh-Hans"
    return [{"word": word, "characters": codenames.characters(word, traditional), "lang": script}
            for word in codename.split()]


def _codename_page(request: HttpRequest, author: Author, codename: str, status: int = 200,
                   **extra: Any) -> HttpResponse:
    return render(request, "authors/codename.html", {
        "codename": codename, "words": codename_words(codename),
        "codename_style": codenames.style_of(codename), "author": author,
        "unused_days": settings.PORTAL_UNUSED_IDENTITY_DAYS,
        "check_form": CodenameForm(prefix="check"), **extra}, status=status)


@public
@require_GET
def start(request: HttpRequest) -> HttpResponse:
    return _start_page(request)


@public
@require_POST
def new_author(request: HttpRequest) -> HttpResponse:
    form = NewAuthorForm(request.POST)
    if not form.is_valid():
        return _start_page(request, status=400, pen_name_form=form,
                           codename_style=form.data.get("style") or default_codename_style())
    style = form.cleaned_data["style"] or default_codename_style()
    current = current_author(request)
    if current is not None and request.POST.get("replace") != "yes":
        # A new codename ends this session: say so, and what stays with the old one.
        return render(request, "authors/replace.html", {
            "author": current, "pen_name": form.cleaned_data["pen_name"], "style": style})
    # Counted only for a well-formed request, and before any KDF runs. A new
    # codename is never given back: making one is what the budget counts.
    place = budgets.NEW_CODENAMES.take(request)
    if isinstance(place, budgets.Refusal):
        return place.applied_to(_start_page(request, new_error=place.message,
                                            pen_name_form=form, codename_style=style))
    author, codename = create_author(form.cleaned_data["pen_name"], style)
    log_in_author(request, author)
    response = _codename_page(request, author, codename)
    first_session.remember(request, response, codename)
    # No reply key yet: it is made when first needed (replykeys.ready_for_replies),
    # from the secret this cookie carries, so a codename never used again costs no key.
    unlock.remember(request, response, author, reply_secret_for(codename))
    return response


# The language switcher: a plain form, so it works without JavaScript. Django's
# view accepts only a `next` on this site and sets the cookie configured in
# settings (HttpOnly, SameSite=Strict, gone when the browser closes).
set_language = public(require_POST(i18n.set_language))


@public
@require_POST
def login(request: HttpRequest) -> HttpResponse:
    form = CodenameForm(request.POST)
    attempt = attempt_codename(request, form.data.get("codename", "")) if form.is_valid() \
        else None
    # What she typed comes back in the field, shown if she asked to see it, so she
    # can find the wrong word (it is only what this request carried).
    typed = {"typed": form.data.get("codename", "")[:codenames.MAX_INPUT_CHARS],
             "show_typed": request.POST.get("show") == "yes"}
    if attempt is not None and attempt.refusal is not None:
        return attempt.refusal.applied_to(_start_page(request, login_error=attempt.refusal.message,
                                                      **typed))
    if attempt is None or attempt.author is None:
        # One message for every failure: unknown, mistyped, malformed or too long.
        return _start_page(request, status=403, login_error=_(
            "That codename was not recognised. Check each word and try again."), **typed)
    author = attempt.author
    log_in_author(request, author)
    unused_identities.mark_came_back(author)
    if author.submissions.exists():  # type: ignore[attr-defined]
        # Editors may answer what they sent: a key that names the portal is replaced, a
        # missing one made. If that fails, logging in still works; it is tried again later.
        with suppress(replykeys.NoReplyKey):
            replykeys.ready_for_replies(author, attempt.secret)
    response = redirect("authors:home")
    unlock.remember(request, response, author, attempt.secret)
    first_session.forget(response)  # a later session never shows the codename again
    return response


@public
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    log_out(request)
    response = redirect("authors:logged_out")
    unlock.forget(response)
    first_session.forget(response)
    return response


@public
@require_GET
def logged_out(request: HttpRequest) -> HttpResponse:
    """What to do next, as SecureDrop advises: end the browser session, not just ours."""
    return render(request, "authors/logged_out.html", {"author": current_author(request)})


@require_GET
@author_required
def codename_again(request: HttpRequest, author: Author) -> HttpResponse:
    """The codename once more, in the session it was made in (see first_session)."""
    codename = first_session.codename(request)
    if codename is None:
        return render(request, "authors/codename_gone.html", {"author": author})
    return _codename_page(request, author, codename, again=True)


@require_POST
@expired_aware("other")
@author_required
def check_codename(request: HttpRequest, author: Author) -> HttpResponse:
    """Typed back once from paper: proof it was written down before she goes on."""
    codename = first_session.codename(request)
    if codename is None:
        return redirect("authors:home")
    typed = request.POST.get("check-codename", "")[:codenames.MAX_INPUT_CHARS]
    if not first_session.typed_back(request, typed):
        return _codename_page(request, author, codename, status=400, typed=typed, check_error=_(
            "These words are not your codename. Compare what you wrote down with the words "
            "above, word by word, and type it again."))
    first_session.mark_checked(request)
    return redirect(reverse("authors:home") + "?checked=1")


def _home_context(request: HttpRequest, author: Author, **extra: Any) -> dict[str, Any]:
    submissions = list(author.submissions.filter(revision_of__isnull=True).annotate(
        n_versions=Count("revisions", distinct=True) + 1,
        n_messages=Count("messages", distinct=True),
        n_from_editors=Count("messages", distinct=True, filter=Q(messages__sender="editor"))))
    versions = list(author.submissions.order_by("version"))  # type: ignore[attr-defined]
    opened = titles.titles(author, versions, unlock.secret(request, author)) if submissions else {}
    for submission in submissions:
        # Editors' messages not yet on her screen, and the newest title her key opens.
        submission.n_unread = max(  # type: ignore[attr-defined]
            0, submission.n_from_editors - submission.editor_messages_seen)
        submission.title = next(  # type: ignore[attr-defined]
            (opened[v.pk] for v in reversed(versions)
             if v.pk in opened and (v.revision_of_id or v.pk) == submission.pk), "")
    return {
        "author": author,
        "submissions": submissions,
        "first_session": first_session.codename(request) is not None,
        "unchecked": not first_session.checked(request),
        "pen_name_form": PenNameForm(initial={"pen_name": author.pen_name}),
        "submission_form": extra.pop("submission_form", SubmissionForm()),
        "open": submissions_open(),
        "limits": upload_limits(),
        **extra,
    }


def upload_limits() -> dict[str, int]:
    return {
        "files": settings.PORTAL_MAX_FILES,
        "file_mb": settings.PORTAL_MAX_FILE_BYTES // MiB,
        "total_mb": settings.PORTAL_MAX_SUBMISSION_BYTES // MiB,
    }


@require_GET
@author_required
def home(request: HttpRequest, author: Author) -> HttpResponse:
    return render(request, "authors/home.html", _home_context(
        request, author, codename_checked=request.GET.get("checked") == "1"))


@require_POST
@expired_aware("other")
@author_required
def change_pen_name(request: HttpRequest, author: Author) -> HttpResponse:
    form = PenNameForm(request.POST)
    if not form.is_valid():
        return render(request, "authors/home.html", _home_context(request, author, pen_name_form=form),
                      status=400)
    author.pen_name = form.cleaned_data["pen_name"]
    author.save(update_fields=["pen_name"])
    return redirect("authors:home")


# --- Upload, review, confirm ---------------------------------------------------------


@require_POST
@csrf_exempt
def submit(request: HttpRequest) -> HttpResponseBase:
    """Stream the upload into the spool, then run the protected view.

    CSRF is checked by `_submit` (csrf_protect); it has to be inside, because
    the upload handler must be in place before anything reads the body.
    """
    author = current_author(request)
    if author is None and session_expired(request):
        # Say what was not sent; the body is never read.
        return expired_page(request, "upload")
    if author is not None:
        # Counted before a byte of the body is read (the CSRF check inside reads it),
        # and only for a logged-in author: anyone else is turned away unread below.
        place = budgets.UPLOADS.take(request)
        if isinstance(place, budgets.Refusal):
            return place.applied_to(render(request, "authors/home.html",
                                           _home_context(request, author, upload_error=place.message)))
    handler = SpoolingUploadHandler(request)
    request.upload_handlers = [handler]
    content_length = int(request.META.get("CONTENT_LENGTH") or 0)
    try:
        declared_too_large = content_length > settings.PORTAL_MAX_SUBMISSION_BYTES + 1 * MiB
        if declared_too_large:
            handler.refusal = UploadRefused(Problem.SUBMISSION_TOO_LARGE,
                                            settings.PORTAL_MAX_SUBMISSION_BYTES)
        return _submit(request, handler=handler, unread=declared_too_large)
    finally:
        # Whatever happened, no raw spool outlives the request; the pending
        # upload (if any) holds the cleaned copies under its own key.
        handler.discard()


submit.access = "author"  # type: ignore[attr-defined]


@csrf_protect
@author_required
def _submit(request: HttpRequest, author: Author, handler: SpoolingUploadHandler,
            unread: bool = False) -> HttpResponse:
    pending_uploads.sweep()
    if not (request.content_type or "").startswith("multipart/form-data") and handler.refusal is None:
        handler.refusal = UploadRefused(Problem.NOT_MULTIPART)
        unread = True
    if unread and handler.refusal is not None:  # refused by what it declared: never read
        return _home_again(request, author, handler.refusal.sentence())
    # Reading POST streams the upload through the handler. A limit broken while
    # streaming stops it there: the fields before that point (title and message
    # come first in the form) are kept for the form.
    form = SubmissionForm(request.POST)
    if handler.refusal is not None:
        form.is_valid()
        return _home_again(request, author, handler.refusal.sentence(), form, files_again=True)
    uploads = [f.spooled for f in request.FILES.getlist("files")
               if isinstance(f, SpooledUploadedFile)]
    if not form.is_valid():
        return _home_again(request, author, None, form)
    if not uploads:
        return _home_again(request, author, Problem.NO_FILES.sentence(), form)
    for upload in uploads:
        if upload.size == 0:
            return _home_again(request, author, Problem.EMPTY_FILE.sentence(name=upload.name),
                               form)
    if not submissions_open():
        return _home_again(request, author, None, form)
    revision_of = str(form.cleaned_data["revision_of"] or "")
    if revision_of:
        try:
            revision_target(author, revision_of)
        except RevisionRefused:
            return _home_again(request, author, _revision_refused(), form)
    try:
        pending = pending_uploads.create(
            str(author.pk), form.cleaned_data["title"], form.cleaned_data["message"], uploads,
            revision_of=revision_of,
        )
    except pending_uploads.CleanersBusy:  # every cleaning slot taken: come back later
        return busy_page(request, author)
    except (OSError, SpoolCorrupt, CleaningRefused) as exc:
        count(f"upload could not be prepared: {type(exc).__name__}")
        return _home_again(request, author, Problem.DISK.sentence(), form)
    handler.completed.clear()  # the raw spools were consumed and deleted by create()
    unused_identities.note_upload_waiting(author)
    owned = request.session.get(SESSION_PENDING, [])[-(MAX_PENDING_PER_SESSION - 1):]
    request.session[SESSION_PENDING] = [*owned, pending.id]
    return _review(request, author, pending)


def _home_again(request: HttpRequest, author: Author, error: str | None,
                form: SubmissionForm | None = None, files_again: bool = False,
                status: int = 400) -> HttpResponse:
    # A browser never fills a file field again: say so when the other fields are kept.
    context = _home_context(request, author, upload_error=error,
                            files_again=files_again or form is not None)
    if form is not None:
        context["submission_form"] = form
    return render(request, "authors/home.html", context, status=status)


def _review(request: HttpRequest, author: Author, pending: pending_uploads.Pending,
            error: str | None = None, status: int = 200) -> HttpResponse:
    # After a refused confirmation the author's ticks are shown as they left them.
    ticked = request.POST if request.method == "POST" and "pending" in request.POST else {}
    files = [{"file": f, **describe(f),
              "keep_name": ticked.get(f"keep_name_{f.index}") == "yes",
              "send_uncleaned": ticked.get(f"send_uncleaned_{f.index}") == "yes"}
             for f in pending.files]
    nothing_sendable = all(f.never_sent for f in pending.files)
    if nothing_sendable and error is None:
        error = _nothing_sendable()
    return render(request, "authors/review.html", {
        "author": author, "pending": pending, "files": files, "error": error,
        "nothing_sendable": nothing_sendable,
    }, status=status)


def _nothing_sendable() -> str:
    return _("None of these files can be sent, not even without cleaning: the reason is under "
             "each one. Nothing was sent. Please cancel, and upload other files.")


def _owned_pending(request: HttpRequest, author: Author) -> pending_uploads.Pending | None:
    pending_id = request.POST.get("pending", "")
    if pending_id not in request.session.get(SESSION_PENDING, []):
        return None
    try:
        pending = pending_uploads.load(pending_id, request.POST.get("key", ""))
    except pending_uploads.PendingGone:
        return None
    return pending if pending.author_id == str(author.pk) else None


def _gone(request: HttpRequest, author: Author) -> HttpResponse:
    return _home_again(request, author, _("This upload is no longer waiting: it was sent "
                                          "already, cancelled, or it expired after an hour. "
                                          "Please upload it again if it was not sent."))


def _pressed_again(request: HttpRequest, author: Author) -> HttpResponse:
    """The same confirm again (a double press, a reload): where it went, never "maybe sent"."""
    pending_id = request.POST.get("pending", "")
    first = pressed_twice.first_press_result(request, pending_id, SESSION_SENT,
                                             request.session.get(SESSION_PENDING, []))
    if first == "":
        return _home_again(request, author, _(
            "This upload is being sent right now: the button was pressed twice. It will be on "
            "this page as soon as it has arrived. Please do not upload it again."), status=409)
    sent = first or request.session.get(SESSION_SENT, {}).get(pending_id)
    if sent and author.submissions.filter(public_id=sent).exists():
        return redirect(reverse("authors:received", kwargs={"public_id": sent}) + "?again=1")
    pending = _owned_pending(request, author)  # the first press failed and gave it back
    if pending is not None:
        return _review(request, author, pending)
    return _gone(request, author)


@require_POST
@expired_aware("confirm")
@author_required
def confirm(request: HttpRequest, author: Author) -> HttpResponse:
    pending = _owned_pending(request, author)
    if pending is None:
        return _pressed_again(request, author)
    # Only files the author may send uncleaned count, whatever else the form says:
    # a program, a document with macros or an archive is never sent.
    include = {f.index for f in pending.files
               if f.may_send_uncleaned and request.POST.get(f"send_uncleaned_{f.index}") == "yes"}
    keep_names = frozenset(f.index for f in pending.files
                           if request.POST.get(f"keep_name_{f.index}") == "yes")
    if all(f.never_sent for f in pending.files):
        return _review(request, author, pending, _nothing_sendable(), status=400)
    if not any(f.status != "refused" for f in pending.files) and not include:
        return _review(request, author, pending, _("No file can be sent: every file was refused. "
                                                   "Tick “send without cleaning” for a file, or "
                                                   "cancel."), status=400)
    # Editors must be able to answer whatever arrives: the reply key is made now if
    # this author has none yet, before anything is sent.
    try:
        replykeys.ready_for_replies(author, unlock.secret(request, author))
    except replykeys.NoReplyKey as missing:
        return _review(request, author, pending, missing.sentence(), status=missing.status)
    try:
        claimed = pending_uploads.claim(pending.id)
    except pending_uploads.PendingGone:
        return _pressed_again(request, author)
    try:
        submission = send(author, pending, claimed, include, keep_names)
    except RevisionRefused:
        pending_uploads.release(pending.id, claimed)
        return _review(request, author, pending, _revision_refused(), status=400)
    except SubmissionsClosed:
        pending_uploads.release(pending.id, claimed)
        return _review(request, author, pending, _("Submissions are closed right now: no editor "
                                                   "can receive them. Nothing was sent. Please "
                                                   "try again later."), status=503)
    except SendFailed as exc:
        pending_uploads.release(pending.id, claimed)
        reasons = {
            "encryption": _("Encryption failed on the server, so nothing was sent or kept."),
            "storage": _("The server could not save your submission (its storage failed), so "
                         "nothing was kept."),
            "database": _("The server could not record your submission, so nothing was kept."),
        }
        return _review(request, author, pending,
                       reasons[exc.stage] + " " + _("You can try again, or cancel."), status=503)
    try:
        titles.keep_title(submission, pending.title)  # her own page; the manifest has the editors'
        unused_identities.mark_came_back(author)
        request.session[SESSION_PENDING] = [
            p for p in request.session.get(SESSION_PENDING, []) if p != pending.id
        ]
        # Which of this session's uploads became which submission, so a repeated confirm can
        # say so. Only in the session: it ends with it.
        sent = list(request.session.get(SESSION_SENT, {}).items())[-(MAX_PENDING_PER_SESSION - 1):]
        request.session[SESSION_SENT] = {**dict(sent), pending.id: str(submission.public_id)}
        # Saved before the claim goes: a second press waiting for this one (pressed_twice)
        # reads the session the moment the claim is gone.
        request.session.save()
    finally:
        pending_uploads.remove_claimed(claimed)
    return redirect(reverse("authors:received", kwargs={"public_id": submission.public_id})
                    + "?sent=1")


def _revision_refused() -> str:
    return _("This submission no longer takes new versions (it was decided, withdrawn, or has "
             "reached %(n)d versions). Nothing was sent.") % {"n": sending.MAX_VERSIONS}


@require_POST
@expired_aware("other")
@author_required
def cancel(request: HttpRequest, author: Author) -> HttpResponse:
    pending_id = request.POST.get("pending", "")
    if pending_id in request.session.get(SESSION_PENDING, []):
        pending_uploads.discard(pending_id)
        request.session[SESSION_PENDING] = [
            p for p in request.session.get(SESSION_PENDING, []) if p != pending_id
        ]
    return redirect("authors:home")

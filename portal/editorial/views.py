"""Editor pages: a submission's workflow and notes, keys and editors. Metadata only.

Who may call what (decided in `portal.access`): every view here needs an
active editor with a verified OTP device; assigning, decisions, managing
editors, adding, approving and deactivating keys and the audit log need a
managing editor. Every editor sees the key list, read-only. No view decrypts anything:
drafts are read on the editor's own machine. Ciphertext downloads are always
attachments with `nosniff`, never rendered inline.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_otp import match_token

from portal.access import (
    editor_of,
    editor_required,
    editor_user,
    log_out_everywhere,
    managing_editor_required,
)
from portal.correspondence import thread
from portal.correspondence.forms import ReplyForm
from portal.correspondence.models import Message
from portal.correspondence.replykeys import active_key
from portal.crypto.openpgp import KeyUnusable
from portal.editors import changes, keys
from portal.editors.models import Assignment, Editor, Note
from portal.sanitize.messages import KIND_NAMES
from portal.store import Store
from portal.submissions import audit, workflow
from portal.submissions import recipients as editor_keys
from portal.submissions.models import AuditEvent, EditorKey, Submission
from portal.submissions.sealing import NotSealed, Stage, sealing

from .forms import (
    ApproveKeyForm,
    AssignForm,
    KeyForm,
    NewEditorForm,
    NoteForm,
    SeenForm,
    StateForm,
)


def submission_or_404(public_id: Any) -> Submission:
    return get_object_or_404(Submission.objects.select_related("author"), public_id=public_id)


@require_GET
@editor_required
def submission_page(request: HttpRequest, public_id: Any) -> HttpResponse:
    return render_submission(request, submission_or_404(public_id))


def render_submission(request: HttpRequest, submission: Submission, error: str = "",
                       status: int = 200, note_form: NoteForm | None = None,
                       reply_form: Any = None, state_form: StateForm | None = None) -> HttpResponse:
    submission = submission.first_version
    editor = editor_of(request.user)
    by_fingerprint = {k.fingerprint: k for k in EditorKey.objects.select_related("user")}
    readers = [{"fingerprint": f, "key": by_fingerprint.get(f)} for f in submission.recipients]
    labels = dict(Submission.State.choices)
    order = list(Submission.State.values)
    targets = sorted(workflow.allowed_targets(submission, editor), key=order.index)
    return render(request, "editorial/submission.html", {
        "submission": submission,
        "files": submission.files.all(),
        "readers": readers,
        "history": [
            {"change": c, "from": labels.get(c.from_state, c.from_state),
             "to": labels.get(c.to_state, c.to_state)}
            for c in submission.state_changes.select_related("by")  # type: ignore[attr-defined]
        ],
        "assignees": [a.editor for a in submission.assignments.select_related("editor")],  # type: ignore[attr-defined]
        "editors": get_user_model().objects.filter(is_active=True, editor__isnull=False),
        "notes": submission.notes.select_related("written_by"),  # type: ignore[attr-defined]
        "targets": targets,
        # One form for "request revisions" with its message; from "new" it passes
        # through "in review" (see change_state).
        "may_request_revisions": Submission.State.REVISIONS_REQUESTED in targets or (
            submission.state == Submission.State.NEW and editor is not None
            and editor.is_managing),
        "state_labels": dict(Submission.State.choices),
        "note_form": note_form or NoteForm(),
        "versions": [{"version": v, "files": [
            {"file": f, "kind": gettext(KIND_NAMES.get(f.kind, f.kind)) if f.kind else "?"}
            for f in v.files.all()]} for v in submission.versions()],
        # Not "messages": that name is the messages framework's (the confirmations).
        "thread": [
            {"message": m, "decision": labels.get(m.decision, "") if m.decision else ""}
            for m in submission.messages.select_related("written_by")  # type: ignore[attr-defined]
        ],
        "reply_form": reply_form or ReplyForm(),
        "state_form": state_form or StateForm(),
        "author_key": active_key(submission.author),
        "error": error,
    }, status=status)


@require_POST
@editor_required
def change_state(request: HttpRequest, public_id: Any) -> HttpResponse:
    """Move the submission; a message written with the decision goes to the author with it.

    The move and its message are one action: if the message cannot be sent, the
    state does not change either (the transaction is rolled back), so the author
    never sees a decision without the words that came with it. Revisions can be
    requested of a new submission in one step: it is taken into review first,
    and both changes are recorded.
    """
    submission = submission_or_404(public_id).first_version
    form = StateForm(request.POST)
    if not form.is_valid():
        return render_submission(request, submission, _("Unknown state, or the message is too "
                                                         "long."), status=400, state_form=form)
    target = form.cleaned_data["target"]
    text = form.cleaned_data["message"]
    try:
        with transaction.atomic():
            if target == Submission.State.REVISIONS_REQUESTED \
                    and submission.state == Submission.State.NEW:
                workflow.change_state(submission, Submission.State.IN_REVIEW, request.user)
            workflow.change_state(submission, target, request.user)
            if text:
                thread.post(submission, text, sender=Message.Sender.EDITOR,
                            user=editor_user(request), decision=target)
                audit.record(request.user, "reply", submission.short_id, via="web",
                             decision=target)
    except workflow.TransitionRefused as refused:
        submission.refresh_from_db()
        return render_submission(request, submission, str(refused), status=400, state_form=form)
    except thread.MessageNotSent as failed:
        submission.refresh_from_db()
        return render_submission(request, submission, _(
            "The state was not changed and the message was not sent: %(reason)s") % {
            "reason": failed.reason.sentence()}, status=503, state_form=form)
    label = workflow.LABELS.get(target, target)
    if text:
        messages.success(request, _("The state is now “%(state)s”; your message was sent to the "
                                    "author with it.") % {"state": label})
    else:
        messages.success(request, _("The state is now “%(state)s”.") % {"state": label})
    return redirect("editorial:submission", public_id=submission.public_id)


@require_POST
@managing_editor_required
def assign(request: HttpRequest, public_id: Any) -> HttpResponse:
    submission = submission_or_404(public_id)
    form = AssignForm(request.POST)
    if not form.is_valid():
        return render_submission(request, submission, _("Choose an editor."), status=400)
    user = get_user_model().objects.filter(
        pk=form.cleaned_data["editor"], is_active=True, editor__isnull=False
    ).first()
    if user is None:
        return render_submission(request, submission, _("No such editor."), status=400)
    existing = Assignment.objects.filter(submission=submission, editor=user)
    existing_before = existing.exists()
    if existing_before:
        existing.delete()
        audit.record(request.user, "unassign", submission.short_id, editor=user.get_username())
    else:
        Assignment.objects.create(submission=submission, editor=user, assigned_by=editor_user(request))
        audit.record(request.user, "assign", submission.short_id, editor=user.get_username())
    messages.success(request, (_("%(editor)s is no longer assigned.") if existing_before
                               else _("%(editor)s is now assigned.")) % {
        "editor": user.get_username()})
    return redirect("editorial:submission", public_id=submission.public_id)


@require_POST
@editor_required
def add_note(request: HttpRequest, public_id: Any) -> HttpResponse:
    """An internal note from the web form: the server encrypts it on arrival, as it says."""
    import io

    submission = submission_or_404(public_id)
    form = NoteForm(request.POST)
    if not form.is_valid():
        return render_submission(request, submission, _("The note is empty or too long."),
                                  status=400, note_form=form)
    try:
        with sealing() as seal:
            blob = seal.put(io.BytesIO(form.cleaned_data["text"].encode()))
            with transaction.atomic():
                Note.objects.create(submission=submission, written_by=editor_user(request),
                                    blob=blob, ciphertext_bytes=seal.size(blob),
                                    recipients=seal.editors)
    except NotSealed as failed:
        if failed.stage is Stage.DATABASE:
            raise
        return render_submission(request, submission, _("The note could not be encrypted and "
                                                         "was not saved."), status=503)
    audit.record(request.user, "note", submission.short_id)
    messages.success(request, _("Your note was saved, encrypted to every editor’s key."))
    return redirect("editorial:submission", public_id=submission.public_id)


@require_GET
@editor_required
def download(request: HttpRequest, public_id: Any, name: str) -> HttpResponseBase:
    submission = submission_or_404(public_id)
    labels = {submission.manifest_blob: f"{submission.short_id}-manifest.json.gpg"}
    for row in submission.files.all():
        labels[row.blob] = (f"{submission.short_id}-file{row.safe_copy_of + 1}-safe.pdf.gpg"
                            if row.safe_copy_of is not None
                            else f"{submission.short_id}-file{row.position + 1}.gpg")
    for note in submission.notes.all():  # type: ignore[attr-defined]
        labels[note.blob] = f"{submission.short_id}-note{note.pk}.txt.gpg"
    for number, message in enumerate(submission.messages.all(), start=1):  # type: ignore[attr-defined]
        labels[message.blob] = f"{submission.short_id}-message{number}.txt.gpg"
    if name not in labels:
        raise Http404("no such file in this submission")
    try:
        handle = Store.default().open(name)
    except (OSError, ValueError):
        raise Http404("ciphertext missing") from None
    audit.record(request.user, "download", submission.short_id, file=labels[name])
    response = FileResponse(handle, as_attachment=True, filename=labels[name],
                            content_type="application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Keys and editors ---------------------------------------------------------------------


def _fresh_otp(request: HttpRequest, form: Any) -> bool:
    return match_token(request.user, form.cleaned_data["otp_token"]) is not None


@require_GET
@editor_required
def keys_page(request: HttpRequest) -> HttpResponse:
    return render_keys(request)


def render_keys(request: HttpRequest, form: KeyForm | None = None, error: str = "",
                approve_error: tuple[int, str] | None = None, status: int = 200) -> HttpResponse:
    """Every editor sees every key and who proposed and approved it; managing editors act."""
    editor = editor_of(request.user)
    ring = editor_keys.keyring()
    rows = []
    for key in EditorKey.objects.select_related("user", "proposed_by", "approved_by"):
        refusal = keys.approval_refusal(key, request.user) if key.pending else None
        rows.append({"key": key, "info": ring.key_info(key.fingerprint),
                     "may_approve": key.pending and editor.is_managing and not refusal,
                     "why_not": refusal.sentence() if refusal else "",
                     "error": approve_error[1] if approve_error and approve_error[0] == key.pk
                     else ""})
    if form is None and editor.is_managing:
        form = KeyForm(initial={"owner": request.user.pk})
    return render(request, "editorial/keys.html", {
        "rows": rows, "form": form, "error": error, "approve_form": ApproveKeyForm(),
        "managing": editor.is_managing,
    }, status=status)


@require_POST
@managing_editor_required
def add_key(request: HttpRequest) -> HttpResponse:
    """Propose a key (managing editors, fresh code); it waits for a second managing editor."""
    form = KeyForm(request.POST)
    if not form.is_valid():
        return render_keys(request, form, status=400)
    if not _fresh_otp(request, form):
        return render_keys(request, form, _("The code from your authenticator was not accepted."),
                           status=400)
    owner = get_user_model().objects.get(pk=form.cleaned_data["owner"])
    try:
        keys.add_key(owner, form.cleaned_data["armored"], proposed_by=editor_user(request))
    except keys.KeyAlreadyRegistered as refused:
        return render_keys(request, form, _("This key was not added: %(reason)s.") % {
            "reason": refused.refusal.sentence()}, status=400)
    except KeyUnusable as refused:
        return render_keys(request, form, _("This key cannot be used: %(reason)s.") % {
            "reason": refused}, status=400)
    return redirect("editorial:keys")


@require_POST
@managing_editor_required
def approve_key(request: HttpRequest, pk: int) -> HttpResponse:
    """The second person: a managing editor who neither proposed nor owns the key, fresh code."""
    key = get_object_or_404(EditorKey, pk=pk)
    form = ApproveKeyForm(request.POST)
    if not form.is_valid():
        return render_keys(request, approve_error=(key.pk, _(
            "The code from your authenticator was not accepted.")), status=400)
    # Who may not approve is told so before a code is spent on it.
    refusal = keys.approval_refusal(key, editor_user(request))
    if refusal is not None:
        return render_keys(request, approve_error=(key.pk, refusal.sentence()),
                           status=403)
    if not _fresh_otp(request, form):
        return render_keys(request, approve_error=(key.pk, _(
            "The code from your authenticator was not accepted.")), status=400)
    try:
        keys.approve_key(key, editor_user(request))
    except keys.ApprovalRefused as refused:
        return render_keys(request, approve_error=(key.pk, refused.refusal.sentence()),
                           status=403)
    return redirect("editorial:keys")


@require_POST
@managing_editor_required
def deactivate_key(request: HttpRequest, pk: int) -> HttpResponse:
    """One managing editor may stop a key at once (a lost laptop); every editor is told."""
    key = get_object_or_404(EditorKey.objects.select_related("user"), pk=pk)
    if key.active:
        keys.deactivate_key(key, editor_user(request))
    return redirect("editorial:keys")


@require_POST
@editor_required
def changes_seen(request: HttpRequest) -> HttpResponse:
    """Mark the listed key and account changes as seen (they leave this editor's pages)."""
    form = SeenForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    changes.acknowledge(editor_of(request.user), form.cleaned_data["through"])
    target = form.cleaned_data["next"]
    if not (target.startswith("/editor/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts=None)):
        target = reverse("editorial:dashboard")
    return redirect(target)


@managing_editor_required
def editors_page(request: HttpRequest) -> HttpResponse:
    form = NewEditorForm(request.POST or None)
    error = ""
    created: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        if not _fresh_otp(request, form):
            error = _("The code from your authenticator was not accepted.")
        elif get_user_model().objects.filter(username=form.cleaned_data["username"]).exists():
            error = _("That username is taken.")
        else:
            password = secrets.token_urlsafe(18)
            try:
                with transaction.atomic():
                    user = get_user_model().objects.create_user(
                        form.cleaned_data["username"], password=password)
                    Editor.objects.create(user=user, role=form.cleaned_data["role"],
                                          changes_seen=changes.newest_event_id())
                    audit.record(request.user, "editor-added", user.get_username(),
                                 role=form.cleaned_data["role"])
                    # Proposed only: a second managing editor approves it on the keys page.
                    keys.add_key(user, form.cleaned_data["armored"],
                                 proposed_by=editor_user(request))
            except keys.KeyAlreadyRegistered as refused:
                error = _("This key was not added: %(reason)s.") % {
                    "reason": refused.refusal.sentence()}
            except KeyUnusable as refused:
                error = _("This key cannot be used: %(reason)s.") % {"reason": refused}
            else:
                created = {"username": user.get_username(), "password": password}
                form = NewEditorForm()
    editors = Editor.objects.select_related("user").annotate(
        n_keys=Count("user__openpgp_keys", filter=Q(user__openpgp_keys__active=True)))
    return render(request, "editorial/editors.html", {
        "editors": editors, "form": form, "error": error, "created": created,
    }, status=400 if error else 200)


@require_POST
@managing_editor_required
def deactivate_editor(request: HttpRequest, pk: int) -> HttpResponse:
    editor = get_object_or_404(Editor.objects.select_related("user"), pk=pk)
    if editor.user == request.user:
        raise PermissionDenied("you cannot remove yourself")
    with transaction.atomic():
        editor.user.is_active = False
        editor.user.save(update_fields=["is_active"])
        stopped = EditorKey.objects.filter(user=editor.user, active=True).update(active=False)
    log_out_everywhere(editor.user)
    audit.record(request.user, "editor-removed", editor.user.get_username(), keys=stopped)
    return redirect("editorial:editors")


@require_GET
@managing_editor_required
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(request, "editorial/audit.html",
                  {"events": AuditEvent.objects.select_related("actor")[:500]})

"""The JSON API for portal-editor, under /api/v1/ (described in openapi.py).

Who may call what: `token` (issue a token after password + OTP, throttled per
account) and `openapi` are public; everything else needs a valid API token of
an active editor (`portal.access.api_editor_required`), the same permission
module as the web pages, and the token's scope for that view
(`portal.access.api_answers`): reading and confirming re-encrypted copies
need `read`, notes `note`, replies `reply`, and proposing a re-encrypted copy
`reencrypt` (managing editors only). The submissions list leaves out hidden
authors (`portal.submissions.hiding`) unless `hidden=1` asks for them; a
submission named by its id is always answered. The server only ever sends and
receives ciphertext: uploads to `notes` and `blob` (PUT) must be OpenPGP messages
encrypted to public keys, and anything else is answered with 400. A PUT never
replaces anything by itself: see `portal.editors.replacement`.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from uuid import UUID

from django.contrib.auth import authenticate
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django_otp import match_token

from portal.access import (
    ApiRequest,
    api_answers,
    api_editor_required,
    api_public,
    editor_of,
)
from portal.correspondence import thread
from portal.editors import changes, keys, replacement
from portal.editors.models import Note, Replacement
from portal.editors.throttle import Throttle, known_user, record_failure
from portal.store import Store, StoreError
from portal.submissions import audit, hiding
from portal.submissions import recipients as editor_keys
from portal.submissions.ciphertext import names_of
from portal.submissions.models import EditorKey, Submission
from portal.submissions.tokens import DEFAULT_SCOPES, NOTE, READ, REENCRYPT, REPLY, SCOPES, ApiToken

from .openapi import SPEC
from .serializers import submission_detail, submission_summary

MAX_JSON_BYTES = 4 * 1024
MAX_NOTE_BYTES = 1024 * 1024
RANGE_RE = re.compile(r"^bytes=(\d{1,15})-$")


# What the API says when a reply is not kept (English: read by portal-editor's users).
_REPLY_REFUSALS = {
    thread.NotSent.AUTHOR_KEY: "X-Penname-Reply-Key must name the author's current reply key",
    thread.NotSent.FULL: "this thread has reached its message limit",
    thread.NotSent.REFUSED: "not stored: not an OpenPGP message encrypted to public keys, or "
                            "larger than 1 MiB",
}


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    raw = request.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        return None
    try:
        data = json.loads(raw or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


@api_public
def token(request: HttpRequest) -> HttpResponseBase:
    """POST {username, password, otp_token} → a new token; DELETE (with a token) revokes it."""
    if request.method == "DELETE":
        return revoke_token(request)
    if request.method != "POST":
        return _error("use POST", 405)
    data = _json_body(request)
    if data is None:
        return _error("send a JSON object with username, password and otp_token", 400)
    username = str(data.get("username", ""))[:150]
    scopes = _scopes(data.get("scopes"))
    if scopes is None:
        return _error(f"scopes must be some of: {', '.join(SCOPES)}", 400)
    throttle = Throttle(username)
    if throttle.locked():
        return _error("too many failed attempts for this account; try again later", 429)
    user = authenticate(request, username=username, password=str(data.get("password", ""))[:1024])
    device = match_token(user, str(data.get("otp_token", ""))[:16]) if user is not None else None
    if user is None or editor_of(user) is None or device is None:
        # As the web login does: a known account is named, an unknown one is not
        # (its "name" is often a password typed into the wrong field).
        record_failure(throttle, known_user(username), "api-login-failed")
        return _error("username, password or code not accepted", 401)
    throttle.succeed()
    if REENCRYPT in scopes and not editor_of(user).is_managing:
        return _error("the reencrypt scope is for managing editors", 403)
    row, secret = ApiToken.issue(user, label=str(data.get("label", "portal-editor")),
                                 scopes=scopes)
    audit.record(user, "api-token-issued", username, token=row.pk, scopes=row.scopes)
    return JsonResponse({"token": secret, "expires": row.expires.isoformat(),
                         "scopes": row.scopes}, status=201)


def _scopes(value: Any) -> list[str] | None:
    """The scopes asked for (a list or a comma-separated string), or None if any is unknown."""
    if value is None:
        return list(DEFAULT_SCOPES)
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or len(value) > len(SCOPES):
        return None
    asked = [str(v).strip() for v in value if str(v).strip()]
    return asked if asked and set(asked) <= set(SCOPES) else None


@api_editor_required
def revoke_token(request: ApiRequest) -> HttpResponse:
    row = request.api_token
    row.revoked = True
    row.save(update_fields=["revoked"])
    audit.record(request.user, "api-token-revoked", request.user.get_username(), token=row.pk)
    return HttpResponse(status=204)


@api_public
def openapi(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _error("use GET", 405)
    return JsonResponse(SPEC)


@api_editor_required
@api_answers(GET=READ)
def submissions(request: ApiRequest) -> HttpResponseBase:
    rows = Submission.objects.select_related("author", "revision_of").order_by("id")
    # Hidden authors' submissions are left out (sync never fetches them) unless asked for:
    # re-encryption must reach them too, and an editor may look on purpose.
    if request.GET.get("hidden") != "1":
        rows = hiding.listed(rows)
    if request.GET.get("detail") == "1":
        # One request for everything a sync needs (names and sizes of every file).
        rows = rows.prefetch_related("files", "notes__written_by", "messages__written_by")
        listed = list(rows)
        sizes = _sizes([n for s in listed for n in names_of(s, readable_only=True)])
        return JsonResponse({"submissions": [submission_detail(s, sizes) for s in listed]})
    return JsonResponse({"submissions": [submission_summary(s) for s in rows]})


def _find(public_id: UUID) -> Submission | None:
    return Submission.objects.select_related("author").filter(public_id=public_id).first()


def _sizes(names: list[str]) -> dict[str, int]:
    target = Store.default()
    sizes = {}
    for name in names:
        try:
            sizes[name] = target.size(name)
        except (OSError, ValueError):
            sizes[name] = 0
    return sizes


@api_editor_required
@api_answers(GET=READ)
def submission(request: ApiRequest, public_id: UUID) -> HttpResponseBase:
    found = _find(public_id)
    if found is None:
        return _error("no such submission", 404)
    return JsonResponse(submission_detail(found, _sizes(names_of(found, readable_only=True))))


@api_editor_required
@api_answers(GET=READ, PUT=REENCRYPT)
def blob(request: ApiRequest, public_id: UUID, name: str) -> HttpResponseBase:
    """GET a ciphertext (resumable with `Range: bytes=N-`); PUT proposes a re-encrypted one."""
    found = _find(public_id)
    if found is None or name not in names_of(found, readable_only=True):
        return _error("no such file in this submission", 404)
    if request.method == "GET":
        return _download(request, name)
    if name not in replacement.replaceable_names(found):
        # Notes and thread messages are never replaced: that would forge their author.
        return _error("notes and messages cannot be replaced", 403)
    return _propose(request, found, name)


def _download(request: ApiRequest, name: str) -> HttpResponseBase:
    try:
        handle = Store.default().open(name)
        size = os.fstat(handle.fileno()).st_size
    except OSError:
        return _error("ciphertext missing on the server", 410)
    match = RANGE_RE.match(request.META.get("HTTP_RANGE", ""))
    start = int(match.group(1)) if match else 0
    if start >= size and size > 0:
        handle.close()
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        return refused
    # FileResponse sends from the current position and sets Content-Length to match.
    handle.seek(start)
    response = FileResponse(handle, content_type="application/octet-stream",
                            as_attachment=True, filename=name, status=206 if start else 200)
    if start:
        response["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _propose(request: ApiRequest, submission: Submission, name: str) -> HttpResponse:
    """Store a re-encrypted candidate beside `name`; it replaces it only when every key confirms."""
    try:
        proposed = replacement.propose(submission, name, request,  # type: ignore[arg-type]
                                       request.user,
                                       request.META.get("HTTP_X_PENNAME_PLAINTEXT_SHA256", "")[:80])
    except replacement.ReplacementRefused as refused:
        return _error(str(refused), refused.status)
    return JsonResponse({"replacement": proposed.pk, "state": proposed.state,
                         "candidate": proposed.candidate, "required": proposed.required},
                        status=202)


@api_editor_required
@api_answers(POST=NOTE)
def notes(request: ApiRequest, public_id: UUID) -> HttpResponseBase:
    """POST an internal note that the editor's machine already encrypted."""
    found = _find(public_id)
    if found is None:
        return _error("no such submission", 404)
    ring = editor_keys.keyring()
    try:
        name = Store.default().receive(request, MAX_NOTE_BYTES, ring.is_encrypted_message)  # type: ignore[arg-type]
    except StoreError as refused:
        return _error(f"not stored: {refused}", 400)
    note = Note.objects.create(
        submission=found, written_by=request.user, blob=name,
        ciphertext_bytes=Store.default().size(name),
        recipients=editor_keys.recipients(ring), encrypted_by_server=False,
    )
    audit.record(request.user, "note", found.short_id, via="api")
    return JsonResponse({"id": note.pk, "name": name}, status=201)


@api_editor_required
@api_answers(POST=REPLY)
def replies(request: ApiRequest, public_id: UUID) -> HttpResponseBase:
    """POST a reply to the author that the editor's machine encrypted (portal-editor reply).

    The body must be an OpenPGP message to public keys; `X-Penname-Reply-Key` names
    the author's reply key it was encrypted to, which must be their active one.
    """
    found = _find(public_id)
    if found is None:
        return _error("no such submission", 404)
    try:
        message = thread.receive(found, request, request.user,  # type: ignore[arg-type]
                                 request.META.get("HTTP_X_PENNAME_REPLY_KEY", "")[:80])
    except thread.MessageNotSent as refused:
        return _error(_REPLY_REFUSALS.get(refused.reason, f"not stored: {refused.reason}"),
                      409 if refused.reason is thread.NotSent.FULL else 400)
    audit.record(request.user, "reply", found.first_version.short_id, via="api")
    return JsonResponse({"id": message.pk, "name": message.blob}, status=201)


@api_editor_required
@api_answers(GET=READ)
def recipient_keys(request: ApiRequest) -> HttpResponseBase:
    """The public keys that new ciphertext must be encrypted to (for reply, note, reencrypt).

    Approved keys only: a key waiting for a second managing editor is not listed.
    """
    ring = editor_keys.keyring()
    usable = set(editor_keys.recipients(ring))
    rows = EditorKey.objects.filter(fingerprint__in=usable).select_related("user")
    return JsonResponse({"keys": [
        {"fingerprint": k.fingerprint, "editor": k.user.get_username(), "armored": k.armored}
        for k in rows
    ]})


@api_editor_required
@api_answers(GET=READ)
def key_changes(request: ApiRequest) -> HttpResponseBase:
    """Keys waiting for approval, and key, account, re-encryption and hiding changes of 30 days."""
    return JsonResponse({
        "pending": [{"fingerprint": k.fingerprint, "editor": k.user.get_username(),
                     "proposed_by": k.proposed_by.get_username() if k.proposed_by else None,
                     "proposed_on": k.added_on.isoformat()} for k in keys.pending_keys()],
        "changes": [changes.as_dict(e) for e in changes.recent()],
    })


@api_editor_required
@api_answers(GET=READ)
def replacements(request: ApiRequest) -> HttpResponseBase:
    """Re-encrypted copies waiting for confirmations; `mine` lists the caller's keys still to answer."""
    return JsonResponse({"replacements": replacement.waiting_for(request.user)})


@api_editor_required
@api_answers(GET=READ)
def replacement_candidate(request: ApiRequest, pk: int) -> HttpResponseBase:
    """The candidate ciphertext, for the editor's client to decrypt and check."""
    row = Replacement.objects.filter(pk=pk, state=Replacement.State.PENDING).first()
    if row is None:
        return _error("no such replacement waiting", 404)
    return _download(request, row.candidate)


@api_editor_required
@api_answers(POST=READ)
def replacement_confirmations(request: ApiRequest, pk: int) -> HttpResponseBase:
    """POST {fingerprint, plaintext_sha256, compared} or {fingerprint, refusal} for one own key."""
    data = _json_body(request)
    if data is None or not isinstance(data.get("fingerprint"), str):
        return _error("send a JSON object with fingerprint and plaintext_sha256 (and compared), "
                      "or fingerprint and refusal", 400)
    try:
        row = replacement.answer(
            pk, request.user, data["fingerprint"][:80],
            plaintext_sha256=str(data.get("plaintext_sha256", ""))[:80],
            compared=data.get("compared") is True, refusal=str(data.get("refusal", ""))[:40])
    except replacement.ReplacementRefused as refused_answer:
        return _error(str(refused_answer), refused_answer.status)
    return JsonResponse({"replacement": row.pk, "state": row.state, "reason": row.reason,
                         "outstanding": replacement.outstanding(row)
                         if row.state == Replacement.State.PENDING else []})

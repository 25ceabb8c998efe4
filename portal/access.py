"""Who may see what: every authorization decision in the portal lives here.

- Authors are identified by the session alone (they have no account): a
  session carries an author id only after a codename login, and every author
  view is wrapped in `author_required`. An author reaches only their own rows,
  through `own_submission()`.
- Editors pass a password and a verified OTP device (django-otp) on every
  request (`editor_required`); managing editors (`managing_editor_required`)
  also assign, decide, and manage editors and keys. The only editor page open
  without a verified device is first-time enrolment (`enrolment_required`),
  reachable only after the password, by an account that has no device yet.
- Editor sessions carry an epoch; "log out everywhere" bumps it, which ends
  every other session of that editor at its next request.
- API tokens carry scopes (read, note, reply, reencrypt); each API view asks
  for its scope with `api_scope_refusal`. Re-encryption is for managing
  editors, whatever the token says.

A test walks the URLconf and checks every view against these decorators.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import User
from django.db.models import F
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.utils import timezone

from portal.submissions.models import Author, Submission
from portal.submissions.tokens import REENCRYPT, ApiToken, digest

SESSION_AUTHOR = "author_id"
SESSION_EPOCH = "editor_epoch"
EDITOR_LOGIN = "editorial:login"
EDITOR_ENROL = "editorial:enrol"


def current_author(request: HttpRequest) -> Author | None:
    author_id = request.session.get(SESSION_AUTHOR)
    if not author_id:
        return None
    return Author.objects.filter(pk=author_id).first()


def author_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let the request through only with a logged-in author, passed as `author`."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        author = current_author(request)
        if author is None:
            return redirect("authors:start")
        return view(request, *args, author=author, **kwargs)

    wrapper.access = "author"  # type: ignore[attr-defined]
    return wrapper


def public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view as open to anyone (the URLconf test requires a mark on every view)."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def own_submission(author: Author, public_id: str) -> Submission:
    """The author's own submission, or 404 (never 403: do not confirm it exists)."""
    try:
        return Submission.objects.get(public_id=public_id, author=author)
    except (Submission.DoesNotExist, ValueError):
        raise Http404("no such submission") from None


def log_in_author(request: HttpRequest, author: Author) -> None:
    """Start a fresh session for this author (a new session key defeats fixation)."""
    request.session.flush()
    request.session.cycle_key()
    request.session[SESSION_AUTHOR] = str(author.pk)


def log_out(request: HttpRequest) -> None:
    request.session.flush()


# --- Editors -------------------------------------------------------------------------


class ApiRequest(HttpRequest):
    """A request `api_editor_required` let through: an editor's user and the token it used."""

    user: User  # type: ignore[assignment]
    api_token: ApiToken


def editor_user(request: HttpRequest) -> Any:
    """The logged-in editor's user object (for views already behind an editor decorator)."""
    return request.user


def editor_of(user: Any) -> Any:
    """The Editor profile of an active user, or None (authors and strangers have none)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    return getattr(user, "editor", None)


def has_confirmed_device(user: Any) -> bool:
    from django_otp import devices_for_user

    return any(True for _ in devices_for_user(user, confirmed=True))


def _session_current(request: HttpRequest, editor: Any) -> bool:
    return bool(request.session.get(SESSION_EPOCH) == editor.session_epoch)


def _editor_gate(request: HttpRequest, managing: bool) -> HttpResponseBase | None:
    """None if the request may proceed; otherwise the response that refuses it."""
    from django.core.exceptions import PermissionDenied

    user = getattr(request, "user", None)
    editor = editor_of(user)
    if editor is None or not _session_current(request, editor):
        return redirect(EDITOR_LOGIN)
    if not user.is_verified():  # type: ignore[union-attr]
        if not has_confirmed_device(user):
            return redirect(EDITOR_ENROL)
        return redirect(EDITOR_LOGIN)
    if managing and not editor.is_managing:
        raise PermissionDenied("managing editors only")
    return None


def editor_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A logged-in, OTP-verified, active editor of any role."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refusal = _editor_gate(request, managing=False)
        return refusal or view(request, *args, **kwargs)

    wrapper.access = "editor"  # type: ignore[attr-defined]
    return wrapper


def managing_editor_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A logged-in, OTP-verified, active managing editor."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        refusal = _editor_gate(request, managing=True)
        return refusal or view(request, *args, **kwargs)

    wrapper.access = "managing"  # type: ignore[attr-defined]
    return wrapper


def enrolment_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Password accepted, no confirmed device yet: only enrolment is open."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = getattr(request, "user", None)
        editor = editor_of(user)
        if editor is None or not _session_current(request, editor):
            return redirect(EDITOR_LOGIN)
        if user.is_verified():  # type: ignore[union-attr]
            return redirect("editorial:dashboard")
        if has_confirmed_device(user):
            return redirect(EDITOR_LOGIN)
        return view(request, *args, **kwargs)

    wrapper.access = "enrolment"  # type: ignore[attr-defined]
    return wrapper


def start_editor_session(request: HttpRequest, user: Any) -> None:
    """Record the editor's current epoch in a freshly logged-in session."""
    request.session[SESSION_EPOCH] = user.editor.session_epoch


def log_out_everywhere(user: Any) -> None:
    """End every session of this editor (each is checked against the epoch)."""
    type(user.editor).objects.filter(pk=user.editor.pk).update(session_epoch=F("session_epoch") + 1)
    ApiToken.objects.filter(user=user).update(revoked=True)


def api_tokens_of(user: Any) -> list[Any]:
    """The editor's portal-editor tokens that still work (for their account page)."""
    return list(ApiToken.objects.filter(user=user, revoked=False, expires__gt=timezone.now()))


def revoke_api_token(user: Any, pk: int) -> bool:
    """Revoke one of `user`'s own tokens (again, if it was); False if they have no such token."""
    return bool(ApiToken.objects.filter(user=user, pk=pk).update(revoked=True))


def can_read_submission(user: Any, submission: Submission) -> bool:
    """Every editor sees every submission's metadata; decrypting needs their own key."""
    return editor_of(user) is not None


# --- API (portal-editor) ------------------------------------------------------------------


def _bearer_token(request: HttpRequest) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and len(token) < 200 else ""


def api_editor_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A valid API token of an active editor (issued only after password + OTP).

    Tokens are not cookies, so CSRF does not apply; every refusal is a JSON 401.
    """
    from django.http import JsonResponse
    from django.views.decorators.csrf import csrf_exempt

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        token = _bearer_token(request)
        row = ApiToken.objects.select_related("user").filter(digest=digest(token)).first() \
            if token else None
        if row is None or not row.usable or editor_of(row.user) is None:
            return JsonResponse({"error": "a valid, unexpired API token is required"}, status=401)
        request.user = row.user
        cast(ApiRequest, request).api_token = row
        row.note_use()
        return view(request, *args, **kwargs)

    wrapper.access = "api-editor"  # type: ignore[attr-defined]
    return csrf_exempt(wrapper)


def api_answers(**scopes: str) -> Callable[[Callable[..., HttpResponseBase]],
                                           Callable[..., HttpResponseBase]]:
    """The methods an API view answers, each with the token scope it needs.

    `@api_answers(GET=READ, PUT=REENCRYPT)` under `api_editor_required`: any other
    method is a 405, a token without the scope a 403 (`api_scope_refusal`).
    """
    from django.http import JsonResponse

    allowed = " or ".join(scopes)

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            scope = scopes.get(request.method or "")
            if scope is None:
                return JsonResponse({"error": f"use {allowed}"}, status=405)
            return api_scope_refusal(request, scope) or view(request, *args, **kwargs)

        return wrapper

    return decorate


def api_scope_refusal(request: HttpRequest, scope: str) -> HttpResponseBase | None:
    """None if the request's token carries `scope` (and, for reencrypt, the editor is managing).

    For views behind `api_editor_required`; the refusal is a JSON 403 that names the scope.
    """
    from django.http import JsonResponse

    row = cast(ApiRequest, request).api_token
    if not row.allows(scope):
        return JsonResponse({"error": f"this token does not carry the '{scope}' scope; "
                                      f"log in again asking for it"}, status=403)
    if scope == REENCRYPT and not editor_of(request.user).is_managing:
        return JsonResponse({"error": "re-encryption is for managing editors"}, status=403)
    return None


def api_public(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """An API endpoint open without a token (token issuance, the OpenAPI description)."""
    from django.views.decorators.csrf import csrf_exempt

    view.access = "api-public"  # type: ignore[attr-defined]
    return csrf_exempt(view)

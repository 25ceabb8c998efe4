"""The authorization matrix: every route × every method it accepts × every kind of visitor.

Threat answered: the audit finding seen most often in submission systems, a view
that forgot its permission check, or one that hands out another account's object
to whoever guesses its id. `ROUTES` below states, in one line per route, who may
call it; the test walks the URLconf (tests/routes.py) and the API description
(portal/api/openapi.py), and for every route, method and visitor makes a real
request with Django's test client against real objects: author A has a submission
sent through the real upload and confirm (encrypted with real gpg), author B
asks for A's objects by their real ids, editors log in with real accounts and
devices, the API is called with real tokens.

A route without a line here fails `test_every_route_has_a_line_in_the_matrix`,
which prints the line to add.

The visitors (columns of `ACCESS`):

- anonymous: no session at all;
- author_a, author_b: two authors (codename sessions); A owns the submission;
- unverified: an editor whose password was accepted, with a device, no code yet;
- newcomer: an editor whose password was accepted and who has no device yet
  (only enrolment is open to them);
- editor, managing: OTP-verified editors of each role (on the API: with a token).

Answers:

- OK: the view ran: 2xx, 400 (the request carried no form data), or a redirect
  that is not a login gate (`GATES`);
- OWN: author B on an author route: 404 when the path names A's object (never
  403, which would confirm it exists), OK otherwise;
- a path: a redirect there (a gate: "/" for authors, the editor login,
  enrolment);
- a number: exactly that status (401 from the API comes as JSON).

A method the line does not list must be answered 405 to the visitors who would
get through, and 405 or their refusal to everyone else. Routes are probed with
GET and POST; API routes also with PUT and DELETE.

CSRF is a column of the same walk: every accepted POST is sent again by the same
visitor, without a token, and must get the CSRF refusal (403). The API is the
one exception: it takes bearer tokens, never cookies.
"""

from __future__ import annotations

import hashlib
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http.response import HttpResponseBase
from django.test import Client

from portal.access import SESSION_AUTHOR, SESSION_EPOCH
from portal.api.openapi import SPEC
from portal.editorial.webauthn_views import REGISTRATION_GRANT
from portal.editors import replacement
from portal.editors.models import Editor
from portal.submissions import recipients as editor_keys
from portal.submissions.models import Author, Submission
from portal.submissions.tokens import SCOPES, ApiToken
from tests.authoring import confirm, new_author, review_of, upload
from tests.editorial.editors import approved_key, make_editor
from tests.routes import Route, all_routes

IDENTITIES = ("anonymous", "author_a", "author_b", "unverified", "newcomer", "editor", "managing")
OK, OWN = "ok", "own"
START, LOGIN, ENROL, EDITOR_HOME = "/", "/editor/login/", "/editor/enrol/", "/editor/"
ADMIN_LOGIN = "/editor/admin/login/"
GATES = {START, LOGIN, ENROL, ADMIN_LOGIN}
Outcome = str | int

# Who gets what, by access class, in the order of IDENTITIES.
ACCESS: dict[str, tuple[Outcome, ...]] = {
    "public":    (OK,    OK,    OK,    OK,    OK,    OK,          OK),
    "author":    (START, OK,    OWN,   START, START, START,       START),
    "editor":    (LOGIN, LOGIN, LOGIN, LOGIN, ENROL, OK,          OK),
    "managing":  (LOGIN, LOGIN, LOGIN, LOGIN, ENROL, 403,         OK),
    "enrolment": (LOGIN, LOGIN, LOGIN, LOGIN, OK,    EDITOR_HOME, EDITOR_HOME),
    # The Django admin: an editor session first, then staff status, which no visitor
    # here has (the staff side is in tests/editorial/test_auth_access.py).
    "staff":     (LOGIN, LOGIN, LOGIN, LOGIN, ENROL, ADMIN_LOGIN, ADMIN_LOGIN),
    "api":       (401,   401,   401,   401,   401,   OK,          OK),
    # Managing editors with a token carrying the scope (re-encryption).
    "api-managing": (401, 401,   401,   401,   401,   403,         OK),
    "api-public": (OK,   OK,    OK,    OK,    OK,    OK,          OK),
}
# The access mark (portal.access) each class must carry on its view.
MARK = {"public": "public", "author": "author", "editor": "editor", "managing": "managing",
        "enrolment": "enrolment", "staff": "editor", "api": "api-editor",
        "api-managing": "api-editor", "api-public": "api-public"}


@dataclass(frozen=True)
class Entry:
    access: str
    methods: tuple[str, ...] | None  # None: the methods the API description lists
    at: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Outcome] = field(default_factory=dict)


def r(access: str, methods: str | None = "GET", at: dict[str, str] | None = None,
      **overrides: Outcome) -> Entry:
    """One line of the matrix: an access class, the methods the route accepts, and exceptions.

    `overrides` change the answer for one visitor (`editor=403`), for one method
    whoever asks (`POST=401`), or for everyone (`all="/"`); an answer may also be
    another access class (`DELETE="api"`). `at` picks the object a path parameter
    names when the default (`World.objects`) does not fit.
    """
    assert access in ACCESS, access
    return Entry(access, tuple(methods.split()) if methods is not None else None,
                 at or {}, overrides)


ROUTES: dict[str, Entry] = {
    # Author pages.
    "authors:start": r("public"),
    "authors:new": r("public", "POST"),
    "authors:login": r("public", "POST", all=403),  # no codename: the one refusal for all
    "authors:logout": r("public", "POST", all="/author/logged-out/"),  # advice on what next
    "authors:logged_out": r("public"),
    "authors:codename": r("author"),  # only in the session the codename was made in
    "authors:check_codename": r("author", "POST"),
    "authors:language": r("public", "POST", all=START),  # back to the page it came from
    "authors:home": r("author"),
    "authors:pen_name": r("author", "POST"),
    "authors:submit": r("author", "POST"),
    "authors:confirm": r("author", "POST"),
    "authors:cancel": r("author", "POST"),
    "authors:received": r("author"),
    "authors:withdraw": r("author", "GET POST"),  # GET only asks
    "authors:delete": r("author", "POST"),  # without confirm=yes it only asks again
    "authors:write": r("author", "POST"),
    "authors:message_asc": r("author"),
    "authors:reply_key": r("author"),
    "authors:own_key": r("author", "POST"),
    "authors:generated_key": r("author", "POST"),
    # Asks for the codename once more: without it, the one refusal for everyone.
    "authors:secret_key": r("author", "POST", author_a=403, author_b=403),
    # Editor sign-in and account.
    "editorial:login": r("public", "GET POST", newcomer=ENROL),
    "editorial:logout": r("public", "POST", all=LOGIN),
    "editorial:logout_everywhere": r("editor", "POST", editor=LOGIN, managing=LOGIN),
    "editorial:enrol": r("enrolment", "GET POST"),
    "editorial:account": r("editor"),
    "editorial:notifications": r("editor", "POST"),
    "editorial:password_change": r("editor", "POST"),
    "editorial:backup_codes": r("editor", "POST"),
    "editorial:security_key_add": r("editor", "POST"),
    "editorial:security_key_remove": r("editor", "POST"),
    "editorial:webauthn_register_begin": r("editor", "POST"),
    "editorial:webauthn_register_complete": r("editor", "POST"),
    # Marked public, but open only between the password and the second factor.
    "editorial:webauthn_login_begin": r("public", "POST", all=403, unverified=OK, newcomer=OK),
    "editorial:webauthn_login_complete": r("public", "POST", all=403, unverified=OK, newcomer=OK),
    "editorial:webauthn_jsi18n": r("public"),
    # Editorial work.
    "editorial:dashboard": r("editor"),
    "editorial:submission": r("editor"),
    "editorial:change_state": r("editor", "POST"),
    "editorial:assign": r("managing", "POST"),
    "editorial:add_note": r("editor", "POST"),
    "editorial:reply": r("editor", "POST"),
    "editorial:hide_author": r("editor", "GET POST"),  # any editor: every editor is told
    "editorial:hidden_authors": r("editor"),
    "editorial:download": r("editor"),
    "editorial:keys": r("editor"),  # every editor sees the keys; managing editors act
    "editorial:add_key": r("managing", "POST"),
    "editorial:approve_key": r("managing", "POST", at={"pk": "spare_key"}),
    "editorial:deactivate_key": r("managing", "POST", at={"pk": "spare_key"}),
    "editorial:changes_seen": r("editor", "POST"),
    "editorial:revoke_token": r("editor", "POST", at={"pk": "token"},
                                editor=404),  # the managing editor's token
    "editorial:editors": r("managing", "GET POST"),
    "editorial:deactivate_editor": r("managing", "POST", at={"pk": "victim"}),
    "editorial:audit": r("managing"),
    # The admin (every view behind an editor session and staff status).
    "admin:login": r("public", "GET POST", all=LOGIN, editor=403, managing=403),
    "admin:*": r("staff", "GET POST", at={"pk": "object_id"}),
    "admin:logout": r("staff", "GET POST", editor="/editor/admin/", managing="/editor/admin/"),
    # The API: methods from the API description.
    # POST without a JSON body is refused, whoever asks; DELETE revokes the token used.
    "api:token": r("api-public", None, POST=400, DELETE="api"),
    "api:openapi": r("api-public", None),
    "api:keys": r("api", None),
    "api:key_changes": r("api", None),
    "api:replacements": r("api", None),
    "api:replacement_candidate": r("api", None, at={"pk": "replacement"}),
    "api:replacement_confirmations": r("api", None, at={"pk": "replacement"}),
    "api:submissions": r("api", None),
    "api:submission": r("api", None),
    "api:notes": r("api", None),
    "api:replies": r("api", None),
    "api:blob": r("api", None, PUT="api-managing"),  # re-encryption
    "health": r("public"),
}


# --- The world the requests are made in ------------------------------------------------


@dataclass
class World:
    author_a: Author
    author_b: Author
    submission: Submission
    users: dict[str, Any]
    objects: dict[str, object]


@pytest.fixture
def world(db, data_dir, editor_keypair, second_editor_keypair) -> World:  # type: ignore[no-untyped-def]
    managing = make_editor("managing", Editor.Role.MANAGING, key=editor_keypair.public)
    spare_key = approved_key(managing, second_editor_keypair.public)
    users = {
        "managing": managing,
        "editor": make_editor("editor"),
        "unverified": make_editor("unverified"),
        "newcomer": make_editor("newcomer"),
        "victim": make_editor("victim"),
    }
    users["newcomer"].totpdevice_set.all().delete()
    a, b = Client(), Client()
    new_author(a, pen_name="A")
    new_author(b, pen_name="B")
    confirm(a, review_of(upload(a, [("a.txt", b"author A's draft")], title="A's")))
    submission = Submission.objects.get()
    candidate = data_dir / "candidate.gpg"
    editor_keys.keyring().encrypt_bytes(b"author A's draft", candidate, editor_keys.recipients())
    with open(candidate, "rb") as source:
        pending = replacement.propose(submission, submission.files.get().blob, source, managing,
                                      hashlib.sha256(b"author A's draft").hexdigest())
    written = a.post(f"/author/submission/{submission.public_id}/message/", {"text": "Hello"})
    assert written.status_code == 302, written.content[:300]
    objects: dict[str, object] = {
        "public_id": submission.public_id,
        "name": submission.files.get().blob,
        "number": 1,  # the first message of A's thread
        "spare_key": spare_key.pk,
        "token": ApiToken.issue(managing, label="revoked by the walk")[0].pk,
        "replacement": pending.pk,
        "victim": users["victim"].editor.pk,
        # Admin paths: no visitor here passes the admin's staff check, so these only
        # have to make a path that resolves.
        "object_id": managing.pk, "id": managing.pk, "content_type_id": 1, "app_label": "auth",
    }
    return World(Author.objects.get(pen_name="A"), Author.objects.get(pen_name="B"),
                 submission, users, objects)


def visitor(world: World, identity: str, api: bool, **client_options: Any) -> Client:
    """A fresh client for one visitor (fresh, because some routes end the session).

    A view that raises answers 500 here, so the walk goes on and names every such cell.
    """
    client_options.setdefault("raise_request_exception", False)
    client = Client(**client_options)
    if identity in ("author_a", "author_b"):
        author = world.author_a if identity == "author_a" else world.author_b
        session = client.session
        session[SESSION_AUTHOR] = str(author.pk)
        session.save()
    elif identity != "anonymous":
        user = world.users[identity]
        if api and identity in ("editor", "managing"):
            scopes = SCOPES if identity == "managing" else ("read", "note", "reply")
            _, token = ApiToken.issue(user, label="matrix", scopes=scopes)
            return Client(HTTP_AUTHORIZATION=f"Bearer {token}", **client_options)
        client.force_login(user)
        session = client.session
        session[SESSION_EPOCH] = Editor.objects.get(user=user).session_epoch
        if identity in ("editor", "managing"):
            session["otp_device_id"] = user.totpdevice_set.get().persistent_id
            # As just after a fresh code on the account page (security_key_add).
            session[REGISTRATION_GRANT] = time.time() + 60
        session.save()
    return client


# --- Reading the table --------------------------------------------------------------------


def entry_for(route: Route) -> Entry | None:
    """The route's own line, or its namespace's ("admin:*")."""
    return ROUTES.get(route.name) or ROUTES.get(f"{route.namespace}:*")


def spec_path(route: Route) -> str | None:
    if not route.pattern.startswith("api/v1/"):
        return None
    path = "/" + route.pattern.removeprefix("api/v1/")
    for param in route.params:
        path = path.replace(f"<uuid:{param}>", f"{{{param}}}").replace(
            f"<str:{param}>", f"{{{param}}}").replace(f"<int:{param}>", f"{{{param}}}")
    return path


def methods_of(route: Route, entry: Entry) -> tuple[str, ...]:
    if entry.methods is not None:
        return entry.methods
    operations = SPEC["paths"][spec_path(route)]
    return tuple(method.upper() for method in operations)


def probed(route: Route) -> tuple[str, ...]:
    return ("GET", "POST", "PUT", "DELETE") if spec_path(route) else ("GET", "POST")


def expected(route: Route, entry: Entry, method: str, identity: str) -> Outcome:
    overrides = entry.overrides
    access = entry.access
    for key in (identity, method, "all"):
        if key in overrides:
            if overrides[key] not in ACCESS:
                return overrides[key]
            access = str(overrides[key])
            break
    outcome = ACCESS[access][IDENTITIES.index(identity)]
    if outcome == OWN:
        return 404 if route.params else OK
    return outcome


def mismatch(response: HttpResponseBase, outcome: Outcome, api: bool) -> str | None:
    """None if the response is the expected answer, else what was seen instead."""
    status = response.status_code
    location = urllib.parse.urlparse(response.get("Location", "")).path
    seen = f"{status} {location}".strip()
    if outcome == OK:
        redirect_ok = status in (301, 302, 303) and location not in GATES
        return None if status in (200, 201, 204, 206, 400) or redirect_ok else seen
    if isinstance(outcome, int):
        if status != outcome:
            return seen
        if status == 401 and api and not response["Content-Type"].startswith("application/json"):
            return f"401 as {response['Content-Type']}, not JSON"
        return None
    return None if status == 302 and location == outcome else seen


def request(client: Client, method: str, path: str) -> HttpResponseBase:
    return getattr(client, method.lower())(path)


def is_csrf_refusal(response: HttpResponseBase) -> bool:
    """The answer of portal.errors.csrf_failure (not some other 403)."""
    return response.status_code == 403 and b"was not sent from this site" in getattr(
        response, "content", b"")


def answer_problem(response: HttpResponseBase, outcome: Outcome, accepted: bool,
                   api: bool) -> str | None:
    """None if the response is right for this cell, else what was wrong with it."""
    if accepted:
        return mismatch(response, outcome, api)
    if response.status_code == 405:
        return None
    if outcome in (OK, 404):  # this visitor would get through: the method must be refused
        return f"{response.status_code} (method not accepted: expected 405)"
    return mismatch(response, outcome, api)  # or refused as for an accepted method


# --- The tests ----------------------------------------------------------------------------


def test_every_route_has_a_line_in_the_matrix():
    missing = []
    for route in all_routes():
        if entry_for(route) is None:
            guess = {v: k for k, v in MARK.items() if k != "staff"}.get(route.access or "", "?")
            missing.append(f'    "{route.name}": r("{guess}", "GET"),  # /{route.pattern}')
    assert not missing, ("add a line to ROUTES in tests/test_authorization_matrix.py for each "
                         "new route (access class, methods, exceptions):\n" + "\n".join(missing))
    names = {route.name for route in all_routes()}
    stale = [name for name in ROUTES if not name.endswith(":*") and name not in names]
    assert not stale, f"these lines name routes that no longer exist: {stale}"


def test_every_line_matches_the_views_access_mark_and_the_api_description():
    api_paths = {path for route in all_routes() if (path := spec_path(route))}
    assert api_paths == set(SPEC["paths"]), "the API description and the URLconf differ"
    for route in all_routes():
        entry = entry_for(route)
        if entry is None:
            continue  # test_every_route_has_a_line_in_the_matrix names it
        assert route.access == MARK[entry.access], (
            f"{route.name}: its view is marked {route.access!r}, the matrix says {entry.access!r}")
        path = spec_path(route)
        if path is None:
            assert entry.methods is not None, f"{route.name}: list its methods"
            continue
        for method, operation in SPEC["paths"][path].items():
            if operation.get("security", SPEC.get("security")) != []:
                # The description says a token is needed: so does the matrix.
                assert expected(route, entry, method.upper(), "anonymous") == 401, (route.name, method)


def test_authorization_matrix(world):
    """Every cell as the table says; and every state change refused without a CSRF token.

    The CSRF column: each accepted POST (the API aside: it takes tokens, never
    cookies) is sent again by the same visitor from a client that enforces CSRF
    checks and carries no token, and must get the CSRF refusal (403).
    """
    failures: list[str] = []
    count = csrf_count = 0
    started = time.monotonic()
    for route in all_routes():
        entry = entry_for(route)
        if entry is None:
            continue  # test_every_route_has_a_line_in_the_matrix names it
        values = {**world.objects, **{param: world.objects[name] for param, name in entry.at.items()}}
        path = route.path(values)
        accepted = methods_of(route, entry)
        api = spec_path(route) is not None
        for identity in IDENTITIES:
            client = visitor(world, identity, api)
            for method in probed(route):
                outcome = expected(route, entry, method, identity)
                problem = answer_problem(request(client, method, path), outcome,
                                         method in accepted, api)
                count += 1
                if not problem and method in accepted and method != "GET" and not api:
                    forged = request(visitor(world, identity, api, enforce_csrf_checks=True),
                                     method, path)
                    csrf_count += 1
                    if not is_csrf_refusal(forged):
                        problem = f"without a CSRF token: {forged.status_code} (not the CSRF refusal)"
                if problem:
                    failures.append(f"{route.name:40} {method:6} {identity:10} expected "
                                    f"{outcome!s:16} got {problem}   {path}")
    assert count > 500 and csrf_count > 100
    assert not failures, f"{len(failures)} of {count} answers differ from the matrix " \
        f"({time.monotonic() - started:.0f} s):\n" + "\n".join(failures)

"""Budgets per Tor circuit, behind a site-wide ceiling: one attacker cannot lock authors out.

Read like the threat model (SECURITY.md, "Brute force"): malformed
codenames cost nothing; one circuit's wrong guesses stop at that circuit's
budget (the last allowed guess still pays for the KDF, the next one is refused
before it) while other circuits log in; many circuits together still meet the
site-wide ceiling; new codenames and uploads have their own budgets and are
refused before any work; identities nobody used again are purged with their
rows. Requests carry the header nginx sets from Tor's PROXY protocol line.
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import timezone

import portal.settings as production
from portal import circuits
from portal.correspondence import replykeys
from portal.correspondence.models import Message, ReplyKey
from portal.crypto import codenames, replykey
from portal.submissions.models import Author, Submission
from tests.authoring import confirm, new_author, review_of, upload
from tests.leaks import database_dump, found_in
from tests.test_login_throttle import (
    CIRCUIT_WINDOW,
    WRONG,
    circuit,
    to_start_of_minute,
    to_start_of_window,
)

pytestmark = pytest.mark.django_db
MALFORMED = [
    "x", "abacus", "abacus abdomen abdominal abide abiding ability",  # too few words
    "abacus abdomen abdominal abide abiding ability ablaze ablaze",  # too many
    "abacus abdomen abdominal abide abiding ability notaword", "1234567", "абв где",
    "abacus " * 18, "'; DROP TABLE authors; --",
]


@pytest.fixture
def no_kdf(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """`no_kdf(True)`: from now on any Argon2id run fails the test; `no_kdf(False)` lifts it."""
    real = codenames.hash_secret_raw

    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        pytest.fail("the KDF ran for a request that should have been refused before it")

    def arm(on: bool) -> None:
        monkeypatch.setattr(codenames, "hash_secret_raw", refuse if on else real)

    return arm


@pytest.fixture
def production_budgets(settings):  # type: ignore[no-untyped-def]
    """The shipped defaults instead of the test suite's generous ones."""
    for name in ("PORTAL_LOGIN_FAILURES_PER_CIRCUIT", "PORTAL_CODENAME_FAILURES_PER_MINUTE",
                 "PORTAL_NEW_CODENAMES_PER_CIRCUIT", "PORTAL_NEW_CODENAMES_PER_HOUR",
                 "PORTAL_UPLOADS_PER_CIRCUIT", "PORTAL_UPLOADS_PER_HOUR"):
        setattr(settings, name, getattr(production, name))
    return settings


def on(number: int) -> Client:
    return Client(**circuit(number))


def log_in(client: Client, codename: str) -> int:
    return client.post("/author/login/", {"codename": codename}).status_code


# --- Which circuit -------------------------------------------------------------------------


def test_a_circuit_is_known_only_inside_tors_range_and_only_as_a_keyed_hash(settings):
    factory = RequestFactory()

    def key(value: str) -> str | None:
        return circuits.circuit_of(factory.get("/", HTTP_X_PENNAME_CIRCUIT=value))

    one = key("fc00:dead:beef:4dad::1:2")
    assert one is not None and re.fullmatch(r"[0-9a-f]{32}", one)
    assert "4dad" not in one and "dead" not in one
    # Every spelling of one address is one circuit; another circuit is another key.
    assert key("FC00:DEAD:BEEF:4DAD:0:0:1:2") == one
    assert key("fc00:dead:beef:4dad::1:3") not in (None, one)
    assert key("fc00:dead:beef:4dad::") is not None  # circuit 0 is a circuit too
    for foreign in ("", " ", "127.0.0.1", "::1", "fc00:dead:beef:4dae::1:2",
                    "fc00:dead:beef:4dad::1:2%eth0", "fc00:dead:beef:4dad::1:2, ::1",
                    "::ffff:127.0.0.1", "fc00:dead:beef:4dad:0000:0000:0001:00002",
                    "fc00:dead:beef:4dad::1:2" + " " * 40, "nonsense"):
        assert key(foreign) is None, foreign
    assert circuits.circuit_of(factory.get("/")) is None
    # The key depends on the server's secret: another server, another key.
    settings.SECRET_KEY = "another-secret-key-for-another-server-0123456789-abcdef"
    assert key("fc00:dead:beef:4dad::1:2") != one


def test_the_budgets_live_only_in_the_cache_keyed_by_hash_and_die_with_their_window(
        client, data_dir, production_budgets, clock, caplog):
    caplog.set_level(logging.DEBUG)
    raw = "fc00:dead:beef:4dad::1:2"
    to_start_of_window(clock, CIRCUIT_WINDOW)
    assert Client(HTTP_X_PENNAME_CIRCUIT=raw).post(
        "/author/login/", {"codename": WRONG}).status_code == 403
    local = caches["default"]
    keys = [k for k in local._cache if "budget:" in k]  # type: ignore[attr-defined]
    hashed = circuits.circuit_of(RequestFactory().get("/", HTTP_X_PENNAME_CIRCUIT=raw))
    assert hashed is not None
    assert any(f"circuit:{hashed}:" in k for k in keys) and any(":site:" in k for k in keys)
    assert not any(part in k for k in keys for part in ("fc00", "dead", "beef", "4dad"))
    # Each counter expires when its window ends (a second's grace), not later.
    for k in keys:
        expires = local._expire_info[k]  # type: ignore[attr-defined]
        window = CIRCUIT_WINDOW if ":circuit:" in k else 60
        assert expires <= time.time() + window + 1
    # Nothing about the circuit reached the database or a log.
    dump = database_dump()
    for trace in (raw, hashed):
        assert not found_in(trace, dump)
        assert all(trace not in r.getMessage() for r in caplog.records)


# --- Failed codenames ----------------------------------------------------------------------


def test_500_malformed_codenames_then_a_correct_one_from_another_circuit_logs_in(
        data_dir, production_budgets, clock, kdf_runs):
    codename = new_author(Client())
    to_start_of_minute(clock)
    kdf_runs.clear()
    attacker = on(1)
    for number in range(500):
        typed = MALFORMED[number % len(MALFORMED)]
        assert log_in(attacker, typed) == 403
    assert attacker.post("/author/login/", {}).status_code == 403  # no field at all
    assert kdf_runs == []  # not one Argon2id run for any of them
    assert log_in(on(2), codename) == 302
    # Nor did they spend the attacker's own circuit's budget.
    assert log_in(on(1), codename) == 302


def test_wrong_codenames_from_one_circuit_stop_at_its_budget_while_another_circuit_logs_in(
        data_dir, production_budgets, clock, kdf_runs, no_kdf):
    budget = production.PORTAL_LOGIN_FAILURES_PER_CIRCUIT
    assert budget < production.PORTAL_CODENAME_FAILURES_PER_MINUTE  # one circuit alone
    codename = new_author(Client())
    to_start_of_window(clock, CIRCUIT_WINDOW)
    attacker = on(1)
    for _ in range(budget):
        kdf_runs.clear()
        assert log_in(attacker, WRONG) == 403
        assert kdf_runs, "an allowed guess pays for the KDF"
    # Exactly at the budget: the last allowed guess ran the KDF (above); the next is refused
    # before it, and so are the rest of the hundred.
    no_kdf(True)
    refused = attacker.post("/author/login/", {"codename": WRONG})
    assert refused.status_code == 429
    assert "wrong codenames were typed on this connection" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= CIRCUIT_WINDOW
    for _ in range(100 - budget - 1):
        assert log_in(attacker, WRONG) == 429
    # The right codename on the attacker's circuit waits too (the budget is the circuit's);
    # on any other circuit it logs in.
    assert log_in(attacker, codename) == 429
    no_kdf(False)
    assert log_in(on(2), codename) == 302
    clock(CIRCUIT_WINDOW)
    assert log_in(attacker, codename) == 302


def test_the_site_wide_ceiling_still_stops_many_circuits_together(
        data_dir, production_budgets, clock, no_kdf):
    production_budgets.PORTAL_CODENAME_FAILURES_PER_MINUTE = 5
    codename = new_author(Client())
    to_start_of_minute(clock)
    for number in range(5):  # a fresh circuit for every guess
        assert log_in(on(100 + number), WRONG) == 403
    no_kdf(True)
    refused = on(200).post("/author/login/", {"codename": WRONG})
    assert refused.status_code == 429 and "logins are paused" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    assert log_in(on(201), codename) == 429  # the cost: everyone waits out the minute
    no_kdf(False)
    clock(60)
    assert log_in(on(201), codename) == 302


def test_requests_without_a_known_circuit_share_one_bucket(data_dir, production_budgets,
                                                          clock, no_kdf):
    production_budgets.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 3
    to_start_of_window(clock, CIRCUIT_WINDOW)
    assert log_in(Client(), WRONG) == 403
    assert log_in(Client(HTTP_X_PENNAME_CIRCUIT="10.0.0.1"), WRONG) == 403
    assert log_in(Client(HTTP_X_PENNAME_CIRCUIT="fc00:dead:beef:4dae::1"), WRONG) == 403
    no_kdf(True)
    assert log_in(Client(), WRONG) == 429
    assert log_in(Client(HTTP_X_PENNAME_CIRCUIT=""), WRONG) == 429
    no_kdf(False)
    assert log_in(on(5), WRONG) == 403  # a real circuit has its own


def test_a_correct_login_gives_its_place_back(data_dir, production_budgets, clock):
    production_budgets.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 3
    codename = new_author(Client())
    to_start_of_window(clock, CIRCUIT_WINDOW)
    author = on(9)
    assert [log_in(author, WRONG) for _ in range(2)] == [403, 403]
    assert [log_in(on(9), codename) for _ in range(10)] == [302] * 10
    assert log_in(author, WRONG) == 403  # the third failure still fits
    assert log_in(author, codename) == 429  # and now the circuit's budget is spent


def test_the_refusal_is_in_the_authors_language(data_dir, production_budgets, clock):
    production_budgets.PORTAL_CODENAME_FAILURES_PER_MINUTE = 1
    to_start_of_minute(clock)
    assert log_in(on(1), WRONG) == 403
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-CN", **circuit(2)).post(
        "/author/login/", {"codename": WRONG})
    assert page.status_code == 429
    body = page.content.decode()
    assert '<html lang="zh-Hans">' in body and "暂时停止登录" in body


# --- New codenames ---------------------------------------------------------------------------


def test_new_codenames_beyond_the_circuits_budget_get_429_before_any_kdf(
        data_dir, production_budgets, clock, no_kdf):
    budget = production.PORTAL_NEW_CODENAMES_PER_CIRCUIT
    to_start_of_window(clock, 3600)
    for _ in range(budget - 1):
        new_author(on(1))
    # Malformed requests cost nothing: the last allowed codename is still there after them.
    for bad in ({"pen_name": "x" * 81}, {"style": "klingon"}, {"style": "x" * 5000}):
        assert on(1).post("/author/new/", bad).status_code == 400
    new_author(on(1))  # exactly at the budget
    no_kdf(True)
    refused = on(1).post("/author/new/", {"pen_name": "flood"})
    assert refused.status_code == 429
    assert "Too many codenames were made on this connection" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert 'id="codename"' not in refused.content.decode()
    assert Author.objects.count() == budget
    no_kdf(False)
    new_author(on(2))  # another circuit still gets one


def test_new_codenames_beyond_the_site_wide_ceiling_get_429_before_any_kdf(
        data_dir, production_budgets, clock, no_kdf):
    production_budgets.PORTAL_NEW_CODENAMES_PER_HOUR = 4
    to_start_of_window(clock, 3600)
    for number in range(4):
        new_author(on(10 + number))
    no_kdf(True)
    refused = on(99).post("/author/new/", {})
    assert refused.status_code == 429
    assert "Too many codenames were made on this site" in refused.content.decode()
    assert Author.objects.count() == 4
    no_kdf(False)
    clock(3600)
    new_author(on(99))


# --- Uploads -----------------------------------------------------------------------------------


def spool_entries(data_dir: Path) -> list[Path]:
    spool = data_dir / "spool"
    return [p for folder in ("pending", "uploads") if (spool / folder).is_dir()
            for p in (spool / folder).iterdir()]


def test_uploads_beyond_the_circuits_budget_are_refused_before_the_body_is_read(
        data_dir, editor, production_budgets, clock):
    production_budgets.PORTAL_UPLOADS_PER_CIRCUIT = 2
    to_start_of_window(clock, 3600)
    author = on(1)
    new_author(author)
    for _ in range(2):
        review_of(upload(author, [("draft.md", b"# Draft\n")]))
    before = spool_entries(data_dir)
    refused = upload(author, [("draft.md", b"# Draft\n")])
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert "Too many uploads were started on this connection" in refused.content.decode()
    assert spool_entries(data_dir) == before  # nothing spooled, nothing cleaned
    # The same author on another circuit may go on.
    elsewhere = on(2)
    elsewhere.cookies = author.cookies
    review_of(upload(elsewhere, [("draft.md", b"# Draft\n")]))


def test_uploads_beyond_the_site_wide_ceiling_are_refused(data_dir, editor, production_budgets,
                                                          clock):
    production_budgets.PORTAL_UPLOADS_PER_HOUR = 1
    to_start_of_window(clock, 3600)
    first, second = on(1), on(2)
    new_author(first)
    new_author(second)
    review_of(upload(first, [("a.md", b"# A\n")]))
    refused = upload(second, [("b.md", b"# B\n")])
    assert refused.status_code == 429
    assert "uploads are paused" in refused.content.decode()
    # Someone who is not logged in spends nothing (and is turned away as before).
    assert Client(**circuit(3)).post("/author/submit/", {}).status_code == 302


# --- The reply key, made when first needed ------------------------------------------------------


def sent(client: Client) -> Submission:
    response = confirm(client, review_of(upload(client, [("draft.md", b"# Draft\n\nWords.\n")])))
    assert response.status_code == 302, response.content[:800]
    public_id = re.search(r"/author/submission/([0-9a-f-]{36})/", response["Location"])
    assert public_id
    return Submission.objects.get(public_id=public_id.group(1))


def test_the_reply_key_is_made_when_first_needed_and_editors_can_reply(
        client, desk, editor_keypair):
    from tests.api.test_api import get_token
    from tests.editorial.editors import make_editor

    codename = new_author(client)
    assert not ReplyKey.objects.exists()  # not at creation
    client.post("/author/logout/")
    assert log_in(client, codename) == 302
    assert client.get("/author/").status_code == 200
    assert not ReplyKey.objects.exists()  # nor at a login that does not need it
    assert Author.objects.get().came_back  # but the identity is in use now
    submission = sent(client)
    key = ReplyKey.objects.get()
    assert key.generated and key.active
    # The editors' page and the API both name the key, and a reply reaches the author.
    response = desk.post(f"/editor/submission/{submission.public_id}/reply/",
                         {"text": "Thank you — 谢谢"})
    assert response.status_code == 302, response.content[:800]
    assert Message.objects.get().reply_key == key.fingerprint
    assert "Thank you — 谢谢" in client.get(
        f"/author/submission/{submission.public_id}/").content.decode()
    status, issued = get_token(Client(), make_editor("laptop"))
    assert status == 201
    api = Client(HTTP_AUTHORIZATION=f"Bearer {issued['token']}")
    detail = api.get(f"/api/v1/submissions/{submission.public_id}/").json()
    assert detail["reply_key"]["fingerprint"] == key.fingerprint
    editor_keypair.gpg("--import", input=key.public_key.encode())
    body = editor_keypair.gpg("--encrypt", "--trust-model", "always", "-r",
                              editor_keypair.fingerprint, "-r", key.fingerprint,
                              input=b"from a laptop").stdout
    answer = api.post(f"/api/v1/submissions/{submission.public_id}/replies/", body,
                      content_type="application/octet-stream",
                      HTTP_X_PENNAME_REPLY_KEY=key.fingerprint)
    assert answer.status_code == 201, answer.content
    # Logging in again makes nothing more.
    client.post("/author/logout/")
    assert log_in(client, codename) == 302
    assert ReplyKey.objects.count() == 1


def test_a_visit_that_lost_the_codenames_secret_is_told_plainly_and_sends_nothing(
        client, desk):
    from portal.correspondence import unlock

    new_author(client)
    review = review_of(upload(client, [("draft.md", b"# Draft\n")]))
    del client.cookies[unlock.COOKIE]
    response = confirm(client, review)
    assert response.status_code == 400
    assert "log in again with your codename" in response.content.decode()
    assert not Submission.objects.exists() and not ReplyKey.objects.exists()
    assert not Author.objects.get().came_back


def test_a_reply_key_that_cannot_be_made_stops_the_sending_and_a_retry_works(
        client, desk, monkeypatch):
    new_author(client)
    review = review_of(upload(client, [("draft.md", b"# Draft\n")]))

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise replykey.ReplyKeyError("gpg failed")

    monkeypatch.setattr(replykeys.replykey, "generate", broken)
    response = confirm(client, review)
    assert response.status_code == 503
    assert "could not make the key the editors need" in response.content.decode()
    assert not Submission.objects.exists()
    monkeypatch.undo()
    assert confirm(client, review).status_code == 302
    assert ReplyKey.objects.get().active


def test_writing_a_message_marks_the_identity_used(client, desk):
    new_author(client)
    submission = sent(client)
    assert Author.objects.get().came_back  # sending did
    Author.objects.update(came_back=False)
    response = client.post(f"/author/submission/{submission.public_id}/message/",
                           {"text": "A question"})
    assert response.status_code == 302
    assert Author.objects.get().came_back


# --- Unused identities ---------------------------------------------------------------------------


def test_the_codename_page_says_how_long_an_unused_codename_lives(client, data_dir, settings):
    settings.PORTAL_UNUSED_IDENTITY_DAYS = 7
    page = client.post("/author/new/", {}).content.decode()
    assert "do not log in with it again within 7 days, it is deleted" in page


def test_unused_identities_disappear_after_the_purge_with_their_rows_and_used_ones_stay(
        data_dir, desk, settings):
    settings.PORTAL_UNUSED_IDENTITY_DAYS = 7
    clients = {name: Client() for name in
               ("unused", "with-key", "at-limit", "young", "came-back", "sent", "waiting")}
    codenames_of = {name: new_author(c, pen_name=name) for name, c in clients.items()}
    # One opened the reply-key page: a key row that must go with the identity.
    assert clients["with-key"].get("/author/reply-key/").status_code == 200
    clients["came-back"].post("/author/logout/")
    assert log_in(clients["came-back"], codenames_of["came-back"]) == 302
    sent(clients["sent"])
    review_of(upload(clients["waiting"], [("draft.md", b"# Waiting\n")]))
    today = timezone.now().date()
    Author.objects.exclude(pen_name="young").update(created_on=today - timedelta(days=8))
    Author.objects.filter(pen_name="at-limit").update(created_on=today - timedelta(days=7))
    ReplyKey.objects.filter(author__pen_name="sent").get()  # the sender's key, to keep
    keys_before = ReplyKey.objects.count()
    out = io.StringIO()
    call_command("purge", stdout=out)
    assert sorted(Author.objects.values_list("pen_name", flat=True)) == [
        "at-limit", "came-back", "sent", "waiting", "young"]
    assert ReplyKey.objects.count() == keys_before - 1
    assert not ReplyKey.objects.filter(author__pen_name="with-key").exists()
    # Counts only: no pen name, no id.
    text = out.getvalue()
    assert "2 unused author identities" in text
    assert "with-key" not in text and "unused," not in text
    assert not any(str(a.pk) in text or str(a.pk)[:8] in text for a in Author.objects.all())
    # A session of a purged identity is simply logged out.
    assert clients["unused"].get("/author/").status_code == 302
    # The waiting upload's identity goes once its upload can no longer be waiting.
    caches["default"].clear()
    call_command("purge", stdout=io.StringIO())
    assert "waiting" not in Author.objects.values_list("pen_name", flat=True)

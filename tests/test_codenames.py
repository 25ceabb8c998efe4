"""Codenames: enough entropy, never stored, one generic error, bounded work."""

from __future__ import annotations

import math
import time

import pytest

from portal.crypto import codenames
from tests.authoring import new_author

PEPPER = b"p" * 32
CHEAP = codenames.KdfCost(time_cost=1, memory_kib=1024)


def test_codename_entropy_is_at_least_90_bits():
    assert len(codenames.wordlist()) == 7776
    assert codenames.CODENAME_WORDS >= 7
    assert codenames.ENTROPY_BITS == pytest.approx(7 * math.log2(7776))
    assert codenames.ENTROPY_BITS >= 90


def test_codenames_are_unique_and_well_formed():
    seen = {codenames.generate() for _ in range(2000)}
    assert len(seen) == 2000
    for codename in list(seen)[:50]:
        assert codenames.normalise(codename) == codename
        assert len(codename.split()) == 7


def test_typing_is_forgiven_but_not_guessing():
    codename = codenames.generate()
    assert codenames.normalise("  " + codename.upper().replace(" ", "   ") + "\n") == codename
    assert codenames.normalise(codename + " extra") is None
    assert codenames.normalise(" ".join(codename.split()[:6])) is None
    assert codenames.normalise("notaword " * 7) is None


def test_longest_valid_codename_is_accepted_and_one_more_character_is_not():
    longest = next(w for w in codenames.wordlist() if len(w) == codenames.LONGEST_WORD)
    at_limit = " ".join([longest] * 7)
    assert len(at_limit) == codenames.MAX_CODENAME_CHARS
    assert codenames.normalise(at_limit) == at_limit
    assert codenames.normalise(at_limit + "x") is None
    with pytest.raises(ValueError, match="too long"):
        codenames.derive_lookup(at_limit + "x", PEPPER, CHEAP)


def test_lookup_depends_on_codename_and_pepper():
    codename = codenames.generate()
    a = codenames.derive_lookup(codename, PEPPER, CHEAP)
    assert a == codenames.derive_lookup(codename, PEPPER, CHEAP)
    assert a != codenames.derive_lookup(codename, b"q" * 32, CHEAP)
    assert a != codenames.derive_secret(codename, PEPPER, "reply-key", CHEAP)
    assert codename.encode() not in a


def test_production_kdf_cost_is_memory_hard():
    assert codenames.DEFAULT_COST.memory_kib >= 64 * 1024
    started = time.perf_counter()
    codenames.derive_lookup(codenames.generate(), PEPPER)
    assert time.perf_counter() - started > 0.01  # really ran Argon2id at full cost


@pytest.mark.django_db
def test_codename_is_never_stored(client, data_dir):
    from tests.leaks import database_dump

    codename = new_author(client, pen_name="Mei")
    dump = database_dump()
    for word in codename.split():
        assert f" {word} ".encode() not in dump
    assert codename.encode() not in dump


@pytest.mark.django_db
def test_login_with_codename_rotates_the_session(client, data_dir):
    codename = new_author(client)
    client.post("/author/logout/")
    before = client.cookies.get("penname")
    response = client.post("/author/login/", {"codename": codename})
    assert response.status_code == 302 and response["Location"] == "/author/"
    after = client.cookies["penname"].value
    assert before is None or before.value != after
    assert client.get("/author/").status_code == 200


@pytest.mark.django_db
def test_wrong_codename_gets_one_generic_message(client, data_dir):
    new_author(client)
    client.post("/author/logout/")
    messages = set()
    for attempt in ("wrong " * 7, "x", "abacus " * 7, "a" * 5000, ""):
        response = client.post("/author/login/", {"codename": attempt})
        assert response.status_code in (403,)
        body = response.content.decode()
        messages.add("not recognised" in body)
    assert messages == {True}
    assert client.get("/author/").status_code == 302  # still logged out


@pytest.mark.django_db
def test_too_long_input_is_refused_before_hashing(client, data_dir, monkeypatch):
    from portal.authors import identity

    calls = []
    monkeypatch.setattr(identity, "lookup_for", lambda c: calls.append(c) or b"")
    client.post("/author/login/", {"codename": "abacus " * 1000})
    assert calls == []
    client.post("/author/login/", {"codename": ("abacus " * 7).strip()})
    assert len(calls) == 1


@pytest.mark.django_db
def test_logout_requires_post(client, data_dir):
    new_author(client)
    assert client.get("/author/logout/").status_code == 405
    assert client.get("/author/").status_code == 200


@pytest.mark.django_db
def test_session_cookie_flags(client, data_dir, settings):
    response = client.post("/author/new/", {"pen_name": ""})
    cookie = response.cookies["penname"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert not cookie["secure"]  # plain HTTP (an onion service)
    assert settings.SESSION_COOKIE_AGE == 7200 and settings.SESSION_SAVE_EVERY_REQUEST
    secure = client.post("/author/new/", {"pen_name": ""}, secure=True)
    assert secure.cookies["penname"]["secure"]


@pytest.mark.django_db
def test_pen_name_can_change_and_is_bounded(client, data_dir, settings):
    from portal.authors.models import Author

    new_author(client, pen_name="First")
    assert client.post("/author/pen-name/", {"pen_name": "  Second   name "}).status_code == 302
    assert Author.objects.get().pen_name == "Second name"
    too_long = "x" * (settings.PORTAL_MAX_PEN_NAME_CHARS + 1)
    assert client.post("/author/pen-name/", {"pen_name": too_long}).status_code == 400
    assert Author.objects.get().pen_name == "Second name"

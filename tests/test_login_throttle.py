"""Brute force: how many guesses an attacker gets at codenames, editor passwords and codes.

Codenames are guessed against a budget per Tor circuit with a site-wide
ceiling behind it (every author shares the Tor address, and a guess names no
account; see tests/test_circuit_budgets.py for the circuits); editor passwords
and codes against a per-account throttle plus django-otp's own back-off. The
simulations below drive the real views with a moving clock and count the
guesses that actually reached a check; the figures are the ones SECURITY.md
("Brute force") quotes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from django.test import Client, RequestFactory
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

import portal.settings as production
from portal.authors import budgets
from portal.editors.throttle import COOL_OFF_SECONDS, MAX_FAILURES
from tests.authoring import new_author
from tests.editorial.editors import make_editor

pytestmark = pytest.mark.django_db
WRONG = "abacus abdomen abdominal abide abiding ability ablaze"  # well formed, nobody's
PAUSED = "logins are paused for a moment"
SITE_WINDOW = budgets.CODENAME_FAILURES.site_window
CIRCUIT_WINDOW = budgets.CODENAME_FAILURES.circuit_window


def to_start_of_window(advance: Callable[[float], None], window: int = SITE_WINDOW) -> None:
    """Line the clock up with a fresh budget window, so a test's burst falls in one window."""
    advance(window - time.time() % window + 0.5)


def to_start_of_minute(advance: Callable[[float], None]) -> None:
    to_start_of_window(advance, SITE_WINDOW)


def circuit(number: int) -> dict[str, str]:
    """The header nginx sets for a request that came on Tor circuit `number`."""
    return {"HTTP_X_PENNAME_CIRCUIT": f"fc00:dead:beef:4dad::{number >> 16:x}:{number & 0xffff:x}"}


def log_in(client: Client, codename: str) -> int:
    return client.post("/author/login/", {"codename": codename}).status_code


def test_spent_budget_refuses_every_login_with_429_and_runs_no_kdf(
        client, data_dir, settings, clock, kdf_runs):
    settings.PORTAL_CODENAME_FAILURES_PER_MINUTE = 5
    codename = new_author(client)
    client.post("/author/logout/")
    to_start_of_minute(clock)
    kdf_runs.clear()
    for _ in range(5):
        assert log_in(Client(), WRONG) == 403
    ran = len(kdf_runs)
    assert ran >= 5
    refused = Client().post("/author/login/", {"codename": WRONG})
    assert refused.status_code == 429
    assert PAUSED in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 60
    # The ceiling is the site's, not the guesser's: the right codename waits too, unhashed.
    assert log_in(client, codename) == 429
    assert len(kdf_runs) == ran
    clock(SITE_WINDOW)
    assert log_in(client, codename) == 302


def test_successful_logins_do_not_use_up_the_budget(client, data_dir, settings, clock):
    settings.PORTAL_CODENAME_FAILURES_PER_MINUTE = 3
    codename = new_author(client)
    to_start_of_minute(clock)
    assert [log_in(Client(), WRONG) for _ in range(2)] == [403, 403]
    assert [log_in(Client(), codename) for _ in range(10)] == [302] * 10
    assert log_in(Client(), WRONG) == 403  # the third failure still fits
    assert log_in(Client(), codename) == 429  # and now the minute's budget is spent


@pytest.mark.parametrize("where", ["circuit", "site"])
def test_a_parallel_burst_cannot_start_more_attempts_than_the_budget(settings, clock, where):
    # Places are taken before the attempt runs: a burst of requests arriving together
    # (none of them answered yet) gets exactly the budget, whichever budget is smaller.
    settings.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 4 if where == "circuit" else 100
    settings.PORTAL_CODENAME_FAILURES_PER_MINUTE = 4 if where == "site" else 100
    to_start_of_window(clock, CIRCUIT_WINDOW)
    request = RequestFactory().post("/author/login/", **circuit(7))
    started = [budgets.CODENAME_FAILURES.take(request) for _ in range(7)]
    assert [isinstance(p, budgets.Place) for p in started] == [True] * 4 + [False] * 3
    # A success hands back exactly its own place.
    first = started[0]
    assert isinstance(first, budgets.Place)
    first.give_back()
    assert isinstance(budgets.CODENAME_FAILURES.take(request), budgets.Place)
    assert isinstance(budgets.CODENAME_FAILURES.take(request), budgets.Refusal)


def test_codename_guesses_per_hour_from_one_circuit_and_from_many(
        data_dir, settings, clock, kdf_runs):
    # The production defaults, not the tests' generous ones.
    per_circuit = settings.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = \
        production.PORTAL_LOGIN_FAILURES_PER_CIRCUIT
    ceiling = settings.PORTAL_CODENAME_FAILURES_PER_MINUTE = \
        production.PORTAL_CODENAME_FAILURES_PER_MINUTE
    windows_per_hour = 3600 // CIRCUIT_WINDOW

    # One circuit, guessing twice a minute more than it may, for three of its windows.
    to_start_of_window(clock, CIRCUIT_WINDOW)
    kdf_runs.clear()
    answers: dict[int, int] = {}
    for _ in range(3 * CIRCUIT_WINDOW // 60):
        for _ in range(2):
            status = Client().post("/author/login/", {"codename": WRONG}, **circuit(1)).status_code
            answers[status] = answers.get(status, 0) + 1
        clock(60)
    assert answers == {403: 3 * per_circuit, 429: 6 * CIRCUIT_WINDOW // 60 - 3 * per_circuit}
    assert len(kdf_runs) / (3 * per_circuit) >= 1  # every guess that got through paid
    one_circuit = per_circuit * windows_per_hour

    # A fresh circuit for every guess: the ceiling is all that holds, minute after minute.
    minutes, fresh = 3, ceiling + 20
    to_start_of_minute(clock)
    kdf_runs.clear()
    answers = {}
    number = 1000
    for _ in range(minutes):
        for _ in range(fresh):
            number += 1
            status = Client().post("/author/login/", {"codename": WRONG},
                                   **circuit(number)).status_code
            answers[status] = answers.get(status, 0) + 1
        clock(SITE_WINDOW)
    assert answers == {403: ceiling * minutes, 429: (fresh - ceiling) * minutes}
    kdf_per_guess = len(kdf_runs) / (ceiling * minutes)
    assert kdf_per_guess >= 1
    print(f"\ncodename guesses per hour: {one_circuit} from one circuit, "
          f"{ceiling * 60} from any number of circuits "
          f"({kdf_per_guess:.0f} Argon2id run(s) each; refused attempts ran none)")


def test_editor_password_guesses_per_hour_are_bounded(settings, data_dir, clock, monkeypatch):
    """A guesser who knows a username, trying a password every 20 seconds for two hours."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    make_editor("alice")
    checked: list[str] = []
    from portal.editorial import auth_views

    real_authenticate = auth_views.authenticate

    def counting(request, **credentials):  # type: ignore[no-untyped-def]
        checked.append(credentials["password"])
        return real_authenticate(request, **credentials)

    monkeypatch.setattr(auth_views, "authenticate", counting)
    hours, step = 2, 20
    answers = []
    for attempt in range(hours * 3600 // step):
        response = Client().post("/editor/login/", {
            "username": "alice", "password": f"guess {attempt}", "otp_token": "123456"})
        answers.append(response.status_code)
        clock(step)
    # Five guesses, then a quarter of an hour locked, again and again.
    per_hour = len(checked) / hours
    assert per_hour <= MAX_FAILURES * 3600 / COOL_OFF_SECONDS
    assert set(answers) == {400, 429}
    print(f"\neditor password guesses per hour: {per_hour:.0f} "
          f"(limit {MAX_FAILURES * 3600 // COOL_OFF_SECONDS})")


def wrong_code(device: TOTPDevice) -> str:
    """A code that is not valid at this moment, nor one step either side."""
    counter = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    counter.time = time.time()
    valid = set()
    for step in (-1, 0, 1):
        counter.drift = device.drift + step
        valid.add(counter.token())
    guess = 0
    while guess in valid:
        guess += 1
    return f"{guess:06d}"


def test_editor_code_guesses_with_a_stolen_password_are_bounded(settings, data_dir, clock):
    """The password is known; a code is tried every two minutes for a day."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    alice = make_editor("alice")
    device = TOTPDevice.objects.get(user=alice)
    step, day = 120, 24 * 3600
    for _ in range(day // step):
        device.refresh_from_db()
        response = Client().post("/editor/login/", {
            "username": "alice", "password": "correct horse battery 9",
            "otp_token": wrong_code(device)})
        assert response.status_code in (400, 429)
        clock(step)
    device.refresh_from_db()
    # django-otp counts every code it compared; its back-off doubles after each failure.
    compared = device.throttling_failure_count
    assert 0 < compared <= MAX_FAILURES * day / COOL_OFF_SECONDS
    assert compared <= 20, "django-otp's doubling back-off should hold a day to under 20 codes"
    print(f"\neditor codes compared in a day with the password known: {compared} "
          f"(portal throttle alone: {MAX_FAILURES * day // COOL_OFF_SECONDS})")

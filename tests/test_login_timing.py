"""Login timing: a wrong codename costs the server as long as a right one (measured, not assumed).

A login that answered an unknown codename faster than a known one would let a
guesser tell a near miss from a hit, or learn which codenames exist. The view
runs the same Argon2id work for every well-formed codename, right or wrong;
this test times the whole view (form, KDF, database, session, response) at the
production KDF cost, in alternating samples so that load on a shared machine
falls on both sides alike, and compares paired medians.

So the comparison cannot pass by being blind, the same statistic must flag a
login that skips the KDF: malformed input is refused before any hashing (on
purpose: it says nothing about any account), and it has to show up as
different.
"""

from __future__ import annotations

import statistics
import time

import pytest
from django.test import Client

from tests.authoring import new_author

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
# Well formed (seven list words), belongs to nobody: the server must hash it.
WRONG = "abacus abdomen abdominal abide abiding ability ablaze"
MALFORMED = "not a codename"
ROUNDS = 9
# Right and wrong may differ by this share of a login's time: far below the
# difference a skipped KDF run makes (half the time or more), far above what
# a few template or session writes cost next to Argon2id at 64 MiB.
TOLERANCE = 0.15


def timed_login(client: Client, codename: str, expected: int) -> float:
    start = time.perf_counter()
    response = client.post("/author/login/", {"codename": codename})
    elapsed = time.perf_counter() - start
    assert response.status_code == expected
    return elapsed


def test_wrong_and_right_codenames_take_the_same_time(data_dir, settings):
    settings.PORTAL_KDF_TIME_COST = 3  # the production cost, not the tests' cheap one
    settings.PORTAL_KDF_MEMORY_KIB = 64 * 1024
    author = Client()
    codename = new_author(author)
    guesser, scribbler = Client(), Client()
    timed_login(author, codename, 302)  # warm caches (word lists, templates) on both paths
    timed_login(guesser, WRONG, 403)
    right, wrong, malformed = [], [], []
    for round_number in range(ROUNDS):
        # Alternate which goes first, so a load spike lands on both sides.
        if round_number % 2:
            wrong.append(timed_login(guesser, WRONG, 403))
            right.append(timed_login(author, codename, 302))
        else:
            right.append(timed_login(author, codename, 302))
            wrong.append(timed_login(guesser, WRONG, 403))
        malformed.append(timed_login(scribbler, MALFORMED, 403))

    typical = statistics.median(right + wrong)
    gap = statistics.median(r - w for r, w in zip(right, wrong, strict=True))
    skipped = statistics.median(r - m for r, m in zip(right, malformed, strict=True))
    print(f"\nlogin medians: right {statistics.median(right) * 1000:.0f} ms, "
          f"wrong {statistics.median(wrong) * 1000:.0f} ms, paired gap {gap * 1000:+.1f} ms; "
          f"malformed (no KDF) {statistics.median(malformed) * 1000:.1f} ms")
    assert typical > 0.05, "the production KDF cost was not in effect"
    assert abs(gap) <= TOLERANCE * typical, (
        f"a right codename and a wrong one differ by {gap * 1000:.0f} ms of {typical * 1000:.0f} ms")
    # The same statistic sees a login that skips the KDF.
    assert skipped > TOLERANCE * typical

"""When every cleaning slot stays taken, the author is told to come back, and nothing is kept.

Cleaning is bounded across the server (PORTAL_CLEANERS slots shared by every
worker). An upload that finds them all taken past PORTAL_CLEANER_WAIT_SECONDS
is turned away whole, with a page in the author's language, HTTP 503 and
Retry-After; not half-accepted with its files refused as "busy", and nothing
of it stays in the spool. Only the server's own slots can send an author away:
a cleaner that answers "busy" is an ordinary refusal.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from portal.authors import pending as pending_uploads
from portal.authors.busy import RETRY_AFTER_SECONDS
from portal.authors.cleaning import RENDERER_PYTHON_BYTES, cleaner_slots, safe_copy_limits
from portal.sanitize import CleaningRefused
from portal.sanitize.safecopy import SafeCopy
from portal.sanitize.sandbox.slots import CleanerSlots
from portal.submissions.models import Submission
from tests.authoring import new_author, review_of, upload

pytestmark = pytest.mark.django_db
COME_BACK = ("Many uploads are arriving right now, so yours was not accepted. Nothing was "
             "kept. Please go back and send it again in a few minutes.")


def spool_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "spool").rglob("*") if p.is_file()]


@pytest.fixture
def one_cleaner(settings):  # type: ignore[no-untyped-def]
    settings.PORTAL_CLEANERS = 1
    settings.PORTAL_CLEANER_WAIT_SECONDS = 1


def test_an_upload_finding_every_cleaner_busy_gets_the_busy_page_and_nothing_is_kept(
        client, editor, data_dir, one_cleaner):
    new_author(client)
    with cleaner_slots().hold():  # another worker's cleaning, in progress
        response = upload(client, [("a.txt", b"first draft"), ("b.txt", b"second draft")])
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    body = response.content.decode()
    assert COME_BACK in body and 'id="confirm"' not in body
    assert spool_files(data_dir) == []
    assert Submission.objects.count() == 0
    review_of(upload(client, [("a.txt", b"first draft")]))  # the slot is free again


def test_busy_after_the_first_file_keeps_nothing_of_it_either(client, editor, data_dir,
                                                              one_cleaner, monkeypatch):
    """The first file is cleaned, the second finds the slots taken: the upload goes whole."""
    real = pending_uploads.clean_isolated
    calls: list[str] = []

    def second_finds_them_busy(src: Any, dst: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["name_hint"])
        if len(calls) == 1:
            return real(src, dst, **kwargs)
        with CleanerSlots(kwargs["slots"].directory, 1, 0).hold():
            return real(src, dst, **kwargs)

    monkeypatch.setattr(pending_uploads, "clean_isolated", second_finds_them_busy)
    new_author(client)
    response = upload(client, [("a.txt", b"first draft"), ("b.txt", b"second draft")])
    assert response.status_code == 503
    assert calls == ["a.txt", "b.txt"]
    assert spool_files(data_dir) == []


@pytest.mark.parametrize("lang,tag", [("zh-hans", "zh-Hans"), ("zh-hant", "zh-Hant")])
def test_the_busy_page_speaks_the_authors_language(editor, data_dir, one_cleaner, lang, tag):
    client = Client(HTTP_ACCEPT_LANGUAGE={"zh-hans": "zh-CN", "zh-hant": "zh-TW"}[lang])
    new_author(client)
    with cleaner_slots().hold():
        response = upload(client, [("a.txt", "第一章".encode())])
    assert response.status_code == 503
    body = response.content.decode()
    assert f'<html lang="{tag}">' in body
    with translation.override(lang):
        assert gettext(COME_BACK) in body  # the sentence, translated once the catalogue has it


def test_a_cleaner_that_answers_busy_cannot_turn_authors_away(client, editor, data_dir,
                                                              monkeypatch):
    """Only the slots raise CleanersBusy: a child's "busy" is a refusal like any other."""
    def lying_child(src: Any, dst: Any, **kwargs: Any) -> Any:
        raise CleaningRefused("busy")

    monkeypatch.setattr(pending_uploads, "clean_isolated", lying_child)
    new_author(client)
    review = review_of(upload(client, [("a.txt", b"words")]))
    assert "The server is cleaning many files right now" in review.html


def test_the_safe_copy_renderer_takes_a_cleaner_slot_and_fits_its_share(
        client, editor, data_dir, settings, monkeypatch):
    """A renderer starts only in a free slot, holding it while it runs, and its limits
    (scratch folder plus each process, beside its own Python) stay within the share."""
    settings.PORTAL_SAFE_COPIES = True
    settings.PORTAL_CLEANERS = 1
    settings.PORTAL_CLEANER_WAIT_SECONDS = 0
    seen: list[str] = []

    def renderer(source: Any, sink: io.BytesIO, **kwargs: Any) -> SafeCopy:
        try:
            with CleanerSlots(data_dir / "cleaner-slots", 1, 0).hold():
                seen.append("a slot was free while rendering")
        except CleaningRefused:
            seen.append("rendering in the only slot")
        sink.write(b"%PDF-1.7 page images")
        return SafeCopy(pages=1, text="none")

    monkeypatch.setattr(pending_uploads, "make_safe_copy", renderer)
    new_author(client)
    review_of(upload(client, [("a.txt", b"words")]))
    assert seen == ["rendering in the only slot"]
    limits = safe_copy_limits(60)
    share = settings.PORTAL_CLEANER_MEMORY_BYTES
    assert limits.scratch_bytes + limits.memory_bytes + RENDERER_PYTHON_BYTES <= share

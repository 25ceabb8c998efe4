"""Embedded content fails closed: a cleaner given a Context without a way to clean
what a document holds refuses each embedded file (and drops it), instead of
passing the bytes through."""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.sanitize.core import Context, clean_bytes
from portal.sanitize.errors import CleaningRefused
from portal.sanitize.formats.ooxml import clean_ooxml
from portal.sanitize.report import Report

from .dirty_office import dirty_docx


def test_the_default_refuses_embedded_bytes() -> None:
    with pytest.raises(CleaningRefused) as refused:
        Context(kind="docx").clean_embedded(b"\x89PNG\r\n\x1a\n", "word/media/a.png",
                                             Report(kind="docx"))
    assert refused.value.code == "embedded-not-cleaned"


def test_a_cleaner_without_the_recursion_drops_what_a_document_embeds() -> None:
    data, _tokens = dirty_docx()
    out, report = io.BytesIO(), Report(kind="docx")
    clean_ooxml(io.BytesIO(data), out, report, Context(kind="docx"))
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as cleaned:
        names = cleaned.namelist()
    assert not [name for name in names if name.startswith(("word/media/", "word/embeddings/"))]
    removed = {finding.code for finding in report.removed}
    assert "embedded-file-removed" in removed and "embedded-file" not in removed


def test_the_engine_passes_the_recursion_down() -> None:
    data, _tokens = dirty_docx()
    cleaned, report = clean_bytes(data)
    assert report.kind == "docx" and cleaned.startswith(b"PK")
    assert any(finding.code == "embedded-file" for finding in report.removed)

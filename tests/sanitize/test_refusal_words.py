"""Refusals an author can act on: no library message inside her sentence, and another
program's package (Pages, Numbers, Keynote, OFD, XPS) answered with the export it needs.

A damaged file used to show `zip: File is not a zip file` inside a Chinese
sentence; a Pages file got advice about unpacking ZIP archives.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from portal.sanitize import core
from portal.sanitize.errors import CleaningRefused
from portal.sanitize.forbidden import Screen, never_sendable
from portal.sanitize.messages import REASONS, REFUSED, refusal_sentence


def cleaned(data: bytes, name: str) -> core.Report:
    return core.clean(io.BytesIO(data), io.BytesIO(), name_hint=name)



@pytest.mark.parametrize(("code", "detail", "reason"), [
    ("malformed", "zip: File is not a zip file", "package-cut-short"),
    ("malformed", "unreadable XML in word/document.xml", "document-parts"),
    ("malformed", "png: UnidentifiedImageError", "picture"),
    ("malformed", "FLAC metadata cut short", "recording"),
    ("malformed", "no document catalog", "pdf"),
    ("malformed", "KeyError", "damaged"),
    ("limit", "CPU time", "too-slow"),
    ("limit", "documents nested too deeply", "too-deep"),
    ("limit", "file over 20 MiB", "too-large"),
    ("verification", "invisible character U+200B", "hidden-data"),
])
def test_a_library_message_becomes_a_reason_in_words(code, detail, reason):
    sentence = refusal_sentence(code, detail)
    assert REASONS[reason] in sentence and detail not in sentence
    assert all(word not in sentence for word in ("zip:", "Error", "MiB", "U+"))


def test_a_reason_follows_a_chinese_sentence_without_a_space():
    chinese = {REFUSED["malformed"].author: "文件似乎已经损坏，无法读取。",
               REASONS["package-cut-short"]: "它无法作为完整的文档打开。"}
    sentence = refusal_sentence("malformed", "zip: File is not a zip file",
                                lambda s: chinese.get(s, s))
    assert sentence == "文件似乎已经损坏，无法读取。它无法作为完整的文档打开。"


def test_a_refusal_that_names_a_format_keeps_it():
    assert "(DOC/XLS/PPT)" in refusal_sentence("legacy-office", "DOC/XLS/PPT")


@pytest.mark.parametrize(("members", "name", "code"), [
    (["Index/Document.iwa", "Metadata/Properties.plist"], "夜班.pages", "pages"),
    (["Index/Document.iwa", "Index/CalculationEngine.iwa"], "表.numbers", "numbers"),
    (["Index/Document.iwa", "Index/Slide-12.iwa"], "slides.key", "keynote"),
    (["Index/Document.iwa", "Index/Slide-12.iwa"], "renamed.zip", "keynote"),
    (["OFD.xml", "Doc_0/Document.xml"], "公文.ofd", "ofd"),
    (["[Content_Types].xml", "FixedDocumentSequence.fdseq"], "scan.xps", "xps"),
])
def test_another_programs_package_is_told_its_export_never_about_archives(members, name, code):
    data = zipped(members)
    with pytest.raises(CleaningRefused) as refused:
        cleaned(data, name)
    assert refused.value.code == code
    screen = Screen(name)
    screen.scan(io.BytesIO(data))
    # The server's own look (outside the sandbox) agrees, or leaves it to the cleaner.
    outright = screen.outright()
    assert (outright.code if outright else screen.after_refusal(refused.value).code) == code
    assert never_sendable(code)
    assert "Export" in REFUSED[code].author or "PDF" in REFUSED[code].author
    assert "ZIP" not in REFUSED[code].author


def test_a_plain_zip_is_still_an_archive_and_a_docx_naming_a_package_still_a_docx():
    with pytest.raises(CleaningRefused) as refused:
        cleaned(zipped(["a.txt"]), "a.zip")
    assert refused.value.code == "archive"
    from tests.sanitize.dirty_office import plain_docx, rezip, unzip

    members = unzip(plain_docx("see Index/Document.iwa and OFD.xml"))
    members["customXml/Index/Document.iwa.txt"] = "x"
    screen = Screen("draft.docx")
    screen.scan(io.BytesIO(rezip(members, stored=tuple(members))))
    assert screen.outright() is None


def zipped(members: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for member in members:
            archive.writestr(member, b"\x00" * 16)
    return out.getvalue()

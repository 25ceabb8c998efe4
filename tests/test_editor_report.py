"""What portal-editor writes for editors: kinds and counts only, in the editor's language.

A seized or backed-up editor laptop must not link a pen name to a legal name,
so the report it writes says "1 author name(s)", never the name — even for a
manifest from before reports were value-free, which still carries the values.
"""

from __future__ import annotations

import pytest

from portal.editor_client.sync import file_name
from portal.editor_client.wording import ReportWriter, editor_language, message_text
from portal.sanitize.report import Report

VALUES = ("陈晓梅 Chen Xiaomei", "Xiaomi Redmi Note 12", "C:/Users/xiaomei", "深圳某电子厂")


def report_with_values() -> dict:  # type: ignore[type-arg]
    """A cleaning report as manifests before penname-manifest/2 carried it."""
    report = Report(kind="docx")
    report.remove("author-name", VALUES[0])
    report.remove("camera", VALUES[1])
    report.remove("file-path", VALUES[2])
    report.remove("company", VALUES[3])
    report.remove("comment-author", "甲")
    report.remove("comment-author", "乙")
    report.remove("comments", count=12)
    report.note("type-mismatch", "image/jpeg")
    report.note("writing-style")
    return report.to_dict()


@pytest.mark.parametrize("language", ["en", "zh_Hans", "zh_Hant"])
def test_the_report_names_kinds_and_counts_never_values(language: str) -> None:
    writer = ReportWriter(language)
    writer.file("1.docx", "docx", {"report": report_with_values(), "name_kept": False})
    writer.cleaned_here(Report.from_dict(report_with_values()))
    text = writer.text()
    assert not [v for v in (*VALUES, "甲", "乙", "image/jpeg") if v in text]
    if language == "en":
        assert "1 author name(s)" in text and "2 comment author name(s)" in text
        assert "12 comment(s)" in text and "identify the author" in text
        assert " you" not in text  # written for editors
    else:
        assert "作者" in text and "12" in text


def test_a_refusal_reaches_the_report_as_a_kind_only() -> None:
    writer = ReportWriter("en")
    writer.file("2.docx", "", {"refusal": {"code": "verification", "detail": VALUES[0]}})
    writer.not_cleaned_here("malformed")
    text = writer.text()
    assert VALUES[0] not in text
    assert "a check still found identifying data" in text and "NOT CLEANED" in text


@pytest.mark.parametrize(("environment", "expected"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh_Hans"), ({"LANG": "zh_TW.UTF-8"}, "zh_Hant"),
    ({"LC_ALL": "zh_HK.UTF-8", "LANG": "en_GB.UTF-8"}, "zh_Hant"),
    ({"LANGUAGE": "zh_SG:en"}, "zh_Hans"), ({"LANG": "de_DE.UTF-8"}, "en"), ({}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
])
def test_the_language_follows_the_editors_locale(monkeypatch, environment, expected) -> None:
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert editor_language() == expected
    assert editor_language("zh_Hant") == "zh_Hant"


def test_message_text_is_labelled_in_the_editors_language() -> None:
    text = message_text({"title": "夜班", "pen_name": "阿梅", "submitted_on": "2026-12-01",
                         "message": "请看"}, "zh_Hans")
    assert text.startswith("标题： 夜班\n笔名： 阿梅\n")


@pytest.mark.parametrize(("manifest_format", "entry", "expected"), [
    ("penname-manifest/1", {"name": "流水线上的她们-初稿-陈晓梅.docx", "kind": "docx"}, "3.docx"),
    ("penname-manifest/1", {"name": "IMG_20250214_182205.jpg", "kind": "jpeg"}, "3.jpg"),
    ("", {"name": "old.txt", "kind": "text"}, "3.txt"),
    ("penname-manifest/2", {"name": "1.docx", "name_kept": False, "kind": "docx"}, "1.docx"),
    ("penname-manifest/2", {"name": "我的稿子.docx", "name_kept": True, "kind": "docx"},
     "我的稿子.docx"),
])
def test_older_manifests_never_give_their_original_names(manifest_format, entry, expected) -> None:
    assert file_name(entry, 3, manifest_format) == expected


def test_each_reason_for_no_safe_copy_has_its_own_sentence() -> None:
    from portal.editor_client.wording import NO_SAFE_COPY, NO_SAFE_COPY_GIVEN

    sentences = set()
    for code in ("pages", "time", "pixels", "unavailable", "failed", "kind"):
        writer = ReportWriter("en")
        writer.no_safe_copy({"problem": code})
        sentences.add(writer.lines[-1].strip())
        assert writer.lines[-1].strip() == NO_SAFE_COPY[code]
    assert len(sentences) == 6
    for odd in (None, {}, {"problem": "<script>"}, "pages"):
        writer = ReportWriter("en")
        writer.no_safe_copy(odd)
        assert writer.lines[-1].strip() == NO_SAFE_COPY_GIVEN and "<script>" not in writer.text()


def test_the_report_says_to_open_the_safe_copies_first_when_there_are_some() -> None:
    writer = ReportWriter("en")
    writer.file("1.docx", "docx", {})
    writer.no_safe_copy({"problem": "time"})
    assert "safe/ first" not in writer.text()
    writer.file("2.docx", "docx", {})
    writer.safe_copy("2.pdf", {"pages": 3, "text": "document"}, checked_here=False)
    text = writer.text()
    assert text.index("Open the safe copies in safe/ first") < text.index("1.docx")
    assert "Safe copy: safe/2.pdf (3 page(s) of pictures)" in text
    assert "the document's own text" in text and "not checked on this computer" in text
    # A page count that is not a count is not shown as one.
    odd = ReportWriter("en")
    odd.safe_copy("1.pdf", {"pages": "陈晓梅", "text": "<b>"}, checked_here=True)
    assert "陈晓梅" not in odd.text() and "(? page(s)" in odd.text() and "<b>" not in odd.text()

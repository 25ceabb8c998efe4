"""DOCX, XLSX and PPTX cleaning: no author, reviewer, rsid, hidden text, language tag,
local path, thumbnail or picture note survives; the body text and accepted changes do;
hostile packages are refused, never crash, never hang.

Every dirty document comes from tests/sanitize/dirty_office.py, which plants a unique
token in each identifying place; the mat2 corpus is used when it is present.
"""

from __future__ import annotations

import io
import posixpath
import re
import time
import zipfile
from collections.abc import Callable

import docx
import openpyxl
import pytest
from lxml import etree

from portal.sanitize import (
    CleaningRefused,
    LimitExceeded,
    Limits,
    Report,
    clean,
    clean_bytes,
)
from portal.sanitize.messages import REMOVED
from tests.sanitize import dirty_office, dirty_pptx, hostile_samples
from tests.sanitize.corpus import CORPUS
from tests.sanitize.dirty_media import clean_isolated_bytes, identifying_tags
from tests.sanitize.scan import find_tokens

DIRTY: dict[str, tuple[Callable[[], tuple[bytes, dict[str, str]]], str]] = {
    "docx": (dirty_office.dirty_docx, "draft.docx"),
    "xlsx": (dirty_office.dirty_xlsx, "budget.xlsx"),
    "pptx": (dirty_pptx.dirty_pptx, "talk.pptx"),
}
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def removed(report: Report) -> dict[tuple[str, str], int]:
    return {(f.code, f.detail): f.count for f in report.removed}


def codes(report: Report) -> set[str]:
    return {f.code for f in report.removed}


@pytest.fixture(scope="module")
def cleaned_dirty() -> dict[str, tuple[bytes, dict[str, str], bytes, Report]]:
    """Each dirty document, its tokens, and its cleaned bytes and report (built once)."""
    out = {}
    for kind, (build, name) in DIRTY.items():
        dirty, tokens = build()
        cleaned, report = clean_bytes(dirty, name_hint=name)
        out[kind] = (dirty, tokens, cleaned, report)
    return out


# ---- what must go, and what must stay ----------------------------------------------

@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_every_token_is_planted_in_the_dirty_document(kind: str, cleaned_dirty: dict) -> None:
    dirty, tokens, _, _ = cleaned_dirty[kind]
    assert len(find_tokens(dirty, list(tokens.values()), exiftool=False)) == len(tokens)


@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_no_planted_token_survives_cleaning(kind: str, cleaned_dirty: dict) -> None:
    _, tokens, cleaned, report = cleaned_dirty[kind]
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert report.kind == kind


def test_word_body_text_and_accepted_changes_survive(cleaned_dirty: dict) -> None:
    _, _, cleaned, _ = cleaned_dirty["docx"]
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(cleaned)).paragraphs)
    for kept in (dirty_office.BODY, "Kept start.", "Inserted words.", "Bold now.",
                 "local notes", "Moved words."):
        assert kept in text
    document = etree.fromstring(members_of(cleaned)["word/document.xml"])
    assert document.find(f".//{W}hyperlink") is None  # the link to a local file is plain text
    assert document.find(f".//{W}drawing") is not None  # the picture is still there
    assert document.find(f".//{W}object") is not None  # and so is the embedded workbook


def test_word_report_says_what_was_removed(cleaned_dirty: dict) -> None:
    _, t, _, report = cleaned_dirty["docx"]
    found = removed(report)
    for entry in (("author-name", t["author"]), ("last-modified-by", t["last_editor"]),
                  ("company", t["company"]), ("comment-author", t["comment_author"]),
                  ("tracked-change-author", t["track_author"]),
                  ("tracked-change-author", t["format_author"]),
                  ("language", dirty_office.LANG), ("comment-author", t["person"]),
                  ("author-name", t["xlsx_author"]),
                  ("embedded-file", "word/embeddings/Microsoft_Excel_Worksheet.xlsx")):
        assert entry in found, entry
    assert found[("tracked-insertions-accepted", "")] == 2
    assert found[("tracked-deletions-removed", "")] == 2
    assert found[("hidden-text", "")] == 2
    assert found[("comments", "")] == 1
    assert found[("name-fields", "")] == 2
    assert found[("revision-ids", "")] > 3
    assert any(code == "external-link" and t["link_user"] in detail for code, detail in found)
    assert any(code == "external-link" and t["template_user"] in detail for code, detail in found)
    assert {"custom-properties", "custom-xml", "people", "thumbnail", "web-settings",
            "document-id", "document-dates", "software", "settings", "image-file-name",
            "text-chunks"} <= codes(report)


@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_each_finding_is_reported_once_in_words_an_author_can_read(
    kind: str, cleaned_dirty: dict
) -> None:
    report = cleaned_dirty[kind][3]
    keys = [(f.code, f.detail) for f in report.removed]
    assert len(keys) == len(set(keys))
    assert codes(report) <= set(REMOVED)


def test_workbook_cells_survive_and_the_local_link_does_not(cleaned_dirty: dict) -> None:
    _, t, cleaned, report = cleaned_dirty["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(cleaned)).active
    assert sheet["A1"].value == dirty_office.BODY
    assert sheet["A2"].value == "local notes" and sheet["A2"].hyperlink is None
    assert sheet["B2"].comment is None
    found = removed(report)
    for entry in (("author-name", t["author"]), ("author-name", t["share_user"]),
                  ("comment-author", t["comment_author"]), ("comment-author", t["person"])):
        assert entry in found, entry
    assert {"file-path", "password-hash", "printer-settings", "software",
            "document-id"} <= codes(report)


def test_slides_and_speaker_notes_survive(cleaned_dirty: dict) -> None:
    _, _, cleaned, report = cleaned_dirty["pptx"]
    parts = members_of(cleaned)
    assert dirty_office.BODY.encode() in parts["ppt/slides/slide1.xml"]
    assert dirty_pptx.NOTES.encode() in parts["ppt/notesSlides/notesSlide1.xml"]
    assert b"jump=nextslide" in parts["ppt/slides/slide1.xml"]  # an action, not a file link
    assert "ppt/media/image1.png" in parts
    assert not any(name.startswith(("ppt/comments", "ppt/tags", "ppt/printerSettings"))
                   or name in ("ppt/commentAuthors.xml", "ppt/revisionInfo.xml") for name in parts)
    assert {"comments", "comment-author", "language", "password-hash", "revision-history",
            "external-link", "document-id", "unknown-part"} <= codes(report)


# ---- the package stays consistent --------------------------------------------------

@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_content_types_and_relationships_match_the_remaining_parts(
    kind: str, cleaned_dirty: dict
) -> None:
    parts = members_of(cleaned_dirty[kind][2])
    types = etree.fromstring(parts["[Content_Types].xml"])
    overrides = {node.get("PartName")[1:] for node in types.iter(f"{CT}Override")}
    assert overrides == {n for n in parts if not n.endswith(".rels") and n != "[Content_Types].xml"}
    for name, data in parts.items():
        if not name.endswith(".rels"):
            continue
        folder = posixpath.dirname(posixpath.dirname(name))
        source = posixpath.join(folder, posixpath.basename(name)[: -len(".rels")])
        ids = set()
        for rel in etree.fromstring(data).iter(f"{PKG}Relationship"):
            ids.add(rel.get("Id"))
            if rel.get("TargetMode") == "External":
                assert rel.get("Target").startswith(("http:", "https:", "mailto:"))
                continue
            target = rel.get("Target")
            path = target[1:] if target.startswith("/") else posixpath.join(folder, target)
            assert posixpath.normpath(path) in parts
        if source in parts and source.endswith(".xml"):
            used = set(re.findall(rb'r:(?:id|embed|link)="([^"]+)"', parts[source]))
            assert {u.decode() for u in used} <= ids


@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_output_is_deterministic_and_undated(kind: str, cleaned_dirty: dict) -> None:
    dirty, _, cleaned, _ = cleaned_dirty[kind]
    assert clean_bytes(dirty, name_hint=DIRTY[kind][1])[0] == cleaned
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        assert archive.comment == b""
        assert archive.namelist()[0] == "[Content_Types].xml"
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert (info.comment, info.extra, info.create_system, info.external_attr) == (
                b"", b"", 3, 0o100644 << 16)


def test_a_picture_that_cannot_be_cleaned_leaves_with_its_frame() -> None:
    dirty, _ = dirty_office.dirty_docx()
    parts = dirty_office.unzip(dirty)
    parts["word/media/image1.png"] = b"\x01\x00\x00\x00 an EMF picture, which we cannot clean"
    cleaned, report = clean_bytes(dirty_office.rezip(parts, stored=()), name_hint="a.docx")
    assert ("embedded-file-removed", "word/media/image1.png") in removed(report)
    assert "word/media/image1.png" not in members_of(cleaned)
    document = docx.Document(io.BytesIO(cleaned))
    assert document.inline_shapes.__len__() == 0
    assert dirty_office.BODY in document.paragraphs[0].text


def test_an_ole_object_is_dropped_and_its_frame_with_it() -> None:
    dirty, _ = dirty_office.dirty_docx()
    parts = dirty_office.unzip(dirty)
    parts["word/embeddings/Microsoft_Excel_Worksheet.xlsx"] = (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))
    cleaned, report = clean_bytes(dirty_office.rezip(parts, stored=()), name_hint="a.docx")
    assert ("embedded-file-removed", "word/embeddings/Microsoft_Excel_Worksheet.xlsx") in (
        removed(report))
    assert b"OLEObject" not in members_of(cleaned)["word/document.xml"]


def test_a_package_without_content_types_is_rebuilt() -> None:
    dirty, tokens = dirty_office.dirty_docx()
    parts = dirty_office.unzip(dirty)
    del parts["[Content_Types].xml"]
    cleaned, _ = clean_bytes(dirty_office.rezip(parts, stored=()), kind="docx")
    assert find_tokens(cleaned, list(tokens.values()), exiftool=False) == []
    assert dirty_office.BODY in docx.Document(io.BytesIO(cleaned)).paragraphs[0].text


def _word_body(cleaned: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(cleaned)).paragraphs]


def test_tracked_paragraph_and_row_deletions_are_accepted() -> None:
    mark = '<w:del w:id="7" w:author="TOKEN-rowauthor-1234" w:date="2024-03-01T09:31:00Z"/>'
    body = (
        f"<w:p><w:pPr><w:rPr>{mark}</w:rPr></w:pPr><w:r><w:t xml:space=\"preserve\">First "
        "</w:t></w:r></w:p><w:p><w:r><w:t>second</w:t></w:r></w:p>"
        '<w:tbl><w:tblPr/><w:tblGrid><w:gridCol w:w="2000"/></w:tblGrid><w:tr><w:tc><w:p>'
        "<w:r><w:t>kept row</w:t></w:r></w:p></w:tc></w:tr>"
        f"<w:tr><w:trPr>{mark}</w:trPr><w:tc><w:p><w:r><w:t>TOKEN-deletedrow-5678</w:t></w:r>"
        "</w:p></w:tc></w:tr></w:tbl>"
    )
    parts = dirty_office.unzip(dirty_office.plain_docx())
    document = parts["word/document.xml"]
    text = document.decode() if isinstance(document, bytes) else document
    parts["word/document.xml"] = text.replace("<w:sectPr", body + "<w:sectPr", 1)
    cleaned, report = clean_bytes(dirty_office.rezip(parts, stored=()), name_hint="a.docx")
    assert "First second" in _word_body(cleaned)
    assert find_tokens(cleaned, ["TOKEN-rowauthor-1234", "TOKEN-deletedrow-5678"]) == []
    assert docx.Document(io.BytesIO(cleaned)).tables[0].cell(0, 0).text == "kept row"
    assert removed(report)[("tracked-deletions-removed", "")] == 2


def test_a_field_linking_to_a_local_file_keeps_only_its_text() -> None:
    field = (
        '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space='
        '"preserve"> HYPERLINK "file:///home/TOKEN-fielduser-4321/notes.odt" </w:instrText>'
        '</w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>my notes</w:t></w:r>'
        '<w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    )
    parts = dirty_office.unzip(dirty_office.plain_docx())
    document = parts["word/document.xml"]
    text = document.decode() if isinstance(document, bytes) else document
    parts["word/document.xml"] = text.replace("<w:sectPr", field + "<w:sectPr", 1)
    cleaned, _ = clean_bytes(dirty_office.rezip(parts, stored=()), name_hint="a.docx")
    assert "my notes" in _word_body(cleaned)
    assert find_tokens(cleaned, ["TOKEN-fielduser-4321"]) == []
    assert b"fldChar" not in members_of(cleaned)["word/document.xml"]


# ---- the verified and isolated paths ------------------------------------------------

@pytest.mark.parametrize("kind", sorted(DIRTY))
def test_the_independent_verifier_accepts_the_cleaned_document(kind: str) -> None:
    build, name = DIRTY[kind]
    dirty, tokens = build()
    out = io.BytesIO()
    clean(io.BytesIO(dirty), out, name_hint=name)
    assert find_tokens(out.getvalue(), list(tokens.values()), exiftool=False) == []


def test_clean_isolated_cleans_a_word_document() -> None:
    dirty, tokens = dirty_office.dirty_docx()
    cleaned, report = clean_isolated_bytes(dirty, "draft.docx")
    assert find_tokens(cleaned, list(tokens.values()), exiftool=False) == []
    assert "author-name" in codes(report)  # type: ignore[arg-type]


# ---- hostile packages ---------------------------------------------------------------

def _refusal(data: bytes, name: str = "x.docx", **kwargs: object) -> CleaningRefused:
    started = time.monotonic()
    with pytest.raises(CleaningRefused) as caught:
        clean_bytes(data, name_hint=name, **kwargs)  # type: ignore[arg-type]
    assert time.monotonic() - started < 10
    return caught.value


def _docx_with(document: bytes | str, extra: dict[str, bytes | str] | None = None) -> bytes:
    parts = dirty_office.unzip(dirty_office.plain_docx())
    parts["word/document.xml"] = document
    parts.update(extra or {})
    return dirty_office.rezip(parts, stored=())


def test_billion_laughs_is_refused_quickly() -> None:
    assert _refusal(hostile_samples.billion_laughs_docx()).code == "malformed"


def test_an_external_entity_is_refused_and_never_read() -> None:
    refusal = _refusal(hostile_samples.external_entity_docx())
    assert refusal.code == "malformed" and hostile_samples.PASSWD_MARKER not in str(refusal)


def test_a_zip_bomb_is_refused_from_its_declared_size() -> None:
    refusal = _refusal(hostile_samples.zip_bomb_docx(expanded=64 * 1024 * 1024))
    assert isinstance(refusal, LimitExceeded)


def test_a_zip_bomb_with_forged_sizes_is_refused_while_inflating() -> None:
    bomb = hostile_samples.zip_bomb_docx(expanded=64 * 1024 * 1024, lie_about_size=True)
    assert _refusal(bomb).code in ("limit", "malformed")


def test_lowered_limits_are_enforced() -> None:
    plain = dirty_office.plain_docx()
    assert isinstance(_refusal(plain, limits=Limits(max_zip_members=2)), LimitExceeded)
    assert isinstance(_refusal(plain, limits=Limits(max_zip_expanded_bytes=500)), LimitExceeded)
    big = _docx_with(b"<w:document/>", {"word/media/image1.png": bytes(2 * 1024 * 1024)})
    assert isinstance(_refusal(big, limits=Limits(max_zip_ratio=50)), LimitExceeded)


@pytest.mark.parametrize("member", ["../evil.xml", "/etc/evil.xml", "word/../../evil.xml",
                                    "C:evil.xml", "word\\evil.xml", "WORD/DOCUMENT.XML"])
def test_unsafe_or_duplicate_member_names_are_refused(member: str) -> None:
    plain = dirty_office.plain_docx()
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        parts = [(i.filename, archive.read(i)) for i in archive.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in [*parts, (member, b"<x/>")]:
            archive.writestr(zipfile.ZipInfo(name), content)
    assert _refusal(buffer.getvalue()).code == "malformed"


def test_an_encrypted_member_is_refused() -> None:
    plain = bytearray(dirty_office.plain_docx())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = plain.find(signature)
        plain[position + flag_offset] |= 0x01
    assert _refusal(bytes(plain)).code == "encrypted-document"


def test_a_missing_or_unreadable_main_part_is_refused() -> None:
    parts = dirty_office.unzip(dirty_office.plain_docx())
    del parts["word/document.xml"]
    parts["word/other.xml"] = "<x/>"
    assert _refusal(dirty_office.rezip(parts, stored=())).code == "malformed"
    assert _refusal(_docx_with(b"d8:announce32:not xml at all")).code == "malformed"


def test_mangled_packages_are_cleaned_or_refused_never_crash() -> None:
    dirty, _ = dirty_office.dirty_docx()
    for cut in range(200, len(dirty), max(1, len(dirty) // 15)):
        try:
            clean_bytes(dirty[:cut], name_hint="cut.docx")
        except CleaningRefused:
            pass
    parts = dirty_office.unzip(dirty)
    for name in [n for n in parts if n.endswith((".xml", ".rels"))]:
        broken = dict(parts)
        content = parts[name]
        broken[name] = (content if isinstance(content, bytes) else content.encode())[:-7]
        try:
            clean_bytes(dirty_office.rezip(broken, stored=()), name_hint="broken.docx")
        except CleaningRefused as refusal:
            assert refusal.code == "malformed"


# ---- the mat2 corpus ----------------------------------------------------------------

CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".docx", ".xlsx",
                                                                         ".pptx"))


def _rsids(data: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for name, content in members_of(data).items():
        if name.endswith(".xml"):
            found |= set(re.findall(rb'w:rsid\w*="([0-9A-Fa-f]{8})"', content))
            found |= set(re.findall(rb'<w:rsid(?:Root)? w:val="([0-9A-Fa-f]{8})"', content))
    return found


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the mat2 corpus is not available")
@pytest.mark.filterwarnings("ignore:Workbook contains no stylesheet")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_mat2_corpus_document_is_cleaned_or_refused_with_a_reason(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    try:
        cleaned, _ = clean_bytes(data, name_hint=name)
    except CleaningRefused as refusal:
        assert refusal.code, name
        return
    before, after = identifying_tags(data), identifying_tags(cleaned)
    assert not {k: v for k, v in after.items() if not k.startswith(("File:", "ZIP:"))}, name
    names = [v for k, v in before.items() if k.split(":")[-1] in (
        "Creator", "LastModifiedBy", "Company", "Manager") and len(v) > 2]
    assert find_tokens(cleaned, names, exiftool=False) == []
    leftover = _rsids(data) & {r for n, c in members_of(cleaned).items() for r in
                               re.findall(rb"[0-9A-Fa-f]{8}", c) if n.endswith(".xml")}
    assert not leftover, name
    if name.endswith(".docx"):
        docx.Document(io.BytesIO(cleaned))
    elif name.endswith(".xlsx"):
        openpyxl.load_workbook(io.BytesIO(cleaned))

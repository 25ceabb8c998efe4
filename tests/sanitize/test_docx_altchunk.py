"""Text a Word document imports (w:altChunk) is kept; the imported file's traces are not.

A document assembled by a tool, a mail client or a template often holds part
of its text as a whole other file that Word merges in when it opens it: a web
page, a web archive (MHT), plain text, another DOCX. Dropping that part loses
the author's words; keeping it keeps the page's title and author, the mail
headers, the other document's properties. The cleaner turns each into plain
paragraphs at the same place, cleans a nested DOCX first, and refuses what it
cannot read (RTF, XML of other kinds, text not in UTF-8) with a sentence.
"""

from __future__ import annotations

import io

import docx
import pytest

from portal.sanitize import CleaningRefused, clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.messages import REFUSED, REMOVED
from portal.sanitize.verify import verify

from . import verify_samples as samples
from .dirty_office import _add_rels, _text, dirty_docx, relationship, rezip, unzip
from .scan import find_tokens

AFCHUNK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"
T = {
    "html_title": "TOKEN-htmltitle-1a2b", "html_author": "TOKEN-htmlauthor-2b3c",
    "html_comment": "TOKEN-htmlcomment-3c4d", "html_hidden": "TOKEN-htmlhidden-4d5e",
    "html_script": "TOKEN-htmlscript-5e6f", "mht_from": "TOKEN-mhtfrom-6f7a",
    "mht_user": "TOKEN-mhtuser-7a8b", "mht_title": "TOKEN-mhttitle-8b9c",
}
HTML = (
    f'<!DOCTYPE html><html><head><title>{T["html_title"]}</title><meta name="author" '
    f'content="{T["html_author"]}"><meta charset="utf-8"><style>p {{color: red}}</style>'
    f'</head><body><p>网页第一段 imported from a page</p><!-- {T["html_comment"]} -->'
    f'<p style="display: none">{T["html_hidden"]}</p><script>var a = "{T["html_script"]}";'
    "</script><div>Second <b>bold</b> paragraph<br>with a break</div></body></html>"
)
MHT = (
    f"From: <{T['mht_from']}@example.org>\r\nSubject: {T['mht_title']}\r\n"
    "Date: Fri, 14 Feb 2025 18:22:05 +0800\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/related; boundary="----=_NextPart_01"\r\n\r\n'
    "------=_NextPart_01\r\n"
    f"Content-Location: file:///C:/Users/{T['mht_user']}/Documents/page.htm\r\n"
    "Content-Transfer-Encoding: base64\r\nContent-Type: text/html; charset=\"utf-8\"\r\n\r\n"
)


def _mht() -> bytes:
    import base64

    page = (f"<html><head><title>{T['mht_title']}</title></head><body><p>存档里的段落 "
            "from an archive</p></body></html>").encode()
    return (MHT + base64.encodebytes(page).decode() + "\r\n------=_NextPart_01--\r\n").encode()


def with_alt_chunks(*chunks: tuple[str, str, bytes]) -> bytes:
    """A Word document: "Before", then one altChunk per (part name, content type, bytes),
    then "After"."""
    document = docx.Document()
    document.add_paragraph("Before the imports")
    buffer = io.BytesIO()
    document.save(buffer)
    members = unzip(buffer.getvalue())
    body = _text(members, "word/document.xml")
    marks = "".join(f'<w:altChunk r:id="rIdAlt{i}"/>' for i in range(len(chunks)))
    members["word/document.xml"] = body.replace(
        "<w:sectPr", marks + '<w:p><w:r><w:t>After the imports</w:t></w:r></w:p><w:sectPr', 1)
    overrides = ""
    for i, (name, ctype, data) in enumerate(chunks):
        members[f"word/{name}"] = data
        overrides += f'<Override PartName="/word/{name}" ContentType="{ctype}"/>'
        _add_rels(members, "word/_rels/document.xml.rels",
                  relationship(f"rIdAlt{i}", AFCHUNK, name))
    members["[Content_Types].xml"] = _text(members, "[Content_Types].xml").replace(
        "</Types>", overrides + "</Types>")
    return rezip(members, stored=())


def paragraphs(data: bytes) -> list[str]:
    return [p.text for p in docx.Document(io.BytesIO(data)).paragraphs]


def test_an_imported_web_page_keeps_its_visible_text_only() -> None:
    dirty = with_alt_chunks(("afchunk.htm", "text/html", HTML.encode()))
    out, report = clean_bytes(dirty, name_hint="合集.docx")
    text = paragraphs(out)
    assert text[0] == "Before the imports" and text[-1] == "After the imports"
    assert "网页第一段 imported from a page" in text
    assert "Second bold paragraph\nwith a break" in text
    assert find_tokens(out, list(T.values())) == []
    assert ("imported-document", "HTML") in {(f.code, f.detail) for f in report.removed}
    assert not [name for name in unzip(out) if "afchunk" in name.lower()]


def test_imported_plain_text_and_web_archive_keep_their_text_in_place() -> None:
    dirty = with_alt_chunks(
        ("afchunk1.txt", "text/plain", "\ufeff第一行 first line\r\nsecond\tline\r\n".encode()),
        ("afchunk2.mht", "message/rfc822", _mht()),
    )
    out, report = clean_bytes(dirty, name_hint="合集.docx")
    text = paragraphs(out)
    assert text[:3] == ["Before the imports", "第一行 first line", "second\tline"]
    assert "存档里的段落 from an archive" in text
    assert text.index("second\tline") < text.index("存档里的段落 from an archive")
    assert find_tokens(out, list(T.values())) == []
    details = {f.detail for f in report.removed if f.code == "imported-document"}
    assert details == {"TXT", "MHT"}


def test_an_imported_word_document_is_cleaned_before_its_text_is_merged() -> None:
    inner, tokens = dirty_docx()
    dirty = with_alt_chunks(("afchunk.docx", "application/vnd.openxmlformats-officedocument."
                             "wordprocessingml.document.main+xml", inner))
    out, report = clean_bytes(dirty, name_hint="合集.docx")
    text = "\n".join(paragraphs(out))
    assert "The quick body text 正文" in text and "Inserted words." in text
    assert find_tokens(out, list(tokens.values())) == []
    codes = {f.code for f in report.removed}
    assert {"imported-document", "author-name", "comments"} <= codes


@pytest.mark.parametrize("name,ctype,data,detail", [
    ("afchunk.rtf", "application/rtf", b"{\\rtf1\\ansi {\\info{\\author Wang}}Text}", "RTF"),
    ("afchunk.xml", "application/xml",
     b'<?xml version="1.0"?><pkg:package xmlns:pkg="urn:x"><w:delText>gone</w:delText>'
     b"</pkg:package>", "XML"),
    ("afchunk.txt", "text/plain", "罢工".encode("gb18030"), "TXT"),
], ids=["rtf", "flat-xml", "text-not-utf8"])
def test_an_import_that_cannot_be_kept_is_refused_with_a_sentence(
    name: str, ctype: str, data: bytes, detail: str
) -> None:
    with pytest.raises(CleaningRefused) as refused:
        clean_bytes(with_alt_chunks((name, ctype, data)), name_hint="合集.docx")
    assert refused.value.code == "altchunk" and refused.value.detail == detail
    assert "send" in REFUSED["altchunk"].author and "{detail}" not in REFUSED["altchunk"].editors
    assert "{detail}" not in REMOVED["imported-document"].editors


def test_verifier_refuses_an_altchunk_left_in_place() -> None:
    with pytest.raises(VerificationFailed, match="altChunk"):
        verify("docx", samples.docx(body='<w:altChunk r:id="rId9"/>'))

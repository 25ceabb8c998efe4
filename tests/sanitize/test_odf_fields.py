"""OpenDocument fields that store values nobody sees lose them; the page reads the same.

A template or a colleague can leave a user field holding a name, a variable set
but never shown, the other branch of a conditional text, hidden text, a hidden
paragraph or section. The cleaner drops the stored values and the hidden
content, turns every field that showed something into the text it showed, and
the independent verifier refuses any such field planted back.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest

from portal.sanitize import clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.messages import REMOVED
from portal.sanitize.verify import verify

from . import verify_samples as samples
from .dirty_odf import MIMETYPES, NS, XML
from .dirty_office import BODY, rezip
from .scan import find_tokens

T = {
    "user_field": "TOKEN-userfield-1a2b", "hidden_variable": "TOKEN-hiddenvar-2b3c",
    "other_branch": "TOKEN-otherbranch-3c4d", "hidden_text": "TOKEN-hiddentext-4d5e",
    "hidden_paragraph": "TOKEN-hiddenpara-5e6f", "hidden_section": "TOKEN-hiddensect-6f7a",
    "field_name": "TOKEN_fieldname_7a8b",
}
SHOWN = ["Shown user value", "3", "6", "Shown branch", BODY, "Conditional section text",
         '<text:sequence text:name="Illustration"']


def odt_with_fields() -> bytes:
    t = T
    body = (
        "<text:variable-decls><text:variable-decl office:value-type=\"string\" "
        'text:name="Secret"/><text:variable-decl office:value-type="float" text:name="Count"/>'
        "</text:variable-decls>"
        "<text:sequence-decls><text:sequence-decl text:display-outline-level=\"0\" "
        'text:name="Illustration"/></text:sequence-decls>'
        "<text:user-field-decls>"
        f'<text:user-field-decl office:value-type="string" office:string-value="{t["user_field"]}"'
        f' text:name="{t["field_name"]}"/>'
        '<text:user-field-decl office:value-type="string" office:string-value="Shown user value"'
        ' text:name="Shown"/></text:user-field-decls>'
        f"<text:p>{BODY}</text:p>"
        '<text:p><text:user-field-get text:name="Shown">Shown user value</text:user-field-get>'
        '</text:p>'
        '<text:p><text:variable-set text:name="Secret" text:display="none" '
        f'office:value-type="string" office:string-value="{t["hidden_variable"]}"/>'
        '<text:variable-set text:name="Count" office:value-type="float" office:value="3">3'
        '</text:variable-set></text:p>'
        '<text:p><text:expression text:formula="ooow:Count*2" office:value-type="float" '
        'office:value="6">6</text:expression></text:p>'
        '<text:p>Illustration <text:sequence text:name="Illustration" text:formula="ooow:Illustration+1" '
        'style:num-format="1">1</text:sequence></text:p>'
        '<text:p><text:conditional-text text:condition="ooow:1==1" '
        f'text:string-value-if-true="Shown branch" text:string-value-if-false="{t["other_branch"]}"'
        ' text:current-value="true">Shown branch</text:conditional-text></text:p>'
        '<text:p>Before <text:hidden-text text:condition="ooow:1==1" '
        f'text:string-value="{t["hidden_text"]}" text:is-hidden="true">{t["hidden_text"]}'
        "</text:hidden-text> after</text:p>"
        f'<text:p><text:hidden-paragraph text:condition="ooow:1==1" text:is-hidden="true"/>'
        f'{t["hidden_paragraph"]}</text:p>'
        f'<text:section text:name="S1" text:display="none"><text:p>{t["hidden_section"]}'
        "</text:p></text:section>"
        '<text:section text:name="S2" text:display="condition" text:condition="ooow:1==2" '
        'text:is-hidden="false"><text:p>Conditional section text</text:p></text:section>'
    )
    members: dict[str, bytes | str] = {
        "mimetype": MIMETYPES["odt"],
        "content.xml": (f"{XML}<office:document-content {NS}><office:body><office:text>{body}"
                        "</office:text></office:body></office:document-content>"),
        "META-INF/manifest.xml": (
            f'{XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
            f'manifest:media-type="{MIMETYPES["odt"]}"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>"),
    }
    return rezip(members)


def content_of(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.read("content.xml").decode()


def test_stored_values_and_hidden_content_are_gone_and_the_page_reads_the_same() -> None:
    dirty = odt_with_fields()
    assert all(token in content_of(dirty) for token in T.values())
    out, report = clean_bytes(dirty, name_hint="初稿.odt")
    assert find_tokens(out, list(T.values())) == []
    content = content_of(out)
    for text in SHOWN:
        assert text in content, text
    assert "Before  after" in content or "Before after" in content
    for element in ("user-field", "variable-", "conditional-text", "hidden-"):
        assert f"text:{element}" not in content
    found = {(f.code, f.detail) for f in report.removed}
    assert ("user-fields", f"{T['field_name']}: {T['user_field']}") in found
    assert ("user-fields", f"Secret: {T['hidden_variable']}") in found
    counts = {f.code: f.count for f in report.removed}
    assert counts["frozen-fields"] >= 5 and counts["hidden-text"] == 3
    assert "{detail}" not in REMOVED["user-fields"].editors


def _para(inner: str, attrs: str = "") -> str:
    return samples.ODF_TEXT_CLEAN + f"<text:p{attrs}>{inner}</text:p>"


FIELDS_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "user field declaration": (lambda: samples.odf(body=(
        '<text:user-field-decls><text:user-field-decl office:value-type="string" '
        'office:string-value="王小明" text:name="Author"/></text:user-field-decls>'
        + samples.ODF_TEXT_CLEAN)), "user field"),
    "user field shown": (lambda: samples.odf(body=_para(
        '<text:user-field-get text:name="Author">王小明</text:user-field-get>')), "user field"),
    "hidden variable": (lambda: samples.odf(body=_para(
        '<text:variable-set text:name="x" text:display="none" office:value-type="string" '
        'office:string-value="王小明"/>')), "variable"),
    "conditional text": (lambda: samples.odf(body=_para(
        '<text:conditional-text text:condition="1" text:string-value-if-true="a" '
        'text:string-value-if-false="王小明">a</text:conditional-text>')), "conditional text"),
    "hidden text": (lambda: samples.odf(body=_para(
        '<text:hidden-text text:condition="1" text:string-value="王小明"/>')), "hidden text"),
    "hidden paragraph": (lambda: samples.odf(body=_para(
        '<text:hidden-paragraph text:condition="1"/>王小明')), "hidden paragraph"),
    "hidden section": (lambda: samples.odf(body=(
        '<text:section text:name="S" text:display="none"><text:p>王小明</text:p>'
        "</text:section>" + samples.ODF_TEXT_CLEAN)), "hidden section"),
}


@pytest.mark.parametrize("case", sorted(FIELDS_DENIED))
def test_verifier_refuses_each_stored_value_planted_back(case: str) -> None:
    build, expected = FIELDS_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("odt", build())


def test_verifier_accepts_a_number_sequence() -> None:
    verify("odt", samples.odf(body=_para(
        '<text:sequence text:name="Illustration" text:formula="ooow:Illustration+1" '
        'style:num-format="1">1</text:sequence>')))

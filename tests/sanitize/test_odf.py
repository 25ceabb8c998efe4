"""ODT, ODS, ODP and ODG cleaning: no author, generator, reviewer, annotation, rsid,
language tag, printer, thumbnail, macro or picture note survives; the text does; the
manifest lists exactly what remains; encrypted and hostile packages are refused.

Dirty packages come from tests/sanitize/dirty_odf.py (a token in every identifying
place); the mat2 corpus is used when it is present.
"""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest
from lxml import etree

from portal.sanitize import CleaningRefused, Report, clean, clean_bytes
from portal.sanitize.messages import REMOVED
from tests.sanitize import dirty_odf, hostile_samples
from tests.sanitize.corpus import CORPUS
from tests.sanitize.dirty_media import clean_isolated_bytes, identifying_tags
from tests.sanitize.dirty_office import BODY, png_with_text, rezip, unzip
from tests.sanitize.scan import find_tokens

KINDS = ("odt", "ods", "odp", "odg")
MANIFEST = "{urn:oasis:names:tc:opendocument:xmlns:manifest:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def members_of(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def removed(report: Report) -> dict[tuple[str, str], int]:
    return {(f.code, f.detail): f.count for f in report.removed}


def text_of(xml: bytes) -> str:
    return "".join(etree.fromstring(xml).itertext())


@pytest.fixture(scope="module")
def cleaned_dirty() -> dict[str, tuple[bytes, dict[str, str], bytes, Report]]:
    out = {}
    for kind in KINDS:
        dirty, tokens = dirty_odf.dirty_odf(kind)
        cleaned, report = clean_bytes(dirty, name_hint=f"draft.{kind}")
        out[kind] = (dirty, tokens, cleaned, report)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_every_token_is_planted_in_the_dirty_package(kind: str, cleaned_dirty: dict) -> None:
    dirty, tokens, _, _ = cleaned_dirty[kind]
    assert len(find_tokens(dirty, list(tokens.values()), exiftool=False)) == len(tokens)


@pytest.mark.parametrize("kind", KINDS)
def test_no_planted_token_survives_and_the_text_does(kind: str, cleaned_dirty: dict) -> None:
    _, tokens, cleaned, report = cleaned_dirty[kind]
    assert find_tokens(cleaned, list(tokens.values())) == []
    assert report.kind == kind
    text = text_of(members_of(cleaned)["content.xml"])
    for kept in (BODY, "Inserted words.", "local notes"):
        assert kept in text


def test_text_report_says_what_was_removed(cleaned_dirty: dict) -> None:
    _, t, _, report = cleaned_dirty["odt"]
    found = removed(report)
    for entry in (("author-name", t["initial_creator"]), ("last-modified-by", t["creator"]),
                  ("software", t["generator"]), ("comment-author", t["annotation_author"]),
                  ("tracked-change-author", t["track_author"]),
                  ("author-name", t["content_creator"]), ("language", f"{dirty_odf.LANG}-CN"),
                  ("image-file-name", f"IMG-{t['image_name']}.png"),
                  ("external-link", f"file:///home/{t['link_user']}/plan.odt")):
        assert entry in found, entry
    assert found[("annotations", "")] == 1
    assert found[("tracked-insertions-accepted", "")] == 1
    assert found[("tracked-deletions-removed", "")] == 1
    assert found[("revision-ids", "")] == 3
    assert found[("name-fields", "")] == 1
    assert {"settings", "thumbnail", "macros", "custom-properties", "document-dates",
            "embedded-file", "text-chunks"} <= {code for code, _ in found}
    keys = [(f.code, f.detail) for f in report.removed]
    assert len(keys) == len(set(keys))
    assert {code for code, _ in found} <= set(REMOVED)


@pytest.mark.parametrize("kind", KINDS)
def test_package_is_minimal_and_its_manifest_exact(kind: str, cleaned_dirty: dict) -> None:
    cleaned = cleaned_dirty[kind][2]
    with zipfile.ZipFile(io.BytesIO(cleaned)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        assert archive.read("mimetype") == dirty_odf.MIMETYPES[kind].encode()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
    parts = members_of(cleaned)
    assert set(parts) == {"mimetype", "content.xml", "styles.xml", "meta.xml",
                          "META-INF/manifest.xml", dirty_odf.PICTURE}
    manifest = etree.fromstring(parts["META-INF/manifest.xml"])
    listed = {e.get(f"{MANIFEST}full-path") for e in manifest.iter(f"{MANIFEST}file-entry")}
    assert listed == {"/"} | set(parts) - {"mimetype", "META-INF/manifest.xml"}
    meta = etree.fromstring(parts["meta.xml"])
    assert [len(section) for section in meta] == [0]
    assert clean_bytes(cleaned_dirty[kind][0], name_hint=f"a.{kind}")[0] == cleaned


def _odt(content_body: str, extra: dict[str, bytes | str] | None = None,
         manifest_extra: str = "") -> bytes:
    members: dict[str, bytes | str] = {
        "mimetype": dirty_odf.MIMETYPES["odt"],
        "content.xml": (f"{dirty_odf.XML}<office:document-content {dirty_odf.NS}>"
                        f"<office:body><office:text>{content_body}</office:text></office:body>"
                        "</office:document-content>"),
    }
    members.update(extra or {})
    entries = "".join(f'<manifest:file-entry manifest:full-path="{n}" manifest:media-type=""/>'
                      for n in members if n != "mimetype")
    members["META-INF/manifest.xml"] = (
        f'{dirty_odf.XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
        'xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{dirty_odf.MIMETYPES["odt"]}"/>{entries}{manifest_extra}'
        "</manifest:manifest>")
    return rezip(members)


def test_an_encrypted_package_is_refused() -> None:
    encrypted = _odt("<text:p>x</text:p>", manifest_extra=(
        '<manifest:file-entry manifest:full-path="secret.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="AA==">'
        "</manifest:encryption-data></manifest:file-entry>"))
    with pytest.raises(CleaningRefused) as caught:
        clean_bytes(encrypted, name_hint="secret.odt")
    assert caught.value.code == "encrypted-document"


def test_an_odf_formula_is_refused_with_its_type() -> None:
    formula = rezip({"mimetype": "application/vnd.oasis.opendocument.formula",
                     "content.xml": "<math/>", "META-INF/manifest.xml": "<manifest/>"})
    with pytest.raises(CleaningRefused) as caught:
        clean_bytes(formula, name_hint="f.odf")
    assert (caught.value.code, caught.value.detail) == ("unknown-type", "ODF formula")


def test_sub_documents_are_cleaned_and_previews_dropped() -> None:
    chart = (f"{dirty_odf.XML}<office:document-content {dirty_odf.NS}><office:body>"
             '<office:chart><text:p><text:span officeooo:rsid="00ABCABC">Chart title</text:span>'
             "</text:p></office:chart></office:body></office:document-content>")
    frame = ('<text:p><draw:frame><draw:object xlink:href="./Object 1"/>'
             '<draw:image xlink:href="./ObjectReplacements/Object 1"/></draw:frame></text:p>')
    data = _odt(frame, {"Object 1/content.xml": chart,
                        "Object 1/meta.xml": f"{dirty_odf.XML}<office:document-meta "
                        f"{dirty_odf.NS}><office:meta><meta:generator>TOKEN-subgen-1234"
                        "</meta:generator></office:meta></office:document-meta>",
                        "ObjectReplacements/Object 1": b"SVM preview TOKEN-preview-5678"},
                manifest_extra='<manifest:file-entry manifest:full-path="Object 1/" '
                'manifest:media-type="application/vnd.oasis.opendocument.chart"/>')
    cleaned, report = clean_bytes(data, name_hint="chart.odt")
    parts = members_of(cleaned)
    assert find_tokens(cleaned, ["00ABCABC", "TOKEN-subgen-1234", "TOKEN-preview-5678"]) == []
    assert "Chart title" in text_of(parts["Object 1/content.xml"])
    assert b'xlink:href="./Object 1"' in parts["content.xml"]
    assert b"ObjectReplacements" not in parts["content.xml"]
    assert b'full-path="Object 1/"' in parts["META-INF/manifest.xml"]
    assert ("software", "TOKEN-subgen-1234") in removed(report)


def test_pictures_that_cannot_be_cleaned_are_dropped_with_their_frame() -> None:
    body = ('<text:p>Before<draw:frame><draw:image xlink:href="Pictures/a.svm"/></draw:frame>'
            "After</text:p>")
    cleaned, report = clean_bytes(_odt(body, {"Pictures/a.svm": b"VCLMTF TOKEN-svm-0000"}),
                                  name_hint="a.odt")
    parts = members_of(cleaned)
    assert "Pictures/a.svm" not in parts and b"draw:frame" not in parts["content.xml"]
    assert "BeforeAfter" in text_of(parts["content.xml"])
    assert ("embedded-file-removed", "Pictures/a.svm") in removed(report)


def test_an_inline_picture_is_cleaned_like_a_member() -> None:
    picture = base64.b64encode(png_with_text("TOKEN-inline-9999")).decode()
    body = (f"<text:p><draw:frame><draw:image><office:binary-data>{picture}"
            "</office:binary-data></draw:image></draw:frame></text:p>")
    cleaned, _ = clean_bytes(_odt(body), name_hint="a.odt")
    assert find_tokens(cleaned, ["TOKEN-inline-9999"]) == []
    assert b"office:binary-data" in members_of(cleaned)["content.xml"]


def test_a_package_without_mimetype_or_meta_is_still_cleaned() -> None:
    parts = unzip(dirty_odf.dirty_odf("odt")[0])
    del parts["mimetype"], parts["meta.xml"]
    cleaned, _ = clean_bytes(rezip(parts), name_hint="a.odt")
    assert members_of(cleaned)["mimetype"] == dirty_odf.MIMETYPES["odt"].encode()
    assert "meta.xml" not in members_of(cleaned)


@pytest.mark.parametrize("kind", KINDS)
def test_the_independent_verifier_accepts_the_cleaned_package(kind: str) -> None:
    dirty, tokens = dirty_odf.dirty_odf(kind)
    out = io.BytesIO()
    clean(io.BytesIO(dirty), out, name_hint=f"a.{kind}")
    assert find_tokens(out.getvalue(), list(tokens.values()), exiftool=False) == []


def test_clean_isolated_cleans_a_text_document() -> None:
    dirty, tokens = dirty_odf.dirty_odf("odt")
    cleaned, _ = clean_isolated_bytes(dirty, "draft.odt")
    assert find_tokens(cleaned, list(tokens.values()), exiftool=False) == []


def test_billion_laughs_in_content_is_refused() -> None:
    with pytest.raises(CleaningRefused) as caught:
        clean_bytes(hostile_samples.billion_laughs_odt(), name_hint="laughs.odt")
    assert caught.value.code == "malformed"


def test_a_zip_bomb_is_refused() -> None:
    with pytest.raises(CleaningRefused) as caught:
        clean_bytes(hostile_samples.zip_bomb_odt(64 * 1024 * 1024), name_hint="bomb.odt")
    assert caught.value.code == "limit"


CORPUS_FILES = sorted(p.name for p in CORPUS.glob("*") if p.suffix in (".odt", ".ods", ".odp",
                                                                         ".odg", ".odf"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the mat2 corpus is not available")
@pytest.mark.parametrize("name", CORPUS_FILES)
def test_mat2_corpus_package_is_cleaned_or_refused_with_a_reason(name: str) -> None:
    data = (CORPUS / name).read_bytes()
    try:
        cleaned, _ = clean_bytes(data, name_hint=name)
    except CleaningRefused as refusal:
        assert refusal.code, name
        return
    before, after = identifying_tags(data), identifying_tags(cleaned)
    assert not {k: v for k, v in after.items() if not k.startswith(("File:", "ZIP:"))}, name
    names = [v for k, v in before.items()
             if k.split(":")[-1] in ("Creator", "InitialCreator", "Author") and len(v) > 2]
    assert find_tokens(cleaned, names, exiftool=False) == []
    original = b"".join(members_of(data).get(n, b"") for n in ("content.xml", "styles.xml"))
    rsids = set(re.findall(rb'rsid="([0-9A-Fa-f]{8})"', original))
    kept = b"".join(c for n, c in members_of(cleaned).items() if n.endswith(".xml"))
    assert not {r for r in rsids if r in kept}, name
    assert etree.fromstring(members_of(cleaned)["content.xml"]).tag == f"{OFFICE}document-content"

"""The verifier refuses an office document while any identifying field remains.

Each dirty sample is the clean minimal document with exactly one thing planted:
an author, an rsid, a tracked change, a language tag, a thumbnail, a path.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest

from portal.sanitize.errors import VerificationFailed
from portal.sanitize.verify import verify

from . import verify_samples as samples
from .verify_samples import REL

W14 = 'xmlns:w14="http://schemas.microsoft.com/office/word/2010/wordml"'


def _para(inner: str, attrs: str = "") -> str:
    return f"<w:p{attrs}>{inner}</w:p>"


CLEAN: dict[str, Callable[[], bytes]] = {
    "docx": samples.docx, "xlsx": samples.xlsx, "pptx": samples.pptx,
    "odt": lambda: samples.odf("odt"), "ods": lambda: samples.odf("ods"),
    "odp": lambda: samples.odf("odp"), "odg": lambda: samples.odf("odg"),
}


@pytest.mark.parametrize("kind", sorted(CLEAN))
def test_clean_minimal_document_passes(kind: str) -> None:
    verify(kind, CLEAN[kind]())


def test_clean_samples_are_real_documents() -> None:
    import docx
    import openpyxl

    assert "明天见" in docx.Document(io.BytesIO(samples.docx())).paragraphs[0].text
    assert openpyxl.load_workbook(io.BytesIO(samples.xlsx())).active["A1"].value == "加班"


def test_document_of_another_kind_is_refused() -> None:
    with pytest.raises(VerificationFailed, match="not a xlsx"):
        verify("xlsx", samples.docx())


def test_python_docx_default_output_is_refused() -> None:
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with pytest.raises(VerificationFailed):
        verify("docx", buffer.getvalue())


def test_openpyxl_default_output_is_refused() -> None:
    import openpyxl

    buffer = io.BytesIO()
    openpyxl.Workbook().save(buffer)
    with pytest.raises(VerificationFailed):
        verify("xlsx", buffer.getvalue())


DOCX_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "creator": (lambda: samples.docx(core="<dc:creator>王小明</dc:creator>"), "author"),
    "last editor": (lambda: samples.docx(core="<cp:lastModifiedBy>li</cp:lastModifiedBy>"),
                    "last editor"),
    "created": (lambda: samples.docx(
        core='<dcterms:created xsi:type="dcterms:W3CDTF">2024-03-01T09:31:00Z</dcterms:created>'),
        "creation date"),
    "modified": (lambda: samples.docx(
        core='<dcterms:modified xsi:type="dcterms:W3CDTF">2024-03-01T09:31:00Z'
             "</dcterms:modified>"), "modification date"),
    "last printed": (lambda: samples.docx(core="<cp:lastPrinted>2024</cp:lastPrinted>"),
                     "print date"),
    "revision": (lambda: samples.docx(core="<cp:revision>7</cp:revision>"), "revision"),
    "identifier": (lambda: samples.docx(core="<dc:identifier>x</dc:identifier>"), "identifier"),
    "core language": (lambda: samples.docx(core="<dc:language>zh-HK</dc:language>"), "language"),
    "company": (lambda: samples.docx(app="<Company>深圳某厂</Company>"), "Company"),
    "manager": (lambda: samples.docx(app="<Manager>boss</Manager>"), "Manager"),
    "application": (lambda: samples.docx(app="<Application>Microsoft Office Word</Application>"),
                    "Application"),
    "app version": (lambda: samples.docx(app="<AppVersion>16.0000</AppVersion>"), "AppVersion"),
    "template": (lambda: samples.docx(app="<Template>Normal.dotm</Template>"), "Template"),
    "total time": (lambda: samples.docx(app="<TotalTime>94</TotalTime>"), "editing time"),
    "custom props": (lambda: samples.docx(parts=[("docProps/custom.xml", "<Properties/>")]),
                     "custom document properties"),
    "custom xml": (lambda: samples.docx(parts=[("customXml/item1.xml", "<a/>")]),
                   "custom XML"),
    "comments": (lambda: samples.docx(parts=[("word/comments.xml", "<w:comments/>")]),
                 "comments"),
    "comments extended": (lambda: samples.docx(parts=[("word/commentsExtended.xml", "<a/>")]),
                          "comments"),
    "people": (lambda: samples.docx(parts=[("word/people.xml", "<a/>")]), "reviewer"),
    "printer settings": (lambda: samples.docx(
        parts=[("word/printerSettings/printerSettings1.bin", b"\0")]), "printer"),
    "thumbnail": (lambda: samples.docx(parts=[("docProps/thumbnail.jpeg", samples.jpeg_bytes())]),
                  "thumbnail"),
    "web settings": (lambda: samples.docx(parts=[("word/webSettings.xml", "<a/>")]),
                     "web settings"),
    "macros": (lambda: samples.docx(parts=[("word/vbaProject.bin", b"\0")]), "macros"),
    "unknown part": (lambda: samples.docx(parts=[("word/notes-to-self.txt", b"hi")]),
                     "unexpected part"),
    "rsid attribute": (lambda: samples.docx(_para("", ' w:rsidR="00A1B2C3"')), "rsid"),
    "rsids": (lambda: samples.docx(settings='<w:rsids><w:rsidRoot w:val="00A1B2C3"/></w:rsids>'),
              "rsid"),
    "paraId": (lambda: samples.docx(
        _para("", f' {W14} w14:paraId="1A2B3C4D" w14:textId="77777777"')), "paraId"),
    "docId": (lambda: samples.docx(settings=(
        '<w15:docId xmlns:w15="http://schemas.microsoft.com/office/word/2012/wordml" '
        'w15:val="{6F4C}"/>')), "document id"),
    "insertion": (lambda: samples.docx(_para('<w:ins w:id="1"><w:r><w:t>x</w:t></w:r></w:ins>')),
                  "tracked change"),
    "deletion": (lambda: samples.docx(
        _para('<w:del w:id="1"><w:r><w:delText>secret</w:delText></w:r></w:del>')),
        "tracked change"),
    "move": (lambda: samples.docx(_para('<w:moveFrom w:id="1"/>')), "tracked change"),
    "format change": (lambda: samples.docx(
        _para('<w:r><w:rPr><w:b/><w:rPrChange w:id="2"><w:rPr/></w:rPrChange></w:rPr></w:r>')),
        "formatting change"),
    "paragraph format change": (lambda: samples.docx(
        _para('<w:pPr><w:pPrChange w:id="3"><w:pPr/></w:pPrChange></w:pPr>')),
        "formatting change"),
    "comment reference": (lambda: samples.docx(
        _para('<w:commentRangeStart w:id="0"/><w:r><w:commentReference w:id="0"/></w:r>')),
        "comment"),
    "hidden text": (lambda: samples.docx(
        _para("<w:r><w:rPr><w:vanish/></w:rPr><w:t>hidden</w:t></w:r>")), "hidden text"),
    "author attribute": (lambda: samples.docx(_para("", ' w:author="王小明"')), "author"),
    "initials": (lambda: samples.docx(_para("", ' w:initials="WXM"')), "author"),
    "edit date": (lambda: samples.docx(_para("", ' w:date="2024-03-01T09:31:00Z"')), "date"),
    "w:lang": (lambda: samples.docx(
        _para('<w:r><w:rPr><w:lang w:val="zh-TW" w:eastAsia="zh-TW"/></w:rPr></w:r>')),
        "language"),
    "themeFontLang": (lambda: samples.docx(settings='<w:themeFontLang w:val="en-US"/>'),
                      "language"),
    "xml:lang": (lambda: samples.docx(_para("", ' xml:lang="zh-HK"')), "language"),
    "document variables": (lambda: samples.docx(
        settings='<w:docVars><w:docVar w:name="user" w:val="wang"/></w:docVars>'), "variables"),
    "attached template": (lambda: samples.docx(settings='<w:attachedTemplate r:id="rId1"/>'
                                               .replace("r:id", "w:val")), "template"),
    "password hash": (lambda: samples.docx(
        settings='<w:documentProtection w:edit="readOnly" w:hash="abc" w:salt="def"/>'),
        "password"),
    "AUTHOR field": (lambda: samples.docx(_para('<w:fldSimple w:instr=" AUTHOR \\* MERGEFORMAT">'
                                                "<w:r><w:t>王小明</w:t></w:r></w:fldSimple>")),
                     "field"),
    "FILENAME field": (lambda: samples.docx(
        _para("<w:r><w:instrText> FILENAME \\p </w:instrText></w:r>")), "field"),
    "image file name": (lambda: samples.docx(
        samples.BODY_CLEAN.replace('name="Picture 1"', 'name="IMG_20240301_093112.jpg"')),
        "original image file name"),
    "template link": (lambda: samples.docx(doc_rels=[(
        "rIdT", f"{REL}/attachedTemplate", "https://example.org/Normal.dotm",
        ' TargetMode="External"')]), "external link"),
    "file target": (lambda: samples.docx(doc_rels=[(
        "rIdT", f"{REL}/hyperlink", "file:///C:/Users/wang/x.docx", ' TargetMode="External"')]),
        "local"),
    "UNC target": (lambda: samples.docx(doc_rels=[(
        "rIdT", f"{REL}/image", "\\\\fileserver\\share\\a.png", ' TargetMode="External"')]),
        "local"),
    "local path in text": (lambda: samples.docx(
        _para("<w:r><w:t>C:\\Users\\wang\\Desktop\\draft.docx</w:t></w:r>")), "local file path"),
    "dirty image": (lambda: samples.docx(image=samples.png_bytes(dpi=(300, 300))), "pHYs"),
    "xml comment": (lambda: samples.docx(_para("<!-- typed by wang -->")), "XML comment"),
    "processing instruction": (lambda: samples.docx(_para("<?author wang?>")),
                               "processing instruction"),
}


@pytest.mark.parametrize("case", sorted(DOCX_DENIED))
def test_docx_with_identifying_field_is_refused(case: str) -> None:
    build, expected = DOCX_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("docx", build())


def test_svg_image_with_editor_metadata_is_refused() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:inkscape="http://www.inkscape.org/'
           'namespaces/inkscape" inkscape:export-filename="/home/wang/logo.png"><rect/></svg>')
    with pytest.raises(VerificationFailed):
        verify("docx", samples.docx(parts=[("word/media/image2.svg", svg)]))
    clean = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>'
    verify("docx", samples.docx(parts=[("word/media/image2.svg", clean)]))


def test_web_hyperlinks_are_allowed_but_not_other_external_links() -> None:
    verify("docx", samples.docx(doc_rels=[(
        "rIdM", f"{REL}/hyperlink", "mailto:editors@example.org", ' TargetMode="External"')]))
    with pytest.raises(VerificationFailed, match="external link"):
        verify("docx", samples.docx(doc_rels=[(
            "rIdM", f"{REL}/hyperlink", "smb://server/share", ' TargetMode="External"')]))


XLSX_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "absPath": (lambda: samples.xlsx(workbook_extra=(
        '<x15ac:absPath xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/'
        'ac" url="C:\\Users\\wang\\Documents\\"/>')), "absPath|local file path"),
    "revision uid": (lambda: samples.xlsx(workbook_extra=(
        '<xr:revisionPtr xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/'
        'revision" revIDLastSave="0" documentId="8_{E1}"/>')), "revision id"),
    "file sharing user": (lambda: samples.xlsx(workbook_extra='<fileSharing userName="王"/>'),
                          "author"),
    "comments": (lambda: samples.xlsx(parts=[("xl/comments1.xml", "<comments/>")]), "comments"),
    "threaded comments": (lambda: samples.xlsx(
        parts=[("xl/threadedComments/threadedComment1.xml", "<a/>")]), "comments"),
    "persons": (lambda: samples.xlsx(parts=[("xl/persons/person.xml", "<a/>")]), "reviewer"),
    "external link": (lambda: samples.xlsx(
        parts=[("xl/externalLinks/externalLink1.xml", "<a/>")]), "external data"),
    "revisions": (lambda: samples.xlsx(parts=[("xl/revisions/revisionHeaders.xml", "<a/>")]),
                  "revision history"),
    "legacy drawing": (lambda: samples.xlsx(parts=[("xl/drawings/vmlDrawing1.vml", "<xml/>")]),
                       "legacy drawing"),
    "chart language": (lambda: samples.xlsx(parts=[("xl/charts/chart1.xml", (
        '<c:chartSpace xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart">'
        '<c:lang val="zh-TW"/></c:chartSpace>'))]), "language"),
    "sheet protection hash": (lambda: samples.xlsx(
        sheet_extra='<sheetProtection hashValue="abc" saltValue="def" sheet="1"/>'), "password"),
}


@pytest.mark.parametrize("case", sorted(XLSX_DENIED))
def test_xlsx_with_identifying_field_is_refused(case: str) -> None:
    build, expected = XLSX_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("xlsx", build())


PPTX_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "language": (lambda: samples.pptx(' lang="zh-CN" altLang="en-US"'), "language"),
    "comment authors": (lambda: samples.pptx(parts=[("ppt/commentAuthors.xml", "<a/>")]),
                        "comments"),
    "modern comments": (lambda: samples.pptx(parts=[("ppt/comments/modernComment_1.xml", "<a/>")]),
                        "comments"),
    "authors": (lambda: samples.pptx(parts=[("ppt/authors.xml", "<a/>")]), "comments"),
    "revision info": (lambda: samples.pptx(parts=[("ppt/revisionInfo.xml", "<a/>")]),
                      "revision history"),
    "tags": (lambda: samples.pptx(parts=[("ppt/tags/tag1.xml", "<a/>")]), "tags"),
    "creation id": (lambda: samples.pptx(slide_extra=(
        '<p:extLst><p:ext uri="{BB962C8B}"><p14:creationId xmlns:p14="http://schemas.microsoft'
        '.com/office/powerpoint/2010/main" val="2911486433"/></p:ext></p:extLst>')),
        "creation id"),
}


@pytest.mark.parametrize("case", sorted(PPTX_DENIED))
def test_pptx_with_identifying_field_is_refused(case: str) -> None:
    build, expected = PPTX_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("pptx", build())


def _odt_para(inner: str, attrs: str = "") -> str:
    return samples.ODF_TEXT_CLEAN + f"<text:p{attrs}>{inner}</text:p>"


ODF_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "initial creator": (lambda: samples.odf(meta="<meta:initial-creator>王</meta:initial-creator>"),
                        "author"),
    "creator": (lambda: samples.odf(meta="<dc:creator>王</dc:creator>"), "author"),
    "creation date": (lambda: samples.odf(meta="<meta:creation-date>2024</meta:creation-date>"),
                      "creation date"),
    "date": (lambda: samples.odf(meta="<dc:date>2024-03-01</dc:date>"), "modification date"),
    "generator": (lambda: samples.odf(meta="<meta:generator>LibreOffice/7.6</meta:generator>"),
                  "generator"),
    "editing cycles": (lambda: samples.odf(meta="<meta:editing-cycles>9</meta:editing-cycles>"),
                       "editing cycles"),
    "editing duration": (lambda: samples.odf(
        meta="<meta:editing-duration>PT1H</meta:editing-duration>"), "editing time"),
    "statistics": (lambda: samples.odf(meta='<meta:document-statistic meta:page-count="1"/>'),
                   "statistics"),
    "user defined": (lambda: samples.odf(
        meta='<meta:user-defined meta:name="Source">x</meta:user-defined>'), "custom property"),
    "template": (lambda: samples.odf(meta='<meta:template xlink:href="/home/wang/t.ott"/>'),
                 "template|local"),
    "printed by": (lambda: samples.odf(meta="<meta:printed-by>wang</meta:printed-by>"),
                   "printed by"),
    "settings items": (lambda: samples.odf(settings=(
        '<config:config-item-set config:name="ooo:configuration-settings"><config:config-item '
        'config:name="PrinterName" config:type="string">HP-Office</config:config-item>'
        "</config:config-item-set>")), "application settings"),
    "thumbnail": (lambda: samples.odf(parts=[("Thumbnails/thumbnail.png", samples.png_bytes())]),
                  "thumbnail"),
    "annotation": (lambda: samples.odf(body=_odt_para(
        "<office:annotation><dc:creator>王</dc:creator></office:annotation>")), "comment"),
    "tracked changes": (lambda: samples.odf(body="<text:tracked-changes/>"), "tracked changes"),
    "rsid": (lambda: samples.odf(styles=(
        '<style:style style:name="P1"><style:text-properties officeooo:rsid="0012ab34"/>'
        "</style:style>")), "rsid"),
    "paragraph rsid": (lambda: samples.odf(styles=(
        '<style:style style:name="P1"><style:paragraph-properties '
        'officeooo:paragraph-rsid="0012ab34"/></style:style>')), "rsid"),
    "dc:date in content": (lambda: samples.odf(body=_odt_para("<dc:date>2024</dc:date>")),
                           "date"),
    "fo:language": (lambda: samples.odf(styles=(
        '<style:default-style><style:text-properties fo:language="zh" fo:country="TW"/>'
        "</style:default-style>")), "language"),
    "style:language-asian": (lambda: samples.odf(styles=(
        '<style:default-style><style:text-properties style:language-asian="zh" '
        'style:country-asian="HK"/></style:default-style>')), "language"),
    "file link": (lambda: samples.odf(body=_odt_para(
        '<text:a xlink:href="file:///home/wang/a.odt">x</text:a>')), "local"),
    "relative link out of the package": (lambda: samples.odf(body=_odt_para(
        '<text:a xlink:href="../../secret/plan.odt">x</text:a>')), "local file"),
    "author field": (lambda: samples.odf(body=_odt_para("<text:author-name>王</text:author-name>")),
                     "author field"),
    "sender field": (lambda: samples.odf(body=_odt_para(
        "<text:sender-email>w@example.org</text:sender-email>")), "sender field"),
    "unlisted member": (lambda: samples.odf(unlisted=["meta.xml"]), "missing from the ODF manifest"),
    "missing member": (lambda: samples.odf(manifest_extra=(
        '<manifest:file-entry manifest:full-path="Pictures/gone.png" manifest:media-type=""/>')),
        "lists a missing part"),
    "encryption data": (lambda: samples.odf(manifest_extra=(
        '<manifest:file-entry manifest:full-path="content2.xml" manifest:media-type="">'
        "<manifest:encryption-data/></manifest:file-entry>")), "encryption"),
    "macros": (lambda: samples.odf(parts=[("Basic/script-lc.xml", "<a/>")]), "macros"),
    "signature": (lambda: samples.odf(parts=[("META-INF/documentsignatures.xml", "<a/>")]),
                  "signature"),
    "unknown part": (lambda: samples.odf(parts=[("layout-cache-x", b"1")]), "unexpected part"),
    "dirty picture": (lambda: samples.odf(parts=[("Pictures/b.jpg", samples.jpeg_bytes(
        comment=b"Shenzhen"))]), "comment"),
}


@pytest.mark.parametrize("case", sorted(ODF_DENIED))
def test_odf_with_identifying_field_is_refused(case: str) -> None:
    build, expected = ODF_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("odt", build())


def test_odf_mimetype_must_be_first_and_stored() -> None:
    members = [(n, c) for n, c in _members(samples.odf())]
    reordered = samples.make_zip(members[1:] + members[:1])
    with pytest.raises(VerificationFailed):
        verify("odt", reordered)
    deflated = samples.make_zip(members, stored=())
    with pytest.raises(VerificationFailed, match="mimetype"):
        verify("odt", deflated)


def _members(data: bytes) -> list[tuple[str, bytes]]:
    import zipfile

    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]

"""Dirty office documents for the cleaner's tests, with a token planted in every trace.

Each builder returns the document's bytes and the tokens planted in it: one
unique string per identifying place (author, last editor, company, comment
text and author, tracked-change author and deleted text, rsids, paragraph and
document ids, hidden text, language tag, a user name in a file:// link, the
people list, the thumbnail, a picture's text chunk, an embedded workbook's
author...). Tests clean the document and assert that no token survives while
the body text does. DOCX and XLSX start from python-docx and openpyxl output;
PPTX and the ODF kinds are assembled by hand.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping

import docx
import openpyxl
from openpyxl.comments import Comment
from PIL import Image
from PIL.PngImagePlugin import PngInfo

BODY = "The quick body text 正文"
EPOCH = (1980, 1, 1, 0, 0, 0)
LANG = "x-tokenlang"
DATE = "1999-12-31T23:59:58Z"
W14 = "http://schemas.microsoft.com/office/word/2010/wordml"
W15 = "http://schemas.microsoft.com/office/word/2012/wordml"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"


def png_with_text(token: str, colour: tuple[int, int, int] = (20, 90, 200)) -> bytes:
    info = PngInfo()
    info.add_text("Author", token)
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def jpeg_with_comment(token: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 90, 90)).save(buffer, "JPEG", comment=token.encode())
    return buffer.getvalue()


def rezip(members: Mapping[str, bytes | str], stored: tuple[str, ...] = ("mimetype",)) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, (2024, 3, 1, 9, 31, 0))
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def unzip(data: bytes) -> dict[str, bytes | str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _text(members: Mapping[str, bytes | str], name: str) -> str:
    value = members[name]
    return value.decode() if isinstance(value, bytes) else value


def relationship(rid: str, kind: str, target: str, external: bool = False) -> str:
    mode = ' TargetMode="External"' if external else ""
    return f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"{mode}/>'


def _add_rels(members: dict[str, bytes | str], name: str, *rels: str) -> None:
    current = _text(members, name) if name in members else (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"></Relationships>'
    )
    members[name] = current.replace("</Relationships>", "".join(rels) + "</Relationships>")


def _custom_properties(token: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="{CUSTOM_NS}" '
        f'xmlns:vt="{VT}"><property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="2" '
        f'name="Owner"><vt:lpwstr>{token}</vt:lpwstr></property></Properties>'
    )


def app_properties(software: str, company: str, manager: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Properties xmlns="http://schemas.openxml'
        f'formats.org/officeDocument/2006/extended-properties" xmlns:vt="{VT}">'
        f"<Template>Normal.dotm</Template><TotalTime>4242</TotalTime>"
        f"<Application>{software}</Application><Company>{company}</Company>"
        f"<Manager>{manager}</Manager><AppVersion>16.0000</AppVersion></Properties>"
    )


def embedded_workbook(author: str) -> bytes:
    book = openpyxl.Workbook()
    book.properties.creator = author
    book.active["A1"] = "Embedded sheet text"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---- DOCX ------------------------------------------------------------------------

DOCX_TOKENS = {
    "author": "TOKEN-docauthor-7f3a", "last_editor": "TOKEN-lastmod-2b9c",
    "title": "TOKEN-title-4d2a", "company": "TOKEN-company-5d1e",
    "manager": "TOKEN-manager-6a1b", "software": "TOKEN-software-3e4f",
    "custom": "TOKEN-custom-8e2f", "custom_xml": "TOKEN-customxml-9a8b",
    "comment_text": "TOKEN-commenttext-1a4b", "comment_author": "TOKEN-commentauthor-3c5d",
    "track_author": "TOKEN-trackauthor-9f0e", "format_author": "TOKEN-formatauthor-0c1d",
    "deleted": "TOKEN-deleted-6b7c", "moved_from": "TOKEN-movedfrom-3a4b",
    "rsid": "00DEC0DE", "rsid_default": "00FACADE", "rsid_run": "00BEADED",
    "rsid_style": "00D0CAFE", "para_id": "1DEFACED", "text_id": "2BADCAFE",
    "doc_id": "7E57DA7A-0000-4000-8000-00000000BEEF", "date": DATE,
    "hidden": "TOKEN-hidden-4e5f", "style_hidden": "TOKEN-stylehidden-5f6e", "lang": LANG,
    "link_user": "TOKEN-user-9c1d", "template_user": "TOKEN-templateuser-5e6f",
    "field_author": "TOKEN-fieldauthor-1f2e", "field_user": "TOKEN-fielduser-2e3f",
    "docvar": "TOKEN-docvar-7b8c", "person": "TOKEN-person-2d3e",
    "thumbnail": "TOKEN-thumbnail-5f6a", "png_text": "TOKEN-pngtext-7a8b",
    "preview_text": "TOKEN-previewtext-8c9d", "image_name": "TOKEN-imgname-4c2d",
    "xlsx_author": "TOKEN-xlsxauthor-8b9c",
}

_DOCX_PARAGRAPHS = (
    '<w:p xmlns:w14="{w14}" w14:paraId="{para_id}" w14:textId="{text_id}" w:rsidR="{rsid}" '
    'w:rsidRDefault="{rsid_default}"><w:pPr><w:rPr><w:lang w:val="{lang}" w:eastAsia="{lang}"/>'
    '</w:rPr></w:pPr><w:r w:rsidRPr="{rsid_run}"><w:rPr><w:lang w:val="{lang}"/></w:rPr>'
    '<w:t xml:space="preserve">Kept start. </w:t></w:r>'
    '<w:ins w:id="901" w:author="{track_author}" w:date="{date}"><w:r><w:t xml:space="preserve">'
    "Inserted words. </w:t></w:r></w:ins>"
    '<w:del w:id="902" w:author="{track_author}" w:date="{date}"><w:r><w:delText>{deleted}'
    "</w:delText></w:r></w:del>"
    "<w:r><w:rPr><w:vanish/></w:rPr><w:t>{hidden}</w:t></w:r>"
    '<w:r><w:rPr><w:rStyle w:val="TokenHidden"/></w:rPr><w:t>{style_hidden}</w:t></w:r>'
    '<w:r><w:rPr><w:b/><w:rPrChange w:id="903" w:author="{format_author}" w:date="{date}">'
    '<w:rPr/></w:rPrChange></w:rPr><w:t xml:space="preserve">Bold now. </w:t></w:r>'
    '<w:hyperlink r:id="rIdFileLink"><w:r><w:t xml:space="preserve">local notes </w:t></w:r>'
    "</w:hyperlink>"
    '<w:fldSimple w:instr=" AUTHOR "><w:r><w:t>{field_author}</w:t></w:r></w:fldSimple></w:p>'
    '<w:p><w:moveFrom w:id="904" w:author="{track_author}" w:date="{date}"><w:r><w:t>'
    "{moved_from}</w:t></w:r></w:moveFrom>"
    '<w:moveTo w:id="905" w:author="{track_author}" w:date="{date}"><w:r>'
    '<w:t xml:space="preserve">Moved words. </w:t></w:r></w:moveTo>'
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> '
    'USERNAME </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>'
    '{field_user}</w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p>'
    '<w:p><w:r><w:object><v:shape id="_x0000_i1025" type="#_x0000_t75" '
    'style="width:12pt;height:12pt"><v:imagedata r:id="rIdPreview" o:title=""/></v:shape>'
    '<o:OLEObject Type="Embed" ProgID="Excel.Sheet.12" ShapeID="_x0000_i1025" '
    'DrawAspect="Content" ObjectID="_1700000000" r:id="rIdXlsx"/></w:object></w:r></w:p>'
)
_DOCX_SETTINGS = (
    '<w:rsids><w:rsidRoot w:val="{rsid}"/><w:rsid w:val="{rsid_default}"/></w:rsids>'
    '<w:attachedTemplate r:id="rIdTemplate"/>'
    '<w:docVars><w:docVar w:name="owner" w:val="{docvar}"/></w:docVars>'
    '<w15:docId xmlns:w15="{w15}" w15:val="{{{doc_id}}}"/>'
    '<w:themeFontLang w:val="{lang}"/>'
)
_DOCX_STYLE = (
    '<w:style w:type="character" w:customStyle="1" w:styleId="TokenHidden"><w:name '
    'w:val="Token Hidden"/><w:rsid w:val="{rsid_style}"/><w:rPr><w:vanish/></w:rPr></w:style>'
)


def dirty_docx() -> tuple[bytes, dict[str, str]]:
    """A Word document with DOCX_TOKENS planted in every identifying place."""
    t = DOCX_TOKENS
    document = docx.Document()
    props = document.core_properties
    props.author, props.last_modified_by, props.title = t["author"], t["last_editor"], t["title"]
    props.language = LANG
    paragraph = document.add_paragraph(BODY)
    document.add_comment(paragraph.runs, text=t["comment_text"], author=t["comment_author"],
                         initials="TK")
    document.add_picture(io.BytesIO(png_with_text(t["png_text"])))
    buffer = io.BytesIO()
    document.save(buffer)
    members = unzip(buffer.getvalue())
    fields = {**t, "w14": W14, "w15": W15}
    body = _text(members, "word/document.xml")
    body = body.replace('name="image.png"', f'name="IMG-{t["image_name"]}.png"')
    members["word/document.xml"] = body.replace(
        "<w:sectPr", _DOCX_PARAGRAPHS.format(**fields) + "<w:sectPr", 1)
    settings = re.sub(r"<w:rsids>.*?</w:rsids>", "", _text(members, "word/settings.xml"))
    members["word/settings.xml"] = settings.replace(
        "</w:settings>", _DOCX_SETTINGS.format(**fields) + "</w:settings>")
    members["word/styles.xml"] = _text(members, "word/styles.xml").replace(
        "</w:styles>", _DOCX_STYLE.format(**fields) + "</w:styles>")
    members["docProps/app.xml"] = app_properties(t["software"], t["company"], t["manager"])
    members["docProps/custom.xml"] = _custom_properties(t["custom"])
    members["docProps/thumbnail.jpeg"] = jpeg_with_comment(t["thumbnail"])
    members["customXml/item1.xml"] = f"<owner>{t['custom_xml']}</owner>"
    members["word/people.xml"] = (
        f'<?xml version="1.0" encoding="UTF-8"?><w15:people xmlns:w15="{W15}"><w15:person '
        f'w15:author="{t["person"]}"><w15:presenceInfo w15:providerId="AD" '
        f'w15:userId="{t["person"]}@corp"/></w15:person></w15:people>'
    )
    members["word/media/preview.png"] = png_with_text(t["preview_text"], (200, 20, 20))
    members["word/embeddings/Microsoft_Excel_Worksheet.xlsx"] = embedded_workbook(
        t["xlsx_author"])
    _add_rels(members, "word/_rels/document.xml.rels",
              relationship("rIdFileLink", f"{REL}/hyperlink",
                   f"file:///home/{t['link_user']}/notes.docx", external=True),
              relationship("rIdPreview", f"{REL}/image", "media/preview.png"),
              relationship("rIdXlsx", f"{REL}/package", "embeddings/Microsoft_Excel_Worksheet.xlsx"),
              relationship("rIdPeople", "http://schemas.microsoft.com/office/2011/relationships/people",
                   "people.xml"))
    _add_rels(members, "word/_rels/settings.xml.rels",
              relationship("rIdTemplate", f"{REL}/attachedTemplate",
                   f"file:///C:/Users/{t['template_user']}/Templates/Normal.dotm", True))
    _add_rels(members, "_rels/.rels",
              relationship("rIdCustom", f"{REL}/custom-properties", "docProps/custom.xml"))
    members["[Content_Types].xml"] = _text(members, "[Content_Types].xml").replace(
        "</Types>",
        '<Default Extension="png" ContentType="image/png"/>'
        '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet"/></Types>')
    return rezip(members, stored=()), dict(t)


# ---- XLSX ------------------------------------------------------------------------

XLSX_TOKENS = {
    "author": "TOKEN-xlauthor-1b2c", "last_editor": "TOKEN-xllastmod-2c3d",
    "comment_text": "TOKEN-xlcomment-3d4e", "comment_author": "TOKEN-xlcommentauthor-4e5f",
    "abs_path": "TOKEN-abspath-5f6a", "share_user": "TOKEN-shareuser-6a7b",
    "uid": "0BADF00D-1111-4222-8333-444455556666", "hash": "TOKEN-hash-8a7b",
    "link_user": "TOKEN-xluser-7b8c", "person": "TOKEN-xlperson-8c9d",
    "threaded": "TOKEN-threaded-9d0e", "printer": "TOKEN-printer-0e1f",
    "custom": "TOKEN-xlcustom-1f2a", "software": "TOKEN-xlsoftware-2a3b",
    "company": "TOKEN-xlcompany-3b4c",
}


def dirty_xlsx() -> tuple[bytes, dict[str, str]]:
    """A workbook with XLSX_TOKENS planted in every identifying place."""
    t = XLSX_TOKENS
    book = openpyxl.Workbook()
    book.properties.creator, book.properties.lastModifiedBy = t["author"], t["last_editor"]
    sheet = book.active
    sheet["A1"] = BODY
    sheet["A2"] = "local notes"
    sheet["A2"].hyperlink = f"file:///home/{t['link_user']}/budget.xlsx"
    sheet["B2"] = "commented"
    sheet["B2"].comment = Comment(t["comment_text"], t["comment_author"])
    buffer = io.BytesIO()
    book.save(buffer)
    members = unzip(buffer.getvalue())
    x15ac = "http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"
    xr = "http://schemas.microsoft.com/office/spreadsheetml/2014/revision"
    workbook = _text(members, "xl/workbook.xml").replace(
        "<workbookPr/>",
        '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27328"/>'
        f'<fileSharing userName="{t["share_user"]}"/><workbookPr/>'
        '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/'
        f'2006"><mc:Choice Requires="x15"><x15ac:absPath xmlns:x15ac="{x15ac}" '
        f'url="C:\\Users\\{t["abs_path"]}\\Documents\\"/></mc:Choice></mc:AlternateContent>'
        f'<xr:revisionPtr xmlns:xr="{xr}" revIDLastSave="0" '
        f'documentId="13_ncr:1_{{{t["uid"]}}}"/>')
    members["xl/workbook.xml"] = workbook.replace(
        "<workbookProtection/>", f'<workbookProtection workbookPassword="{t["hash"]}"/>')
    sheet_xml = _text(members, "xl/worksheets/sheet1.xml")
    sheet_xml = sheet_xml.replace(
        "<worksheet ", f'<worksheet xmlns:xr="{xr}" xr:uid="{{{t["uid"]}}}" ', 1)
    sheet_xml = sheet_xml.replace(
        "</sheetData>", f'</sheetData><sheetProtection sheet="1" hashValue="{t["hash"]}"/>')
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
        "<legacyDrawing", f'<pageSetup xmlns:r="{REL}" r:id="rIdPrinter"/><legacyDrawing')
    members["xl/printerSettings/printerSettings1.bin"] = f"printer {t['printer']}".encode()
    members["xl/threadedComments/threadedComment1.xml"] = (
        '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/'
        f'threadedcomments"><threadedComment ref="B2" personId="{{{t["uid"]}}}" '
        f'id="{{00000000-0000-0000-0000-000000000001}}"><text>{t["threaded"]}</text>'
        "</threadedComment></ThreadedComments>")
    members["xl/persons/person.xml"] = (
        '<personList xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threaded'
        f'comments"><person displayName="{t["person"]}" id="{{{t["uid"]}}}" '
        f'userId="{t["person"]}@corp" providerId="AD"/></personList>')
    members["docProps/custom.xml"] = _custom_properties(t["custom"])
    members["docProps/app.xml"] = app_properties(t["software"], t["company"], "Boss")
    _add_rels(members, "xl/worksheets/_rels/sheet1.xml.rels",
              relationship("rIdPrinter", f"{REL}/printerSettings",
                   "../printerSettings/printerSettings1.bin"),
              relationship("rIdThreaded", "http://schemas.microsoft.com/office/2017/10/relationships/"
                   "threadedComment", "../threadedComments/threadedComment1.xml"))
    _add_rels(members, "xl/_rels/workbook.xml.rels",
              relationship("rIdPersons", "http://schemas.microsoft.com/office/2017/10/relationships/"
                   "person", "persons/person.xml"))
    _add_rels(members, "_rels/.rels",
              relationship("rIdCustom", f"{REL}/custom-properties", "docProps/custom.xml"))
    return rezip(members, stored=()), dict(t)


def plain_docx(text: str = BODY) -> bytes:
    """A clean Word document as python-docx writes it, with one paragraph."""
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()

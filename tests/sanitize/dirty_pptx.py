"""A dirty PowerPoint presentation, assembled by hand (there is no writer library in
the test environment), with a token in every identifying place: the document
properties, comment authors and text, a language tag on every run, the slide's
creation id, printer settings, add-in tags, a file:// link on a picture, the
picture's text chunk and original file name, a password hash and the revision
log. The slide text and the speaker notes are content and must survive.
"""

from __future__ import annotations

from .dirty_office import (
    BODY,
    DATE,
    LANG,
    PKG,
    REL,
    app_properties,
    png_with_text,
    relationship,
    rezip,
)

PPTX_TOKENS = {
    "author": "TOKEN-pptauthor-1c2d", "company": "TOKEN-pptcompany-2d3e",
    "software": "TOKEN-pptsoftware-3e4f", "comment_text": "TOKEN-pptcomment-4f5a",
    "comment_author": "TOKEN-pptcommentauthor-5a6b", "lang": LANG,
    "creation_id": "3141592653", "printer": "TOKEN-pptprinter-6b7c",
    "tag": "TOKEN-ppttag-7c8d", "link_user": "TOKEN-pptuser-8d9e",
    "png_text": "TOKEN-pptpng-9e0f", "image_name": "TOKEN-pptimgname-0f1a",
    "revision": "TOKEN-pptrevision-1a2b", "web": "TOKEN-pptweb-2b3c",
}
NOTES = "Speaker notes survive 讲稿"
_P = "http://schemas.openxmlformats.org/presentationml/2006/main"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_P14 = "http://schemas.microsoft.com/office/powerpoint/2010/main"
_NS = f'xmlns:p="{_P}" xmlns:a="{_A}" xmlns:r="{REL}"'
_SLIDE_TYPE = "application/vnd.openxmlformats-officedocument.presentationml"


# A link that moves to the next slide: an action, with an empty relationship id.
NEXT_SLIDE = '<a:hlinkClick r:id="" action="ppaction://hlinkshowjump?jump=nextslide"/>'


def _text_shape(shape_id: int, text: str, lang: str = "") -> str:
    attrs = f' lang="{lang}" altLang="{lang}"' if lang else ""
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="{shape_id}" name="Text {shape_id}"/><p:cNvSpPr/><p:nvPr/>'
        f'</p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/><a:p><a:r><a:rPr{attrs}>{NEXT_SLIDE}'
        f'</a:rPr><a:t>{text}</a:t></a:r><a:endParaRPr{attrs}/></a:p></p:txBody></p:sp>'
    )


def _tree(shapes: str) -> str:
    return (
        '<p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/><p:nvPr/>'
        f"</p:nvGrpSpPr><p:grpSpPr/>{shapes}</p:spTree></p:cSld>"
    )


def dirty_pptx() -> tuple[bytes, dict[str, str]]:
    """A presentation with PPTX_TOKENS planted in every identifying place."""
    t = PPTX_TOKENS
    xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    picture = (
        f'<p:pic><p:nvPicPr><p:cNvPr id="4" name="Picture 3" descr="IMG-{t["image_name"]}.jpg">'
        '<a:hlinkClick r:id="rIdFile"/></p:cNvPr><p:cNvPicPr/><p:nvPr/></p:nvPicPr><p:blipFill>'
        '<a:blip r:embed="rIdImage"/></p:blipFill><p:spPr/></p:pic>'
    )
    slide = (
        f"{xml}<p:sld {_NS}>" + _tree(_text_shape(2, BODY, t["lang"]) + picture)
        + '<p:custDataLst><p:tags r:id="rIdTag"/></p:custDataLst><p:extLst><p:ext '
        f'uri="{{BB962C8B-B14F-4D97-AF65-F5344CB8AC3E}}"><p14:creationId xmlns:p14="{_P14}" '
        f'val="{t["creation_id"]}"/></p:ext></p:extLst></p:sld>'
    )
    members: dict[str, bytes | str] = {
        "[Content_Types].xml": (
            f'{xml}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Default Extension="png" ContentType="image/png"/>'
            '<Override PartName="/ppt/presentation.xml" ContentType="'
            f'{_SLIDE_TYPE}.presentation.main+xml"/></Types>'),
        "_rels/.rels": (
            f'{xml}<Relationships xmlns="{PKG}">'
            + relationship("rId1", f"{REL}/officeDocument", "ppt/presentation.xml")
            + relationship("rId2", "http://schemas.openxmlformats.org/package/2006/relationships/"
                   "metadata/core-properties", "docProps/core.xml")
            + relationship("rId3", f"{REL}/extended-properties", "docProps/app.xml")
            + "</Relationships>"),
        "docProps/core.xml": (
            f'{xml}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:creator>{t['author']}</dc:creator></cp:coreProperties>"),
        "docProps/app.xml": app_properties(t["software"], t["company"], "Boss"),
        "ppt/presentation.xml": (
            f'{xml}<p:presentation {_NS}><p:sldIdLst><p:sldId id="256" r:id="rId2"/>'
            '</p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" '
            'cy="9144000"/><p:modifyVerifier cryptProviderType="rsaAES" hashData="'
            f'{t["revision"]}" saltData="c2FsdA=="/></p:presentation>'),
        "ppt/_rels/presentation.xml.rels": (
            f'{xml}<Relationships xmlns="{PKG}">'
            + relationship("rId2", f"{REL}/slide", "slides/slide1.xml")
            + relationship("rId3", f"{REL}/presProps", "presProps.xml")
            + relationship("rId4", f"{REL}/viewProps", "viewProps.xml")
            + relationship("rId5", f"{REL}/commentAuthors", "commentAuthors.xml")
            + relationship("rId6", "http://schemas.microsoft.com/office/2015/10/relationships/"
                   "revisionInfo", "revisionInfo.xml")
            + "</Relationships>"),
        "ppt/slides/slide1.xml": slide,
        "ppt/slides/_rels/slide1.xml.rels": (
            f'{xml}<Relationships xmlns="{PKG}">'
            + relationship("rIdImage", f"{REL}/image", "../media/image1.png")
            + relationship("rIdFile", f"{REL}/hyperlink", f"file:///Users/{t['link_user']}/a.key", True)
            + relationship("rIdTag", f"{REL}/tags", "../tags/tag1.xml")
            + relationship("rIdNotes", f"{REL}/notesSlide", "../notesSlides/notesSlide1.xml")
            + relationship("rIdComments", f"{REL}/comments", "../comments/comment1.xml")
            + "</Relationships>"),
        "ppt/notesSlides/notesSlide1.xml": (
            f"{xml}<p:notes {_NS}>" + _tree(_text_shape(2, NOTES)) + "</p:notes>"),
        "ppt/media/image1.png": png_with_text(t["png_text"]),
        "ppt/tags/tag1.xml": (
            f'{xml}<p:tagLst {_NS}><p:tag name="OWNER" val="{t["tag"]}"/></p:tagLst>'),
        "ppt/commentAuthors.xml": (
            f'{xml}<p:cmAuthorLst {_NS}><p:cmAuthor id="1" name="{t["comment_author"]}" '
            'initials="TK" lastIdx="1" clrIdx="0"/></p:cmAuthorLst>'),
        "ppt/comments/comment1.xml": (
            f'{xml}<p:cmLst {_NS}><p:cm authorId="1" dt="{DATE}" idx="1"><p:pos x="10" y="10"/>'
            f"<p:text>{t['comment_text']}</p:text></p:cm></p:cmLst>"),
        "ppt/presProps.xml": (
            f'{xml}<p:presentationPr {_NS}><p:webPr encoding="{t["web"]}"/><p:prnPr/>'
            '<p:showPr showNarration="1"/></p:presentationPr>'),
        "ppt/viewProps.xml": (
            f'{xml}<p:viewPr {_NS}><p:normalViewPr/><p:gridSpacing cx="76200" cy="76200"/>'
            "</p:viewPr>"),
        "ppt/revisionInfo.xml": (
            '<p1510:revInfo xmlns:p1510="http://schemas.microsoft.com/office/powerpoint/2015/10'
            f'/main"><p1510:client id="{{{t["revision"]}}}" v="2199"/></p1510:revInfo>'),
        "ppt/printerSettings/printerSettings1.bin": f"printer {t['printer']}".encode(),
    }
    return rezip(members, stored=()), dict(t)


"""Dirty OpenDocument packages (ODT, ODS, ODP, ODG), assembled by hand, with a token
planted in every identifying place: meta.xml author, editor, generator and
statistics; settings.xml printer and rsid root; annotations with their author
and text; tracked changes with their author and deleted text; officeooo rsids in
content and styles; language attributes; a dc:creator left in the content; an
author field; a link to a file on the author's disk; the thumbnail; a picture
with a PNG text chunk; a macro; a manifest.rdf and an empty Configurations2.
"""

from __future__ import annotations

from .dirty_office import BODY, DATE, LANG, png_with_text, rezip

ODF_TOKENS = {
    "initial_creator": "TOKEN-odfauthor-1a2b", "creator": "TOKEN-odfeditor-2b3c",
    "generator": "TOKEN-generator-3c4d", "printer": "TOKEN-odfprinter-4d5e",
    "annotation_author": "TOKEN-annauthor-5e6f", "annotation_text": "TOKEN-anntext-6f7a",
    "track_author": "TOKEN-odftrack-7a8b", "deleted": "TOKEN-odfdeleted-8b9c",
    "rsid": "00C0FFEE", "paragraph_rsid": "00DECADE", "style_rsid": "00FEEDED",
    "lang": LANG, "field_author": "TOKEN-odffield-9c0d", "link_user": "TOKEN-odfuser-0d1e",
    "thumbnail": "TOKEN-odfthumb-1e2f", "png_text": "TOKEN-odfpng-2f3a",
    "macro": "TOKEN-odfmacro-3a4b", "date": DATE, "content_creator": "TOKEN-dccreator-4b5c",
    "image_name": "TOKEN-odfimgname-5c6d", "user_defined": "TOKEN-userdef-6d7e",
}
MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
}
NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:script="urn:oasis:names:tc:opendocument:xmlns:script:1.0" '
    'xmlns:officeooo="http://openoffice.org/2009/office" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" office:version="1.3"'
)
XML = '<?xml version="1.0" encoding="UTF-8"?>'
PICTURE = "Pictures/10000000000000060000000612345678.png"


def _paragraph(t: dict[str, str]) -> str:
    """Body text with a comment, tracked changes, a field, a link and a picture."""
    return (
        f'<text:p text:style-name="P1">{BODY}'
        f"<office:annotation><dc:creator>{t['annotation_author']}</dc:creator>"
        f"<dc:date>{t['date']}</dc:date><text:p>{t['annotation_text']}</text:p>"
        '</office:annotation> <text:change-start text:change-id="ct1"/>Inserted words.'
        '<text:change-end text:change-id="ct1"/><text:change text:change-id="ct2"/> '
        f"<text:author-name>{t['field_author']}</text:author-name> "
        f'<text:a xlink:type="simple" xlink:href="file:///home/{t["link_user"]}/plan.odt">'
        "local notes</text:a> <dc:creator>" + t["content_creator"] + "</dc:creator>"
        f'<draw:frame draw:name="IMG-{t["image_name"]}.png" svg:width="1cm" svg:height="1cm">'
        f'<draw:image xlink:href="{PICTURE}" xlink:type="simple"/></draw:frame></text:p>'
    )


def _tracked_changes(t: dict[str, str]) -> str:
    info = (f"<office:change-info><dc:creator>{t['track_author']}</dc:creator>"
            f"<dc:date>{t['date']}</dc:date></office:change-info>")
    return (
        '<text:tracked-changes text:track-changes="true">'
        f'<text:changed-region text:id="ct1"><text:insertion>{info}</text:insertion>'
        f'</text:changed-region><text:changed-region text:id="ct2"><text:deletion>{info}'
        f"<text:p>{t['deleted']}</text:p></text:deletion></text:changed-region>"
        "</text:tracked-changes>"
    )


def _body(kind: str, t: dict[str, str]) -> str:
    paragraph = _paragraph(t)
    if kind == "odt":
        return f"<office:text>{_tracked_changes(t)}{paragraph}</office:text>"
    if kind == "ods":
        return (
            '<office:spreadsheet><table:tracked-changes><table:cell-content-change '
            'table:id="ct9"><table:cell-address table:column="0" table:row="0" table:table="0"/>'
            f"<office:change-info><dc:creator>{t['track_author']}</dc:creator>"
            f"<dc:date>{t['date']}</dc:date></office:change-info><table:previous>"
            f"<table:change-track-table-cell><text:p>{t['deleted']}</text:p>"
            "</table:change-track-table-cell></table:previous></table:cell-content-change>"
            '</table:tracked-changes><table:table table:name="Sheet1"><table:table-row>'
            f"<table:table-cell>{paragraph}</table:table-cell></table:table-row></table:table>"
            "</office:spreadsheet>"
        )
    element = "presentation" if kind == "odp" else "drawing"
    annotation = (
        f"<officeooo:annotation><dc:creator>{t['annotation_author']}</dc:creator>"
        f"<text:p>{t['annotation_text']}</text:p></officeooo:annotation>"
    )
    return (
        f'<office:{element}><draw:page draw:name="page1"><draw:frame><draw:text-box>'
        f"{paragraph}</draw:text-box></draw:frame>{annotation}</draw:page></office:{element}>"
    )


def dirty_odf(kind: str = "odt") -> tuple[bytes, dict[str, str]]:
    """An OpenDocument package of `kind` with ODF_TOKENS planted everywhere."""
    t = dict(ODF_TOKENS)
    language = f'fo:language="{LANG}" fo:country="CN" style:language-asian="{LANG}"'
    styles = (
        f'<style:style style:name="P1" style:family="paragraph"><style:text-properties '
        f'officeooo:rsid="{t["rsid"]}" officeooo:paragraph-rsid="{t["paragraph_rsid"]}" '
        f"{language}/></style:style>"
    )
    members: dict[str, bytes | str] = {
        "mimetype": MIMETYPES[kind],
        "content.xml": (
            f"{XML}<office:document-content {NS}><office:scripts><office:script "
            f'script:language="ooo:Basic">{t["macro"]}</office:script></office:scripts>'
            f"<office:automatic-styles>{styles}</office:automatic-styles><office:body>"
            f"{_body(kind, t)}</office:body></office:document-content>"),
        "styles.xml": (
            f"{XML}<office:document-styles {NS}><office:styles><style:default-style "
            f'style:family="paragraph"><style:text-properties {language} officeooo:rsid='
            f'"{t["style_rsid"]}"/></style:default-style></office:styles>'
            "</office:document-styles>"),
        "meta.xml": (
            f"{XML}<office:document-meta {NS}><office:meta>"
            f"<meta:initial-creator>{t['initial_creator']}</meta:initial-creator>"
            f"<dc:creator>{t['creator']}</dc:creator><dc:date>{t['date']}</dc:date>"
            f"<meta:creation-date>{t['date']}</meta:creation-date>"
            f"<meta:generator>{t['generator']}</meta:generator>"
            "<meta:editing-cycles>42</meta:editing-cycles>"
            f'<meta:user-defined meta:name="Owner">{t["user_defined"]}</meta:user-defined>'
            "</office:meta></office:document-meta>"),
        "settings.xml": (
            f"{XML}<office:document-settings {NS}><office:settings>"
            '<config:config-item-set config:name="ooo:configuration-settings"><config:config-item'
            f' config:name="PrinterName" config:type="string">{t["printer"]}</config:config-item>'
            '<config:config-item config:name="Rsid" config:type="int">12648430'
            "</config:config-item></config:config-item-set></office:settings>"
            "</office:document-settings>"),
        "manifest.rdf": f'{XML}<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>',
        PICTURE: png_with_text(t["png_text"]),
        "Thumbnails/thumbnail.png": png_with_text(t["thumbnail"], (1, 2, 3)),
        "Configurations2/accelerator/current.xml": b"",
        "Basic/Standard/Module1.xml": f"<module>{t['macro']}</module>",
    }
    listed = [name for name in members if name != "mimetype"]
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
        for name in listed
    )
    members["META-INF/manifest.xml"] = (
        f'{XML}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        f'manifest:version="1.3" manifest:media-type="{MIMETYPES[kind]}"/>{entries}'
        "</manifest:manifest>"
    )
    if kind not in ("odt", "ods"):  # drawings and presentations keep no tracked changes
        del t["track_author"], t["deleted"]
    return rezip(members), t

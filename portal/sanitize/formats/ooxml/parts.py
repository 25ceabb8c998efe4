"""Which parts of a DOCX, XLSX or PPTX package may stay, and what the others were.

The allow-list is per kind: a part stays only if its name matches one of the
patterns below, and then it gets the content type written next to the pattern
(the original [Content_Types].xml is never trusted: it may be missing, broken,
or declare a macro-enabled type). Everything else is dropped; the parts known
to carry identifying data are reported by what they are (comments, people,
custom properties, printer settings...), the rest as unknown parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from ...limits import Limits
from ..zipdoc import Tally, local_attribute, split_tag, try_parse_xml

_OD = "application/vnd.openxmlformats-officedocument"
_WORD = f"{_OD}.wordprocessingml"
_SHEET = f"{_OD}.spreadsheetml"
_SLIDE = f"{_OD}.presentationml"

CORE_TYPE = "application/vnd.openxmlformats-package.core-properties+xml"
APP_TYPE = f"{_OD}.extended-properties+xml"
RELS_TYPE = "application/vnd.openxmlformats-package.relationships+xml"
# A part that is an embedded picture or document; its type comes from its bytes.
EMBEDDED = "embedded"


@dataclass(frozen=True)
class Layout:
    """Where a kind keeps its main part, and the content types that part may declare."""

    root: str
    main: str
    main_types: tuple[str, ...]


LAYOUTS: dict[str, Layout] = {
    "docx": Layout("word", "word/document.xml",
                   (f"{_WORD}.document.main+xml", f"{_WORD}.template.main+xml")),
    "xlsx": Layout("xl", "xl/workbook.xml",
                   (f"{_SHEET}.sheet.main+xml", f"{_SHEET}.template.main+xml")),
    "pptx": Layout("ppt", "ppt/presentation.xml",
                   (f"{_SLIDE}.presentation.main+xml", f"{_SLIDE}.slideshow.main+xml",
                    f"{_SLIDE}.template.main+xml")),
}

_SHARED = (
    (r"{root}/theme/theme\d+\.xml", f"{_OD}.theme+xml"),
    (r"{root}/charts/chart\d+\.xml", f"{_OD}.drawingml.chart+xml"),
    (r"{root}/charts/style\d+\.xml", "application/vnd.ms-office.chartstyle+xml"),
    (r"{root}/charts/colors\d+\.xml", "application/vnd.ms-office.chartcolorstyle+xml"),
    (r"{root}/diagrams/data\d+\.xml", f"{_OD}.drawingml.diagramData+xml"),
    (r"{root}/diagrams/layout\d+\.xml", f"{_OD}.drawingml.diagramLayout+xml"),
    (r"{root}/diagrams/quickStyle\d+\.xml", f"{_OD}.drawingml.diagramStyle+xml"),
    (r"{root}/diagrams/colors\d+\.xml", f"{_OD}.drawingml.diagramColors+xml"),
    (r"{root}/diagrams/drawing\d+\.xml", "application/vnd.ms-office.drawingml.diagramDrawing+xml"),
    (r"{root}/media/[^/]+", EMBEDDED),
    (r"{root}/embeddings/[^/]+", EMBEDDED),
)
_PER_KIND: dict[str, tuple[tuple[str, str], ...]] = {
    "docx": (
        (r"word/styles\.xml", f"{_WORD}.styles+xml"),
        (r"word/stylesWithEffects\.xml", "application/vnd.ms-word.stylesWithEffects+xml"),
        (r"word/settings\.xml", f"{_WORD}.settings+xml"),
        (r"word/fontTable\.xml", f"{_WORD}.fontTable+xml"),
        (r"word/numbering\.xml", f"{_WORD}.numbering+xml"),
        (r"word/footnotes\.xml", f"{_WORD}.footnotes+xml"),
        (r"word/endnotes\.xml", f"{_WORD}.endnotes+xml"),
        (r"word/header\d+\.xml", f"{_WORD}.header+xml"),
        (r"word/footer\d+\.xml", f"{_WORD}.footer+xml"),
    ),
    "xlsx": (
        (r"xl/styles\.xml", f"{_SHEET}.styles+xml"),
        (r"xl/sharedStrings\.xml", f"{_SHEET}.sharedStrings+xml"),
        (r"xl/calcChain\.xml", f"{_SHEET}.calcChain+xml"),
        (r"xl/metadata\.xml", f"{_SHEET}.sheetMetadata+xml"),
        (r"xl/worksheets/sheet\d+\.xml", f"{_SHEET}.worksheet+xml"),
        (r"xl/chartsheets/sheet\d+\.xml", f"{_SHEET}.chartsheet+xml"),
        (r"xl/drawings/drawing\d+\.xml", f"{_OD}.drawing+xml"),
        (r"xl/tables/table\d+\.xml", f"{_SHEET}.table+xml"),
        (r"xl/pivotTables/pivotTable\d+\.xml", f"{_SHEET}.pivotTable+xml"),
        (r"xl/pivotCache/pivotCacheDefinition\d+\.xml", f"{_SHEET}.pivotCacheDefinition+xml"),
        (r"xl/pivotCache/pivotCacheRecords\d+\.xml", f"{_SHEET}.pivotCacheRecords+xml"),
    ),
    "pptx": (
        (r"ppt/presProps\.xml", f"{_SLIDE}.presProps+xml"),
        (r"ppt/viewProps\.xml", f"{_SLIDE}.viewProps+xml"),
        (r"ppt/tableStyles\.xml", f"{_SLIDE}.tableStyles+xml"),
        (r"ppt/slides/slide\d+\.xml", f"{_SLIDE}.slide+xml"),
        (r"ppt/slideLayouts/slideLayout\d+\.xml", f"{_SLIDE}.slideLayout+xml"),
        (r"ppt/slideMasters/slideMaster\d+\.xml", f"{_SLIDE}.slideMaster+xml"),
        (r"ppt/notesSlides/notesSlide\d+\.xml", f"{_SLIDE}.notesSlide+xml"),
        (r"ppt/notesMasters/notesMaster\d+\.xml", f"{_SLIDE}.notesMaster+xml"),
        (r"ppt/handoutMasters/handoutMaster\d+\.xml", f"{_SLIDE}.handoutMaster+xml"),
    ),
}


def _compile(kind: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    root = LAYOUTS[kind].root
    rows = [
        (re.escape(LAYOUTS[kind].main), LAYOUTS[kind].main_types[0]),
        (r"docProps/core\.xml", CORE_TYPE),
        (r"docProps/app\.xml", APP_TYPE),
        *_PER_KIND[kind],
        *((pattern.format(root=root), ctype) for pattern, ctype in _SHARED),
    ]
    return tuple((re.compile(pattern), ctype) for pattern, ctype in rows)


_ALLOWED = {kind: _compile(kind) for kind in LAYOUTS}


def allowed_content_type(kind: str, name: str) -> str | None:
    """The content type an allowed part gets, or None if the part must go."""
    for pattern, ctype in _ALLOWED[kind]:
        if pattern.fullmatch(name):
            return ctype
    return None


# Embedded files are kept only as these kinds, with these content types.
EMBEDDED_TYPES: dict[str, str] = {
    "png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif", "bmp": "image/bmp",
    "tiff": "image/tiff", "webp": "image/webp",
    "docx": f"{_WORD}.document", "xlsx": f"{_SHEET}.sheet", "pptx": f"{_SLIDE}.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
}


# ---- what a dropped part was --------------------------------------------------------

_COMMENT_PARTS = re.compile(
    r"word/comments[^/]*\.xml|xl/comments[^/]*\.xml|xl/comments/[^/]+\.xml"
    r"|xl/threadedComments/[^/]+\.xml|ppt/comments/[^/]+\.xml|ppt/commentAuthors\.xml"
)
_COUNTED_COMMENT_PARTS = re.compile(
    r"word/comments\.xml|xl/comments[^/]*\.xml|xl/comments/[^/]+|xl/threadedComments/[^/]+"
    r"|ppt/comments/[^/]+"
)
_DROPPED: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), code) for pattern, code in (
        (r"docProps/custom\.xml", "custom-properties"),
        (r"customXml/.*", "custom-xml"),
        (r"docProps/thumbnail\.[^/]+", "thumbnail"),
        (r"[^/]+/people\.xml|xl/persons/[^/]+|ppt/authors\.xml", "people"),
        (r".*printerSettings/[^/]+", "printer-settings"),
        (r"[^/]+/webSettings\.xml", "web-settings"),
        (r".*/vba[^/]*\.(?:bin|xml)", "macros"),
        (r"xl/revisions/.*|xl/usernames\.xml|ppt/revisionInfo\.xml|ppt/changesInfos/.*",
         "revision-history"),
        (r"xl/externalLinks/.*|xl/connections\.xml|xl/queryTables/.*", "external-link"),
        (r"_xmlsignatures/.*", "signature"),
        (r"[^/]+/fonts/[^/]+", "embedded-fonts"),
    )
)


def report_dropped_part(name: str, data: bytes, tally: Tally, limits: Limits,
                        has_comments: bool) -> None:
    """Record what a part we drop held: comments and people are counted and named."""
    if _COMMENT_PARTS.fullmatch(name):
        _inventory_comments(name, data, tally, limits)
        return
    if name.endswith(".vml") and has_comments:
        return  # the drawing that showed the comments reported just above
    if name.endswith(".rels"):
        return  # relationships of a part that is itself dropped and reported
    for pattern, code in _DROPPED:
        if pattern.fullmatch(name):
            if code == "people":
                _inventory_people(name, data, tally, limits)
            tally.add(code, name if code in ("external-link", "embedded-fonts") else "")
            return
    tally.add("unknown-part", name)


def is_comment_part(name: str) -> bool:
    return _COMMENT_PARTS.fullmatch(name) is not None


def _inventory_comments(name: str, data: bytes, tally: Tally, limits: Limits) -> None:
    root = try_parse_xml(data, name, limits) if data.strip() else None
    if root is None:
        tally.add("comments", count=0 if name.endswith("commentAuthors.xml") else 1)
        return
    count = 0
    for node in root.iter():
        _, local = split_tag(node.tag)
        if local in ("comment", "cm", "threadedComment") and _is_comment_record(name, node):
            count += 1
        for key in ("author", "name", "displayName", "initials"):
            value = local_attribute(node, key).strip()
            if value and local in ("comment", "cm", "cmAuthor", "author", "person",
                                   "threadedComment"):
                tally.add("comment-author", value)
        if local == "author" and node.text and node.text.strip():
            tally.add("comment-author", node.text)
    # commentsExtended, commentsIds and commentsExtensible describe the same comments.
    if _COUNTED_COMMENT_PARTS.fullmatch(name):
        tally.add("comments", count=count)


def _is_comment_record(name: str, node: etree._Element) -> bool:
    parent = node.getparent()
    return not (parent is not None and split_tag(parent.tag)[1] in ("comment", "cm"))


def _inventory_people(name: str, data: bytes, tally: Tally, limits: Limits) -> None:
    root = try_parse_xml(data, name, limits) if data.strip() else None
    if root is None:
        return
    for node in root.iter():
        for key in ("author", "displayName", "name", "userId"):
            value = local_attribute(node, key).strip()
            if value and key != "userId":
                tally.add("comment-author", value)


def report_core_properties(root: etree._Element, tally: Tally) -> None:
    """docProps/core.xml: who wrote it, who edited it last, when, in what language."""
    described: list[str] = []
    for child in root:
        _, local = split_tag(child.tag)
        value = (child.text or "").strip()
        if not value:
            continue
        if local == "creator":
            tally.add("author-name", value)
        elif local == "lastModifiedBy":
            tally.add("last-modified-by", value)
        elif local in ("created", "modified", "lastPrinted"):
            tally.add("document-dates")
        elif local == "language":
            tally.add("language", value)
        else:
            described.append(local)
    if described:
        tally.add("document-properties", ", ".join(described))


def report_app_properties(root: etree._Element, tally: Tally) -> None:
    """docProps/app.xml: the software, the company, the manager, the template, the time."""
    described: list[str] = []
    values = {split_tag(child.tag)[1]: (child.text or "").strip() for child in root}
    if values.get("Application"):
        tally.add("software", " ".join(
            v for v in (values["Application"], values.get("AppVersion", "")) if v))
    if values.get("Company"):
        tally.add("company", values["Company"])
    if values.get("HyperlinkBase"):
        tally.add("external-link", values["HyperlinkBase"])
    for key in ("Manager", "Template", "TotalTime", "DigSig"):
        if values.get(key):
            described.append(key)
    if described:
        tally.add("document-properties", ", ".join(described))

"""Verify a cleaned office document (DOCX, XLSX, PPTX, and the ODF kinds).

The promise: a document passes only if this module, reading it afresh with its
own zip reader and a hardened XML parser, finds no part and no field on its own
deny-list of identifying data, and no part it does not expect at all. Every
embedded image or document is verified in turn with the verifier for its real
type, down to `Limits.max_depth`. The cleaners' code is never consulted.

OOXML deny-list (what a clean package must not contain):

* parts: docProps/custom.xml, docProps/thumbnail.*, customXml/, comments,
  comment authors, people/persons/authors lists, threaded comments, printer
  settings, webSettings.xml, macros, revision logs, external data links, the
  glossary document, add-in tags, embedded fonts, ActiveX, VML drawings; and
  any part not on the per-kind list of expected part names below;
* docProps/core.xml: anything but title, subject, description, keywords,
  category and contentStatus has text (creator, lastModifiedBy, created,
  modified, lastPrinted, revision, identifier, language, version);
* docProps/app.xml: anything but the content statistics and the part titles
  has text (Company, Manager, Application, AppVersion, Template, TotalTime,
  HyperlinkBase, DigSig);
* in any part: rsid attributes and w:rsids; Word paragraph, text and document
  ids (w14/w15/w16 paraId, textId, docId, durableId, dateUtc); spreadsheet
  revision ids (xr:uid, xr:revisionPtr); slide creation ids; x15ac:absPath;
  tracked insertions, deletions, moves and formatting changes; comment marks;
  hidden text (w:vanish); imported documents (w:altChunk); document variables,
  mail-merge sources, attached templates; fields that show the author, user
  or file name; any author, user or initials attribute with a value; w:date;
  any language tag (w:lang, w:themeFontLang, c:lang, lang, altLang, xml:lang)
  with a value; password hashes; drawing labels that are an image's original
  file name;
* relationships: external targets other than http(s)/mailto hyperlinks, and
  any target that is a file: URI, a drive letter or a UNC path;
* anywhere in any XML text: a local user path (see verify/common.py).

A workbook's sharing record, views and defined names are judged in
verify/workbook.py; the ODF rules are in verify/odf.py.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from .. import kinds
from ..limits import Limits
from .common import (
    EmbeddedCheck,
    check_depth,
    check_local_paths_text,
    check_svg,
    fail,
    looks_like_file_name,
    parse_xml,
    safe_name,
    split_tag,
)
from .workbook import WorkbookCheck
from .zip import Member, iter_contents, read_members

OOXML_KINDS = kinds.OOXML
ODF_KINDS = kinds.ODF

_DENIED_PARTS: tuple[tuple[str, str], ...] = (
    (r"docProps/custom\.xml", "custom document properties"),
    (r"docProps/thumbnail\.[^/]+", "thumbnail"),
    (r"customXml/.*", "custom XML data"),
    (r".*/(?:comments[^/]*|commentAuthors|people|authors)\.xml", "comments or reviewer list"),
    (r".*/(?:threadedComments|persons|comments)/.*", "comments or reviewer list"),
    (r".*/printerSettings/.*", "printer settings"),
    (r".*/webSettings\.xml", "web settings"),
    (r".*/(?:vbaProject\.bin|vbaData\.xml)", "macros"),
    (r"xl/revisions/.*|ppt/revisionInfo\.xml|ppt/changesInfos/.*|xl/usernames\.xml",
     "revision history"),
    (r"xl/externalLinks/.*|xl/connections\.xml|xl/queryTables/.*", "link to external data"),
    (r"word/glossary/.*", "glossary document"),
    (r"ppt/tags/.*", "add-in tags"),
    (r".*/fonts/.*", "embedded fonts"),
    (r".*/activeX/.*", "ActiveX control"),
    (r".*vmlDrawing[^/]*", "legacy drawing (comments or controls)"),
)
_COMMON_PARTS = (r"\[Content_Types\]\.xml", r"_rels/\.rels", r"docProps/(?:core|app)\.xml")
_CHARTS = (r"{root}/charts/(?:chart|style|colors)\d+\.xml",
           r"{root}/diagrams/(?:data|layout|quickStyle|colors|drawing)\d+\.xml",
           r"{root}/(?:media|embeddings)/[^/]+",
           r"{root}/theme/theme\d+\.xml",
           r"{root}/(?:[^/]+/)?_rels/[^/]+\.rels")
_KIND_PARTS: dict[str, tuple[str, ...]] = {
    "docx": (
        r"word/document\.xml",
        r"word/(?:styles|stylesWithEffects|settings|fontTable|numbering|footnotes|endnotes)\.xml",
        r"word/(?:header|footer)\d+\.xml",
    ),
    "xlsx": (
        r"xl/workbook\.xml", r"xl/(?:styles|sharedStrings|calcChain|metadata)\.xml",
        r"xl/(?:worksheets|chartsheets)/sheet\d+\.xml", r"xl/drawings/drawing\d+\.xml",
        r"xl/tables/table\d+\.xml", r"xl/pivotTables/pivotTable\d+\.xml",
        r"xl/pivotCache/pivotCache(?:Definition|Records)\d+\.xml",
    ),
    "pptx": (
        r"ppt/presentation\.xml", r"ppt/(?:presProps|viewProps|tableStyles)\.xml",
        r"ppt/(?:slides|slideLayouts|slideMasters|notesSlides|notesMasters|handoutMasters)"
        r"/[A-Za-z]+\d+\.xml",
    ),
}
_ROOTS = {"docx": "word", "xlsx": "xl", "pptx": "ppt"}


def _compile_parts(kind: str) -> re.Pattern[str]:
    patterns = (*_COMMON_PARTS, *_KIND_PARTS[kind], *(p.format(root=_ROOTS[kind]) for p in _CHARTS))
    return re.compile("|".join(f"(?:{p})" for p in patterns))


_EXPECTED = {kind: _compile_parts(kind) for kind in OOXML_KINDS}
_DENIED = tuple((re.compile(pattern), reason) for pattern, reason in _DENIED_PARTS)

WORD_NS = frozenset({
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
})
MS_NS = "http://schemas.microsoft.com/office/"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

_TRACKED = frozenset({
    "ins", "del", "delText", "delInstrText", "moveFrom", "moveTo", "moveFromRangeStart",
    "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd", "cellIns", "cellDel",
    "cellMerge", "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlDelRangeStart",
    "customXmlDelRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
    "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd", "numberingChange",
    "tblGridChange",
})
_WORD_ELEMENTS = {
    "commentReference": "comment", "commentRangeStart": "comment",
    "commentRangeEnd": "comment", "annotationRef": "comment", "vanish": "hidden text",
    "rsids": "revision session ids (rsids)", "docVars": "document variables",
    "mailMerge": "mail-merge data source", "attachedTemplate": "attached template",
    "altChunk": "imported document (altChunk)",
}
_MS_ELEMENTS = {
    "docId": "document id", "creationId": "slide creation id",
    "revisionPtr": "revision id", "absPath": "file location (absPath)",
    "person": "reviewer list", "commentEx": "comment",
}
_MS_ID_ATTRS = frozenset({
    "paraId", "textId", "docId", "durableId", "dateUtc", "uid", "creationId",
    "revIDLastSave", "documentId",
})
_PEOPLE_ATTRS = frozenset({
    "author", "initials", "userName", "userId", "providerId", "personId", "createdBy",
    "lastModifiedBy", "refreshedBy",
})
_LANG_ATTRS = frozenset({"lang", "altLang"})
_SECRET_ATTRS = frozenset({
    "hash", "salt", "hashValue", "saltValue", "password", "workbookPassword",
    "revisionsPassword", "workbookHashValue", "workbookSaltValue", "revisionsHashValue",
    "revisionsSaltValue", "hashData", "saltData",
})
_LABEL_ATTRS = frozenset({"name", "descr", "title"})
# Fields whose cached result is the author's, the user's or the file's name or
# path, or which pull in another file from the author's disk.
_DENIED_FIELDS = frozenset({
    "AUTHOR", "LASTSAVEDBY", "USERNAME", "USERINITIALS", "USERADDRESS", "FILENAME",
    "TEMPLATE", "DOCPROPERTY", "INCLUDETEXT", "INCLUDEPICTURE", "LINK", "DDE", "DDEAUTO",
})

CORE_ALLOWED = frozenset({"title", "subject", "description", "keywords", "category",
                          "contentStatus"})
APP_ALLOWED = frozenset({
    "Pages", "Words", "Characters", "CharactersWithSpaces", "Lines", "Paragraphs", "Slides",
    "Notes", "HiddenSlides", "MMClips", "PresentationFormat", "ScaleCrop", "LinksUpToDate",
    "SharedDoc", "HyperlinksChanged", "DocSecurity", "HeadingPairs", "TitlesOfParts",
    "HLinks",
})


def verify_office(kind: str, data: bytes, limits: Limits, embedded: EmbeddedCheck) -> None:
    """Raise VerificationFailed if this office document still carries identifying data;
    `embedded` verifies each file it holds."""
    verify_office_at(kind, data, limits, 0, embedded)


def verify_office_at(
    kind: str | None, data: bytes, limits: Limits, depth: int, embedded: EmbeddedCheck
) -> None:
    """Verify a package found at nesting `depth`; `kind` None means "whatever it is"."""
    check_depth(depth, limits)
    members = read_members(data, limits)
    detected = _package_kind(data, members)
    if kind is not None and detected != kind:
        fail(f"not a {kind} document")
    if detected in ODF_KINDS:
        from .odf import verify_odf_package

        verify_odf_package(detected, data, members, limits, depth, embedded)
    else:
        _verify_ooxml(detected, data, members, limits, depth, embedded)


def _package_kind(data: bytes, members: list[Member]) -> str:
    if members and members[0].name == "mimetype":
        from .odf import odf_kind

        return odf_kind(data, members[0])
    names = {member.name for member in members}
    if "mimetype" in names:
        fail("ODF mimetype member not first")
    if "[Content_Types].xml" in names:
        for kind, main in (("docx", "word/document.xml"), ("xlsx", "xl/workbook.xml"),
                           ("pptx", "ppt/presentation.xml")):
            if main in names:
                return kind
    fail("unrecognised document package")


def _verify_ooxml(
    kind: str, data: bytes, members: list[Member], limits: Limits, depth: int,
    embedded: EmbeddedCheck,
) -> None:
    expected = _EXPECTED[kind]
    for member in members:
        _check_part_name(member.name, expected)
    workbook = WorkbookCheck() if kind == "xlsx" else None
    for member, content in iter_contents(data, members):
        name = member.name
        shown = safe_name(name)
        if name.endswith((".xml", ".rels")):
            root, text = parse_xml(content, shown, limits)
            check_local_paths_text(text, shown)
            check_ooxml_tree(root, shown)
            if workbook is not None and not name.endswith(".rels"):
                workbook.add_part(name, root, text)
            if name == "docProps/core.xml":
                _check_properties(root, CORE_ALLOWED, shown)
            elif name == "docProps/app.xml":
                _check_properties(root, APP_ALLOWED, shown)
            elif name.endswith(".rels"):
                check_relationships(root, shown)
        elif name.endswith(".svg"):
            root, text = parse_xml(content, shown, limits)
            check_local_paths_text(text, shown)
            check_svg(root, shown)
        else:
            embedded(content, shown, limits, depth + 1)
    if workbook is not None:
        workbook.finish()


def _check_part_name(name: str, expected: re.Pattern[str]) -> None:
    for pattern, reason in _DENIED:
        if pattern.fullmatch(name):
            fail(f"{reason} ({safe_name(name)})")
    if not expected.fullmatch(name):
        fail(f"unexpected part {safe_name(name)}")


def _check_properties(root: etree._Element, allowed: frozenset[str], shown: str) -> None:
    """Document properties: only the listed ones may have a value."""
    for child in root:
        _, local = split_tag(child.tag)
        if local in allowed:
            continue
        if (child.text or "").strip() or len(child):
            fail(f"{_property_label(local)} in {shown}")


def _property_label(local: str) -> str:
    labels = {"creator": "author", "lastModifiedBy": "last editor", "created": "creation date",
              "modified": "modification date", "lastPrinted": "print date",
              "revision": "revision number", "TotalTime": "editing time",
              "language": "language tag"}
    return labels.get(local, local)


def check_ooxml_tree(root: etree._Element, shown: str) -> None:
    """The element and attribute deny-list, applied to every node of a part."""
    for node in root.iter():
        ns, local = split_tag(node.tag)
        if ns in WORD_NS:
            _check_word_element(node, local, shown)
        elif ns.startswith(MS_NS) and local in _MS_ELEMENTS:
            fail(f"{_MS_ELEMENTS[local]} in {shown}")
        elif local == "lang" and any(v.strip() for v in node.attrib.values()):
            fail(f"language tag in {shown}")  # c:lang in charts, and the like
        for key, value in node.attrib.items():
            _check_attribute(key, value, shown)


def _check_word_element(node: etree._Element, local: str, shown: str) -> None:
    if local in _TRACKED:
        fail(f"tracked change in {shown}")
    if local.endswith(("PrChange", "PrExChange")):
        fail(f"tracked formatting change in {shown}")
    if local in _WORD_ELEMENTS:
        fail(f"{_WORD_ELEMENTS[local]} in {shown}")
    if local in ("lang", "themeFontLang") and any(v.strip() for v in node.attrib.values()):
        fail(f"language tag in {shown}")
    if local == "instrText":
        _check_field(node.text or "", shown)
    elif local == "fldSimple":
        for key, value in node.attrib.items():
            if split_tag(key)[1] == "instr":
                _check_field(value, shown)


def _check_field(instruction: str, shown: str) -> None:
    words = instruction.split()
    if words and words[0].upper() in _DENIED_FIELDS:
        fail(f"field showing a name or file in {shown}")


def _check_attribute(key: str, value: str, shown: str) -> None:
    ns, local = split_tag(key)
    if ns in WORD_NS:
        if local.startswith("rsid"):
            fail(f"revision session id (rsid) in {shown}")
        if local == "date" and value.strip():
            fail(f"edit date in {shown}")
    if ns.startswith(MS_NS) and local in _MS_ID_ATTRS:
        fail(f"{local} id in {shown}")
    if not value.strip():
        return
    if local in _PEOPLE_ATTRS:
        fail(f"author name in {shown}")
    if local in _LANG_ATTRS:
        fail(f"language tag in {shown}")
    if local in _SECRET_ATTRS:
        fail(f"password hash in {shown}")
    if local in _LABEL_ATTRS and looks_like_file_name(value):
        fail(f"original image file name in {shown}")


_UNC_OR_DRIVE = re.compile(r"^(?:[A-Za-z]:|\\\\|//)|^file:", re.IGNORECASE)


def check_relationships(root: etree._Element, shown: str) -> None:
    """Relationships may point outside the package only as web or mail hyperlinks."""
    for node in root.iter():
        ns, local = split_tag(node.tag)
        if (ns, local) == (RELS_NS, "Relationships"):
            continue
        if (ns, local) != (RELS_NS, "Relationship"):
            fail(f"unexpected element in {shown}")
        target = node.get("Target", "")
        if _UNC_OR_DRIVE.search(target.strip()) or "\\" in target:
            fail(f"link to a local file in {shown}")
        if node.get("TargetMode", "Internal") != "Internal":
            is_hyperlink = node.get("Type", "").endswith("/hyperlink")
            scheme = urlsplit(target.strip()).scheme.lower()
            if not is_hyperlink or scheme not in ("http", "https", "mailto"):
                fail(f"external link to a template or file in {shown}")

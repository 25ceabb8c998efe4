"""Clean DOCX, XLSX and PPTX: rebuild the package from allow-listed parts only.

The promise: the cleaned package holds only parts on the per-kind allow-list
(formats/ooxml/parts.py), each rewritten by a hardened XML parser after every identifying
attribute and element was removed (formats/ooxml/word.py, formats/ooxml/workbook.py, formats/ooxml/slides.py,
ooxml_xml); the document properties are replaced by empty ones; pictures and
embedded documents are cleaned by their own cleaners or dropped; relationships
and content types are rebuilt to match what remains (formats/ooxml/rels.py); and the zip
is written afresh (zipdoc). Nothing is copied as it was: a part the cleaner
does not know is dropped and reported, never passed on.
"""

from __future__ import annotations

from typing import BinaryIO

from lxml import etree

from ...budget import FileBudgetExceeded
from ...core import Context
from ...errors import CleaningRefused
from ...report import Report
from ...sniff import HEAD_BYTES, refine, sniff
from ..zipdoc import (
    Tally,
    parse_xml,
    read_package,
    serialize_xml,
    split_tag,
    try_parse_xml,
    write_package,
)
from .altchunk import find_alt_chunks, imported_parts, merge_alt_chunks
from .parts import (
    EMBEDDED,
    EMBEDDED_TYPES,
    LAYOUTS,
    RELS_TYPE,
    Layout,
    allowed_content_type,
    is_comment_part,
    report_app_properties,
    report_core_properties,
    report_dropped_part,
)
from .rels import (
    Relationship,
    drop_dangling_references,
    keep_relationships,
    read_relationships,
    relationships_xml,
    rels_name_for,
    source_of,
)
from .slides import (
    clean_presentation,
    clean_presentation_properties,
    clean_view_properties,
)
from .traces import scrub_ooxml_part
from .word import clean_settings, clean_word_part, hidden_styles, remove_list_ids
from .workbook import (
    clean_defined_names,
    clean_sheet_views,
    clean_workbook,
    has_custom_views,
    has_defined_names,
    names_in_use,
)

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ROOT_RELS = {
    "officeDocument": f"{_REL}/officeDocument",
    "core": "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "app": f"{_REL}/extended-properties",
}
_MAIN_ELEMENTS = {"docx": "document", "xlsx": "workbook", "pptx": "presentation"}
EMPTY_CORE = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
    b'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    b'xmlns:dcmitype="http://purl.org/dc/dcmitype/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>'
)
EMPTY_APP = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Properties '
    b'xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"/>'
)


def clean_ooxml(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Write a DOCX, XLSX or PPTX to dst rebuilt from the allow-listed parts of src."""
    layout = LAYOUTS.get(ctx.kind)
    if layout is None:
        raise CleaningRefused("unknown-type", ctx.kind)
    members = read_package(src.read(), ctx.limits)
    tally = Tally()
    if not members.get(layout.main, b"").strip():
        raise CleaningRefused("malformed", f"{layout.main} missing")
    chunks = find_alt_chunks(members, ctx.limits) if ctx.kind == "docx" else {}
    types = _select_parts(ctx.kind, members, tally, ctx, imported_parts(chunks))
    types[layout.main] = _main_type(members, layout, ctx)
    contents = _clean_embedded(members, types, tally, report, ctx)
    trees = {
        name: parse_xml(members[name], name, ctx.limits)
        for name in types if name not in contents and not name.startswith("docProps/")
    }
    if split_tag(trees[layout.main].tag)[1] != _MAIN_ELEMENTS[ctx.kind]:
        raise CleaningRefused("malformed", f"unexpected content in {layout.main}")
    if chunks:
        merge_alt_chunks(trees, chunks, members, report, tally, ctx)
    kept_parts = set(types)
    kept_rels = {
        name: keep_relationships(name, _relationships_of(name, members, ctx), kept_parts, tally)
        for name in trees
    }
    _clean_parts(ctx.kind, trees, kept_rels, tally)
    for name, tree in trees.items():
        contents[name] = serialize_xml(tree)
    contents.update(_replace_properties(members, types, ctx, tally))
    tally.flush(report)
    write_package(_package_members(layout, members, types, contents, kept_rels), dst)


def _select_parts(
    kind: str, members: dict[str, bytes], tally: Tally, ctx: Context, imported: set[str],
) -> dict[str, str]:
    """The allow-listed parts and their content types; everything else is reported
    (but for the documents an altChunk imports, whose text is merged instead)."""
    has_comments = any(is_comment_part(name) for name in members)
    types: dict[str, str] = {}
    for name, data in members.items():
        if name == "[Content_Types].xml" or source_of(name) is not None or name in imported:
            continue  # rebuilt from what remains, or merged into the text
        ctype = allowed_content_type(kind, name)
        if ctype is None:
            report_dropped_part(name, data, tally, ctx.limits, has_comments)
        elif data.strip() or ctype == EMBEDDED:
            types[name] = ctype  # an empty XML part holds nothing and is left out
    return types


def _main_type(members: dict[str, bytes], layout: Layout, ctx: Context) -> str:
    """The main part's declared type when it is an allowed one (a template stays a template)."""
    root = try_parse_xml(members.get("[Content_Types].xml", b""), "[Content_Types].xml",
                         ctx.limits)
    if root is not None:
        for node in root:
            if (split_tag(node.tag)[1] == "Override"
                    and node.get("PartName", "").lower() == f"/{layout.main}".lower()
                    and node.get("ContentType") in layout.main_types):
                return str(node.get("ContentType"))
    return layout.main_types[0]


def _kind_of(data: bytes, name: str) -> str:
    try:
        return refine(sniff(data[:HEAD_BYTES], name), data)
    except CleaningRefused:
        return ""


def _clean_embedded(
    members: dict[str, bytes], types: dict[str, str], tally: Tally, report: Report,
    ctx: Context,
) -> dict[str, bytes]:
    """Pictures and embedded documents go through their own cleaners, or are dropped."""
    contents: dict[str, bytes] = {}
    for name in [n for n, ctype in types.items() if ctype == EMBEDDED]:
        cleaned = None
        if _kind_of(members[name], name) in EMBEDDED_TYPES:
            try:
                cleaned = ctx.clean_embedded(members[name], name, report)
            except FileBudgetExceeded:  # the whole file is refused, not the picture
                raise
            except CleaningRefused:
                cleaned = None
        kind = _kind_of(cleaned, name) if cleaned else ""
        if cleaned is None or kind not in EMBEDDED_TYPES:
            tally.add("embedded-file-removed", name)
            del types[name]
            continue
        contents[name] = cleaned
        types[name] = EMBEDDED_TYPES[kind]
    return contents


def _relationships_of(name: str, members: dict[str, bytes], ctx: Context) -> list[Relationship]:
    rels_name = rels_name_for(name)
    data = members.get(rels_name, b"")
    return read_relationships(data, rels_name, ctx.limits) if data.strip() else []


def _clean_parts(
    kind: str, trees: dict[str, etree._Element], kept_rels: dict[str, list[Relationship]],
    tally: Tally,
) -> None:
    """Run the format's own passes, then the shared scrub, then fix references.

    The workbook part goes last: whether a defined name is still used can only be
    told once every other part is clean.
    """
    hidden = hidden_styles(trees["word/styles.xml"]) if "word/styles.xml" in trees else set()
    views_named = has_custom_views(trees.get("xl/workbook.xml"))
    comment_marks = 0
    for name in sorted(trees, key=lambda part: part == "xl/workbook.xml"):
        tree = trees[name]
        if kind == "docx" and name.startswith("word/"):
            comment_marks += clean_word_part(tree, hidden, tally)
            if name == "word/settings.xml":
                clean_settings(tree, tally)
            elif name == "word/numbering.xml":
                remove_list_ids(tree, tally)
        elif name == "xl/workbook.xml":
            clean_workbook(tree, tally)
        elif name.startswith(("xl/worksheets/", "xl/chartsheets/")):
            clean_sheet_views(tree, views_named, tally)
        elif name == "ppt/presentation.xml":
            clean_presentation(tree, tally)
        elif name == "ppt/presProps.xml":
            clean_presentation_properties(tree, tally)
        elif name == "ppt/viewProps.xml":
            clean_view_properties(tree)
        scrub_ooxml_part(tree, tally)
        if name == "xl/workbook.xml" and has_defined_names(tree):
            clean_defined_names(tree, names_in_use(trees.values()), tally)
        drop_dangling_references(tree, {rel.id for rel in kept_rels.get(name, [])})
    if comment_marks and not tally.has("comments"):
        tally.add("comments", count=comment_marks)


def _replace_properties(
    members: dict[str, bytes], types: dict[str, str], ctx: Context, tally: Tally
) -> dict[str, bytes]:
    """Report what the document properties said, and keep empty ones in their place."""
    replaced = {}
    for name, reader, empty in (("docProps/core.xml", report_core_properties, EMPTY_CORE),
                                ("docProps/app.xml", report_app_properties, EMPTY_APP)):
        if name in types:
            reader(parse_xml(members[name], name, ctx.limits), tally)
            replaced[name] = empty
    return replaced


def _package_members(
    layout: Layout, members: dict[str, bytes], types: dict[str, str],
    contents: dict[str, bytes], kept_rels: dict[str, list[Relationship]],
) -> list[tuple[str, bytes]]:
    """[Content_Types].xml, the package relationships, then every part in name order."""
    package_rels = [Relationship("rId1", _office_document_type(members), layout.main, False)]
    for rid, name, rel_type in (("rId2", "docProps/core.xml", _ROOT_RELS["core"]),
                                ("rId3", "docProps/app.xml", _ROOT_RELS["app"])):
        if name in types:
            package_rels.append(Relationship(rid, rel_type, name, False))
    parts = dict(contents)
    for name, rels in kept_rels.items():
        if rels:
            parts[rels_name_for(name)] = relationships_xml(rels)
    ordered = [("[Content_Types].xml", _content_types(types, parts)),
               ("_rels/.rels", relationships_xml(package_rels))]
    ordered.extend((name, parts[name]) for name in sorted(parts, key=_order))
    return ordered


def _order(name: str) -> tuple[int, str]:
    return (0 if name.startswith("docProps/") else 1, name)


def _office_document_type(members: dict[str, bytes]) -> str:
    """Strict documents name their main part with their own relationship type."""
    if b"purl.oclc.org/ooxml/officeDocument/relationships/officeDocument" in members.get(
        "_rels/.rels", b""
    ):
        return "http://purl.oclc.org/ooxml/officeDocument/relationships/officeDocument"
    return _ROOT_RELS["officeDocument"]


def _content_types(types: dict[str, str], parts: dict[str, bytes]) -> bytes:
    root = etree.Element(f"{{{CT_NS}}}Types", nsmap={None: CT_NS})
    for extension, ctype in (("rels", RELS_TYPE), ("xml", "application/xml")):
        etree.SubElement(root, f"{{{CT_NS}}}Default", Extension=extension, ContentType=ctype)
    for name in sorted(parts, key=_order):
        override = types.get(name)
        if override is None:
            continue  # a relationships part, covered by the "rels" default
        etree.SubElement(root, f"{{{CT_NS}}}Override", PartName=f"/{name}", ContentType=override)
    return serialize_xml(root)


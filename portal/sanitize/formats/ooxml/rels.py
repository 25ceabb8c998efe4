"""Relationships in an OOXML package: keep only links to parts that stay, and web links.

Threat: a relationship can point outside the package: to the template on the
author's disk (`file:///C:/Users/wang/...`), to a share on their employer's
network, to a linked picture or data source. Those targets name people and
machines, and opening the document would reach for them. A relationship is
kept only if it points to a part that survives cleaning, or if it is a web or
mail hyperlink; every other one is dropped, and every reference to a dropped
relationship is taken out of the XML so the document stays valid: a hyperlink
becomes plain text, a picture whose file is gone disappears with its frame.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from lxml import etree

from ...errors import CleaningRefused
from ...limits import Limits
from ..zipdoc import (
    WEB_SCHEMES,
    Tally,
    has_local_path,
    is_attached,
    parse_xml,
    remove_element,
    serialize_xml,
    shown_name,
    split_tag,
    unwrap_element,
)

PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
R_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "http://purl.oclc.org/ooxml/officeDocument/relationships",
})
VML_OFFICE = "urn:schemas-microsoft-com:office:office"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,63}")
_TYPE = re.compile(
    r"http://(?:schemas\.openxmlformats\.org|schemas\.microsoft\.com|purl\.oclc\.org)"
    r"/[A-Za-z0-9/._\-]{1,200}"
)
_DRIVE_OR_UNC = re.compile(r"^(?:[A-Za-z]:|\\\\|//)")


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str
    external: bool


def rels_name_for(part: str) -> str:
    """word/document.xml → word/_rels/document.xml.rels; "" (the package) → _rels/.rels."""
    folder, _, base = part.rpartition("/")
    return f"{folder}/_rels/{base}.rels" if folder else f"_rels/{base}.rels"


def source_of(rels_name: str) -> str | None:
    """The part a relationships file belongs to, or None if the name is not one."""
    match = re.fullmatch(r"(?:(.*)/)?_rels/([^/]*)\.rels", rels_name)
    if match is None:
        return None
    folder, base = match.group(1), match.group(2)
    return f"{folder}/{base}" if folder else base


def resolve_target(source: str, target: str, kept_parts: set[str]) -> str | None:
    """The kept part an internal target points to, or None if there is none.

    Targets are URIs, so a part named "image 1.png" may be written "image%201.png";
    both spellings are tried. A target that leaves the package resolves to None.
    """
    path = target.split("#", 1)[0]
    for spelling in dict.fromkeys((path, unquote(path))):
        if not spelling or "\\" in spelling or ":" in spelling:
            continue
        joined = spelling[1:] if spelling.startswith("/") else posixpath.join(
            posixpath.dirname(source), spelling)
        normal = posixpath.normpath(joined)
        if not normal.startswith(("../", "/")) and normal not in ("..", ".") and (
            normal in kept_parts
        ):
            return normal
    return None


def read_relationships(data: bytes, name: str, limits: Limits) -> list[Relationship]:
    root = parse_xml(data, name, limits)
    if split_tag(root.tag) != (PKG_RELS, "Relationships"):
        raise CleaningRefused("malformed", f"unexpected relationships in {shown_name(name)}")
    found = []
    for node in root:
        if split_tag(node.tag) != (PKG_RELS, "Relationship"):
            continue
        found.append(Relationship(
            id=node.get("Id", ""), type=node.get("Type", ""), target=node.get("Target", ""),
            external=node.get("TargetMode", "Internal") == "External",
        ))
    return found


def keep_relationships(
    source: str, rels: list[Relationship], kept_parts: set[str], tally: Tally
) -> list[Relationship]:
    """The relationships that may stay: to parts that stay, or web and mail hyperlinks."""
    kept: list[Relationship] = []
    seen: set[str] = set()
    for rel in rels:
        if not _ID.fullmatch(rel.id) or rel.id in seen or not _TYPE.fullmatch(rel.type):
            continue
        target = rel.target.strip()
        if rel.external:
            scheme = urlsplit(target).scheme.lower()
            if (rel.type.endswith("/hyperlink") and scheme in WEB_SCHEMES
                    and not has_local_path(target) and "\\" not in target):
                kept.append(Relationship(rel.id, rel.type, target, True))
                seen.add(rel.id)
            else:
                tally.add("external-link", target)
            continue
        if has_local_path(target) or _DRIVE_OR_UNC.match(target) or "\\" in target:
            tally.add("external-link", target)
            continue
        if resolve_target(source, target, kept_parts) is not None:
            kept.append(rel)
            seen.add(rel.id)
    return kept


def relationships_xml(rels: list[Relationship]) -> bytes:
    root = etree.Element(f"{{{PKG_RELS}}}Relationships", nsmap={None: PKG_RELS})
    for rel in rels:
        node = etree.SubElement(root, f"{{{PKG_RELS}}}Relationship")
        node.set("Id", rel.id)
        node.set("Type", rel.type)
        node.set("Target", rel.target)
        if rel.external:
            node.set("TargetMode", "External")
    return serialize_xml(root)


# ---- references in the XML -----------------------------------------------------

# The smallest thing that disappears with a picture, chart or object whose file is gone.
_CONTAINERS = frozenset({
    "drawing", "pict", "object", "twoCellAnchor", "oneCellAnchor", "absoluteAnchor",
    "graphicFrame", "relSizeAnchor", "absSizeAnchor", "embeddedFont", "oleObj",
})
_PPT_PICTURE = "http://schemas.openxmlformats.org/presentationml/2006/main"
_LINK_ELEMENTS = frozenset({"hlinkClick", "hlinkHover", "hlinkMouseOver"})
# Elements whose reference is an optional extra (printer set-up, a linked copy of a picture).
_OPTIONAL_REFERENCE = frozenset({"pageSetup"})
# Lists that the schemas do not allow to be empty once their last entry is gone.
_NON_EMPTY = frozenset({
    "hyperlinks", "externalReferences", "custDataLst", "extLst", "oleObjects", "controls",
    "embeddedFontLst", "tableParts",
})


def drop_dangling_references(root: etree._Element, kept_ids: set[str]) -> int:
    """Remove every use of a relationship id that no longer exists; return how many."""
    dangling = []
    for node in root.iter():
        for key, value in node.attrib.items():
            ns, local = split_tag(key)
            # An empty id is no reference (PowerPoint's "next slide" action link has one).
            if (ns in R_NAMESPACES or (ns, local) == (VML_OFFICE, "relid")) and (
                value and value not in kept_ids
            ):
                dangling.append((node, key))
    for node, key in dangling:
        if is_attached(node, root) and key in node.attrib:
            _drop_reference(node, key)
    remove_empty_lists(root)
    return len(dangling)


def _drop_reference(node: etree._Element, key: str) -> None:
    ns, local = split_tag(node.tag)
    if local == "hyperlink" and ns not in R_NAMESPACES:
        del node.attrib[key]
        if not any(split_tag(k)[1] == "anchor" for k in node.attrib):
            unwrap_element(node)  # a Word hyperlink: its text stays, as plain text
        return
    if local in _LINK_ELEMENTS:
        remove_element(node)
        return
    if local in _OPTIONAL_REFERENCE or (local == "blip" and split_tag(key)[1] == "link"):
        del node.attrib[key]  # the element means something without the link
        return
    target = _container_of(node)
    if target is None and local == "blip":
        parent = node.getparent()
        target = parent if parent is not None and split_tag(parent.tag)[1] == "blipFill" else node
    remove_element(target if target is not None else node)


def _container_of(node: etree._Element) -> etree._Element | None:
    for ancestor in node.iterancestors():
        ns, local = split_tag(ancestor.tag)
        if local == "ext" and (parent := ancestor.getparent()) is not None and (
            split_tag(parent.tag)[1] == "extLst"
        ):
            return ancestor  # an extension such as the SVG version of a picture
        if ns == MC and local == "AlternateContent" and not _inside_graphic(ancestor):
            return ancestor
        if local in _CONTAINERS or (ns == _PPT_PICTURE and local == "pic"):
            return ancestor
    return None


def _inside_graphic(node: etree._Element) -> bool:
    """An alternative inside a picture frame: the whole frame goes, not just the choice."""
    parent = node.getparent()
    return parent is not None and split_tag(parent.tag)[1] == "graphicData"


def remove_empty_lists(root: etree._Element) -> None:
    for node in reversed(list(root.iter())):  # innermost first, so emptiness propagates
        ns, local = split_tag(node.tag)
        empty = len(node) == 0 if local in _NON_EMPTY else (
            ns == MC and local == "AlternateContent" and all(len(branch) == 0 for branch in node)
        )
        if empty and is_attached(node, root):
            remove_element(node)

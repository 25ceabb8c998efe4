"""Verify a cleaned OpenDocument package (ODT, ODS, ODP, ODG).

Part of the independent verifier (see verify/office.py): the package is re-read
with the verifier's own zip reader and hardened XML parser, and refused if any
of this deny-list remains, or if any part is not one this module expects.

* parts: Thumbnails/, Configurations2/, Basic/, Scripts/, ObjectReplacements/,
  signatures in META-INF/, layout-cache, and anything not in the expected list
  (mimetype, content.xml, styles.xml, meta.xml, settings.xml, manifest.rdf,
  META-INF/manifest.xml, Pictures/*, "Object N/" sub-documents);
* mimetype: must be the first member, stored, naming the document's kind;
* meta.xml: only dc:title, dc:subject, dc:description and meta:keyword may
  appear (no initial-creator, creator, creation-date, date, generator,
  editing-cycles, editing-duration, document-statistic, user-defined,
  template, printed-by, print-date, language, ...);
* settings.xml: no config:config-item at all (view settings, printer names,
  printer set-up blobs and rsid roots all live there; a clean package drops
  the whole part or leaves it empty);
* manifest: every member listed, every listed member present, no
  manifest:encryption-data;
* content and styles: office:annotation, tracked changes (text: and table:),
  dc:creator and dc:date anywhere, officeooo rsid attributes, language and
  country attributes (fo:, style:, number:, xml:lang), fields showing the
  author, sender, creator, printer, file or template name, user-defined
  fields, user fields and variables (declared, set, shown or asked for: they
  store values whether shown or not), conditional and hidden text, hidden
  paragraphs and sections, scripts and event listeners (empty holders are
  fine), applets and plugins, DDE and linked sections or tables, xlink:href
  to anything but an internal part, "#", or an http(s)/mailto address, and
  drawing names that are an image's file name;
* anywhere in any XML text: a local user path.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from lxml import etree

from ..limits import Limits
from .common import (
    XML_NS,
    EmbeddedCheck,
    check_local_paths_text,
    check_svg,
    fail,
    looks_like_file_name,
    parse_xml,
    safe_name,
    split_tag,
)
from .zip import Member, iter_contents

_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/vnd.oasis.opendocument.graphics": "odg",
}

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
META = "urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
CONFIG = "urn:oasis:names:tc:opendocument:xmlns:config:1.0"
SCRIPT = "urn:oasis:names:tc:opendocument:xmlns:script:1.0"
MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
DC = "http://purl.org/dc/elements/1.1/"
XLINK = "http://www.w3.org/1999/xlink"
OFFICEOOO = "http://openoffice.org/2009/office"

_DENIED_PARTS: tuple[tuple[str, str], ...] = (
    (r"Thumbnails/.*", "thumbnail"),
    (r"Configurations2/.*", "application settings"),
    (r"(?:Basic|Scripts)/.*", "macros"),
    (r"ObjectReplacements/.*", "object preview image"),
    (r"META-INF/.*signatures[^/]*\.xml", "digital signature"),
    (r"layout-cache", "layout cache"),
)
_EXPECTED = re.compile(
    r"mimetype|META-INF/manifest\.xml|manifest\.rdf"
    r"|(?:Object \d+/)?(?:content|styles|meta|settings)\.xml"
    r"|Object \d+/|Object \d+|Pictures/|Pictures/[^/]+"
)

_ELEMENTS = {
    (OFFICE, "annotation"): "comment", (OFFICE, "annotation-end"): "comment",
    (TEXT, "tracked-changes"): "tracked changes", (TABLE, "tracked-changes"): "tracked changes",
    (TEXT, "changed-region"): "tracked changes", (TEXT, "change"): "tracked changes",
    (TEXT, "change-start"): "tracked changes", (TEXT, "change-end"): "tracked changes",
    (OFFICE, "change-info"): "tracked changes",
    (DC, "creator"): "author", (DC, "date"): "date",
    (TEXT, "author-name"): "author field", (TEXT, "author-initials"): "author field",
    (TEXT, "initial-creator"): "author field", (TEXT, "creator"): "author field",
    (TEXT, "printed-by"): "printer field", (TEXT, "file-name"): "file name field",
    (TEXT, "template-name"): "template name field",
    (TEXT, "user-defined"): "user-defined property field",
    (TEXT, "user-field-decls"): "user field", (TEXT, "user-field-decl"): "user field",
    (TEXT, "user-field-get"): "user field", (TEXT, "user-field-input"): "user field",
    (TEXT, "variable-decls"): "variable", (TEXT, "variable-decl"): "variable",
    (TEXT, "variable-set"): "variable", (TEXT, "variable-get"): "variable",
    (TEXT, "variable-input"): "variable", (TEXT, "conditional-text"): "conditional text",
    (TEXT, "hidden-text"): "hidden text", (TEXT, "hidden-paragraph"): "hidden paragraph",
    (DRAW, "applet"): "embedded program", (DRAW, "plugin"): "embedded program",
    (OFFICE, "dde-source"): "link to external data",
    (TEXT, "dde-connection-decls"): "link to external data",
    (TABLE, "dde-links"): "link to external data",
    (TABLE, "table-source"): "link to an external file",
    (TEXT, "section-source"): "link to an external file",
}
_SCRIPT_HOLDERS = frozenset({(OFFICE, "scripts"), (OFFICE, "event-listeners")})
_META_ALLOWED = frozenset({(DC, "title"), (DC, "subject"), (DC, "description"),
                           (META, "keyword")})
_META_LABELS = {
    "initial-creator": "author", "creator": "author", "creation-date": "creation date",
    "date": "modification date", "generator": "generator", "editing-cycles": "editing cycles",
    "editing-duration": "editing time", "document-statistic": "document statistics",
    "user-defined": "custom property", "template": "template", "printed-by": "printed by",
    "print-date": "print date", "language": "language tag",
}
_LANG_NAMESPACES = frozenset({FO, STYLE, NUMBER, TABLE, TEXT})
_SCRIPT_ATTRS = frozenset({"script", "script-asian", "script-complex"})


def odf_kind(data: bytes, first: Member) -> str:
    """The kind named by the mimetype member, which must be first and stored."""
    if first.method != 0 or first.size > 100:
        fail("ODF mimetype member not stored plainly")
    content = data[first.data_start : first.data_start + first.size]
    kind = _MIMETYPES.get(content)
    if kind is None:
        fail("unexpected ODF mimetype")
    return kind


def verify_odf_package(
    kind: str, data: bytes, members: list[Member], limits: Limits, depth: int,
    embedded: EmbeddedCheck,
) -> None:
    names = {member.name for member in members}
    for member in members:
        _check_part_name(member.name)
    manifest_member = next((m for m in members if m.name == "META-INF/manifest.xml"), None)
    if manifest_member is None:
        fail("ODF manifest missing")
    for member, content in iter_contents(data, members):
        name = member.name
        shown = safe_name(name)
        if name.endswith("/"):
            if content:
                fail(f"data in folder entry {shown}")
            continue
        if name == "mimetype":
            continue
        if name.endswith((".xml", ".rdf")):
            root, text = parse_xml(content, shown, limits)
            check_local_paths_text(text, shown)
            base = name.rsplit("/", 1)[-1]
            if name == "META-INF/manifest.xml":
                _check_manifest(root, names)
            elif base == "meta.xml":
                _check_meta(root, shown)
            elif base == "settings.xml":
                _check_settings(root, shown)
            check_odf_tree(root, shown)
        elif name.endswith(".svg"):
            root, text = parse_xml(content, shown, limits)
            check_local_paths_text(text, shown)
            check_svg(root, shown)
        else:
            embedded(content, shown, limits, depth + 1)


def _check_part_name(name: str) -> None:
    for pattern, reason in _DENIED_PARTS:
        if re.fullmatch(pattern, name):
            fail(f"{reason} ({safe_name(name)})")
    if not _EXPECTED.fullmatch(name):
        fail(f"unexpected part {safe_name(name)}")


def _check_manifest(root: etree._Element, names: set[str]) -> None:
    if split_tag(root.tag) != (MANIFEST, "manifest"):
        fail("unexpected ODF manifest")
    listed: set[str] = set()
    for entry in root:
        if split_tag(entry.tag) != (MANIFEST, "file-entry"):
            fail("encryption data or unexpected entry in the ODF manifest")
        if len(entry):
            fail("encryption data or unexpected entry in the ODF manifest")
        path = entry.get(f"{{{MANIFEST}}}full-path", "")
        if path in listed:
            fail("duplicate entry in the ODF manifest")
        listed.add(path)
        if path == "/":
            continue
        present = (
            any(n.startswith(path) for n in names) if path.endswith("/") else path in names
        )
        if not present:
            fail(f"ODF manifest lists a missing part {safe_name(path)}")
    for name in names - {"mimetype", "META-INF/manifest.xml"}:
        if name not in listed:
            fail(f"part {safe_name(name)} missing from the ODF manifest")


def _check_meta(root: etree._Element, shown: str) -> None:
    """Only the descriptive properties an author typed may remain."""
    if split_tag(root.tag) != (OFFICE, "document-meta"):
        fail(f"unexpected document properties in {shown}")
    for section in root:
        if split_tag(section.tag) != (OFFICE, "meta"):
            fail(f"unexpected document properties in {shown}")
        for prop in section:
            key = split_tag(prop.tag)
            if key not in _META_ALLOWED:
                fail(f"{_META_LABELS.get(key[1], key[1])} in {shown}")


def _check_settings(root: etree._Element, shown: str) -> None:
    for node in root.iter():
        if split_tag(node.tag)[0] == CONFIG:
            fail(f"application settings in {shown}")


def check_odf_tree(root: etree._Element, shown: str) -> None:
    """The element and attribute deny-list, applied to every node of a part."""
    for node in root.iter():
        key = split_tag(node.tag)
        if key in _ELEMENTS:
            fail(f"{_ELEMENTS[key]} in {shown}")
        # LibreOffice writes an empty <office:scripts/> into every document.
        if key in _SCRIPT_HOLDERS and len(node):
            fail(f"macros in {shown}")
        if key[0] == SCRIPT:
            fail(f"macros in {shown}")
        if key[0] == TEXT and key[1].startswith("sender-"):
            fail(f"sender field in {shown}")
        if key == (TEXT, "section") and node.get(f"{{{TEXT}}}display") in ("none", "condition"):
            fail(f"hidden section in {shown}")
        for name, value in node.attrib.items():
            _check_attribute(name, value, shown)


def _check_attribute(name: str, value: str, shown: str) -> None:
    ns, local = split_tag(name)
    if ns == OFFICEOOO and "rsid" in local:
        fail(f"revision session id (rsid) in {shown}")
    stripped = value.strip()
    if not stripped:
        return
    is_language = "language" in local or "country" in local or local in _SCRIPT_ATTRS
    if (ns, local) == (XML_NS, "lang") or (ns in _LANG_NAMESPACES and is_language):
        fail(f"language tag in {shown}")
    if ns == XLINK and local == "href":
        _check_href(stripped, shown)
    if local == "name" and ns == DRAW and looks_like_file_name(stripped):
        fail(f"original image file name in {shown}")


def _check_href(href: str, shown: str) -> None:
    if href.startswith("#"):
        return
    scheme = urlsplit(href).scheme.lower()
    if scheme in ("http", "https", "mailto"):
        return
    if scheme or href.startswith(("/", "../", "\\")) or "\\" in href:
        fail(f"link to a local file in {shown}")

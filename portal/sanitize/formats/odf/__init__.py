"""Clean ODT, ODS, ODP and ODG: rebuild the package from allow-listed members only.

The promise: the cleaned package holds a stored `mimetype` first, content.xml
and styles.xml rewritten without tracked changes, annotations, rsids, people,
name fields, language tags or links to local files (formats/odf/content.py), an empty
meta.xml, the pictures and embedded objects that their own cleaners accepted,
sub-documents ("Object 1/") cleaned the same way, and a manifest rebuilt to list
exactly those members. settings.xml (printer names, rsid roots, view state),
Thumbnails/, Configurations2/, macros and signatures are dropped and reported;
so is any member this module does not know. A package whose manifest declares
encryption is refused: we cannot look inside it.
"""

from __future__ import annotations

import re
from typing import BinaryIO
from urllib.parse import unquote

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
    write_package,
)
from .content import DC, OFFICE, XLINK, Locator, clean_odf_tree, refuse_if_encrypted

MANIFEST = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
}
_KEPT_PICTURES = {"png": "image/png", "jpeg": "image/jpeg", "gif": "image/gif",
                  "bmp": "image/bmp", "tiff": "image/tiff", "webp": "image/webp"}
_KEPT_OBJECTS = {**_KEPT_PICTURES, **{kind: f"application/vnd.oasis.opendocument.{name}" for
                 kind, name in (("odt", "text"), ("ods", "spreadsheet"),
                                ("odp", "presentation"), ("odg", "graphics"))}}
_DOCUMENT_PART = re.compile(r"(?:(Object \d+)/)?(content|styles|meta|settings)\.xml")
_SUBDOCUMENT_TYPE = re.compile(r"application/vnd\.oasis\.opendocument\.[a-z\-]{2,40}")
_VERSION = re.compile(r"\d\.\d")
_DROPPED = tuple((re.compile(pattern), code) for pattern, code in (
    (r"Thumbnails/.*", "thumbnail"),
    (r"ObjectReplacements/.*", "thumbnail"),
    (r"Configurations2/.*", "settings"),
    (r"(?:Basic|Scripts)/.*", "macros"),
    (r"META-INF/.*signatures[^/]*\.xml", "signature"),
    (r"(?:Object \d+/)?manifest\.rdf", ""),
    (r"layout-cache", ""),
))


def clean_odf(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Write an OpenDocument package to dst rebuilt from the allow-listed members of src."""
    expected = MIMETYPES.get(ctx.kind)
    if expected is None:
        raise CleaningRefused("unknown-type", ctx.kind)
    members = read_package(src.read(), ctx.limits)
    declared = members.get("mimetype", expected.encode()).strip()
    if declared != expected.encode():
        raise CleaningRefused("unknown-type", _describe_mimetype(declared))
    manifest = _read_manifest(members, ctx)
    if not members.get("content.xml", b"").strip():
        raise CleaningRefused("malformed", "content.xml missing")
    tally = Tally()
    media_types = _listed_media_types(manifest)
    subdocs = {path.rstrip("/"): kind for path, kind in media_types.items()
               if re.fullmatch(r"Object \d+/", path) and _SUBDOCUMENT_TYPE.fullmatch(kind)}
    kept: dict[str, bytes] = {}
    types: dict[str, str] = {}
    xml_parts: list[str] = []
    for name, data in members.items():
        if name in ("mimetype", "META-INF/manifest.xml"):
            continue
        part = _DOCUMENT_PART.fullmatch(name)
        if part and (part.group(1) is None or part.group(1) in subdocs):
            _take_document_part(name, part.group(2), data, xml_parts, kept, tally)
        elif re.fullmatch(r"Pictures/[^/]+|Object \d+", name):
            _take_embedded(name, data, kept, types, tally, report, ctx)
        else:
            _report_dropped(name, data, tally)
    version = _version(manifest, members, ctx)
    for name in xml_parts:
        root = parse_xml(members[name], name, ctx.limits)
        if name == "content.xml" and split_tag(root.tag) != (OFFICE, "document-content"):
            raise CleaningRefused("malformed", "unexpected content in content.xml")
        base = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        clean_odf_tree(root, tally, _locator(base, kept, members),
                       lambda data, where: _clean_inline(data, where, report, ctx))
        kept[name] = serialize_xml(root, standalone=None)
    for name in [n for n in kept if n == "meta.xml" or n.endswith("/meta.xml")]:
        _report_meta(parse_xml(members[name], name, ctx.limits), tally)
        kept[name] = _empty_meta(version)
    for path in {name.split("/", 1)[0] for name in kept if name.startswith("Object ")}:
        if path in subdocs:
            types[f"{path}/"] = subdocs[path]
    tally.flush(report)
    ordered = [("mimetype", expected.encode())]
    ordered.extend((name, kept[name]) for name in sorted(kept, key=_order))
    ordered.append(("META-INF/manifest.xml", _manifest(expected, version, kept, types)))
    write_package(ordered, dst, stored=frozenset({"mimetype"}))


def _describe_mimetype(declared: bytes) -> str:
    text = declared.decode("ascii", "replace")
    match = re.fullmatch(r"application/vnd\.oasis\.opendocument\.([a-z\-]{1,30})", text)
    return f"ODF {match.group(1)}" if match else "unrecognised ODF type"


def _read_manifest(members: dict[str, bytes], ctx: Context) -> etree._Element | None:
    data = members.get("META-INF/manifest.xml", b"")
    if not data.strip():
        return None
    root = parse_xml(data, "META-INF/manifest.xml", ctx.limits)
    refuse_if_encrypted(root)
    return root


def _listed_media_types(manifest: etree._Element | None) -> dict[str, str]:
    if manifest is None:
        return {}
    return {
        str(entry.get(f"{{{MANIFEST}}}full-path", "")): str(
            entry.get(f"{{{MANIFEST}}}media-type", ""))
        for entry in manifest.iter(f"{{{MANIFEST}}}file-entry")
    }


def _take_document_part(
    name: str, base: str, data: bytes, xml_parts: list[str], kept: dict[str, bytes],
    tally: Tally,
) -> None:
    """content, styles and meta stay (to be cleaned or emptied); settings go."""
    if base == "settings":
        if b"config-item" in data:
            tally.add("settings")
        return
    if not data.strip():
        return  # an empty part holds nothing
    kept[name] = data
    if base != "meta":
        xml_parts.append(name)


def _kind_of(data: bytes, name: str) -> str:
    try:
        return refine(sniff(data[:HEAD_BYTES], name), data)
    except CleaningRefused:
        return ""


def _take_embedded(
    name: str, data: bytes, kept: dict[str, bytes], types: dict[str, str], tally: Tally,
    report: Report, ctx: Context,
) -> None:
    allowed = _KEPT_PICTURES if name.startswith("Pictures/") else _KEPT_OBJECTS
    cleaned = None
    if _kind_of(data, name) in allowed:
        try:
            cleaned = ctx.clean_embedded(data, name, report)
        except FileBudgetExceeded:  # the whole file is refused, not the picture
            raise
        except CleaningRefused:
            cleaned = None
    kind = _kind_of(cleaned, name) if cleaned else ""
    if cleaned is None or kind not in allowed:
        tally.add("embedded-file-removed", name)
        return
    kept[name] = cleaned
    types[name] = allowed[kind]


def _clean_inline(data: bytes, where: str, report: Report, ctx: Context) -> bytes | None:
    """A picture written into the XML as base64: cleaned like a picture member."""
    if _kind_of(data, where) not in _KEPT_PICTURES:
        return None
    try:
        cleaned = ctx.clean_embedded(data, where, report)
    except FileBudgetExceeded:  # the whole file is refused, not the picture
        raise
    except CleaningRefused:
        return None
    return cleaned if _kind_of(cleaned, where) in _KEPT_PICTURES else None


def _report_dropped(name: str, data: bytes, tally: Tally) -> None:
    for pattern, code in _DROPPED:
        if pattern.fullmatch(name):
            # LibreOffice writes empty Configurations2 folders into every file.
            if code and (code != "settings" or data.strip()):
                tally.add(code)
            return
    tally.add("unknown-part", name)


def _locator(base: str, kept: dict[str, bytes], members: dict[str, bytes]) -> Locator:
    """Where an href inside the part at `base` leads: kept, dropped here, or absent."""
    def locate(href: str) -> str:
        path = unquote(href.split("#", 1)[0])
        while path.startswith("./"):
            path = path[2:]
        path = base + path.rstrip("/")
        for names, state in ((kept, "kept"), (members, "dropped")):
            if path in names or any(name.startswith(path + "/") for name in names):
                return state
        return "absent"
    return locate


def _version(manifest: etree._Element | None, members: dict[str, bytes], ctx: Context) -> str:
    """The ODF version the package declares, if it is a plain one ("1.2", "1.3")."""
    if manifest is not None:
        declared = str(manifest.get(f"{{{MANIFEST}}}version", ""))
        if _VERSION.fullmatch(declared):
            return declared
    match = re.search(rb'office:version="(\d\.\d)"', members.get("content.xml", b"")[:4096])
    return match.group(1).decode("ascii") if match else ""


def _report_meta(root: etree._Element, tally: Tally) -> None:
    """meta.xml: who wrote it, who saved it, when, with what, in what language."""
    described: list[str] = []
    for node in root.iter():
        ns, local = split_tag(node.tag)
        text = (node.text or "").strip()
        if local in ("initial-creator", "printed-by"):
            tally.add_names("author-name", [text])
        elif (ns, local) == (DC, "creator"):
            tally.add_names("last-modified-by", [text])
        elif local in ("creation-date", "print-date") or (ns, local) == (DC, "date"):
            tally.add("document-dates")
        elif local == "generator":
            tally.add_names("software", [text])
        elif local == "user-defined":
            tally.add("custom-properties")
        elif local == "template":
            tally.add("external-link", str(node.get(f"{{{XLINK}}}href", "")) or "template")
        elif (ns, local) == (DC, "language"):
            tally.add_names("language", [text])
        elif local in ("editing-cycles", "editing-duration", "document-statistic", "title",
                       "subject", "description", "keyword", "auto-reload",
                       "hyperlink-behaviour") and local not in described:
            described.append(local)
    if described:
        tally.add("document-properties", ", ".join(described))


def _empty_meta(version: str) -> bytes:
    root = etree.Element(f"{{{OFFICE}}}document-meta", nsmap={"office": OFFICE})
    if version:
        root.set(f"{{{OFFICE}}}version", version)
    etree.SubElement(root, f"{{{OFFICE}}}meta")
    return serialize_xml(root, standalone=None)


def _order(name: str) -> tuple[int, str]:
    rank = {"content.xml": 0, "styles.xml": 1, "meta.xml": 2}
    return (rank.get(name, 3), name)


def _manifest(mimetype: str, version: str, kept: dict[str, bytes], types: dict[str, str]
              ) -> bytes:
    root = etree.Element(f"{{{MANIFEST}}}manifest", nsmap={"manifest": MANIFEST})
    if version:
        root.set(f"{{{MANIFEST}}}version", version)

    def entry(path: str, media_type: str, with_version: bool = False) -> None:
        node = etree.SubElement(root, f"{{{MANIFEST}}}file-entry")
        node.set(f"{{{MANIFEST}}}full-path", path)
        if with_version and version:
            node.set(f"{{{MANIFEST}}}version", version)
        node.set(f"{{{MANIFEST}}}media-type", media_type)

    entry("/", mimetype, with_version=True)
    for name in sorted({*kept, *types}, key=_order):
        entry(name, types.get(name, "text/xml"), with_version=name.endswith("/"))
    return serialize_xml(root, standalone=None)


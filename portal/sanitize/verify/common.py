"""What every whole-file verifier shares: failing, safe XML, local paths, nesting.

The verifiers re-read a cleaned file with their own parsers and their own
deny-lists; nothing here is imported from a cleaner, so a mistake in a cleaner
is caught instead of repeated. Everything fails closed: a part the verifier
cannot read, or does not expect, is a refusal, never a pass.

Failure details are short English phrases naming *where* something remains
("author in docProps/core.xml"), never the value found, so a refusal message
cannot itself carry a name or a path onward.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NoReturn

from lxml import etree

from ..errors import LimitExceeded, VerificationFailed
from ..limits import Limits

# How a file found inside another one is verified, with the verifier for its
# real kind: `verify()` passes its own dispatcher down to the verifiers of
# documents (as the cleaner's engine passes Context.clean_embedded), so no verifier
# module imports a dispatcher that imports it back. Arguments: data, where,
# limits, depth.
EmbeddedCheck = Callable[[bytes, str, Limits, int], None]


def fail(detail: str) -> NoReturn:
    raise VerificationFailed(detail)


def check_depth(depth: int, limits: Limits) -> None:
    """Documents inside documents: the same bound the cleaner applies."""
    if depth > limits.max_depth:
        raise LimitExceeded("documents nested too deeply")


_PRINTABLE_NAME = re.compile(r"[A-Za-z0-9_.\-/\[\] ]{1,100}")


def safe_name(name: str) -> str:
    """A member name fit for a refusal message: odd names could themselves identify."""
    return name if _PRINTABLE_NAME.fullmatch(name) else "a part with an unusual name"


# Paths on an author's own machine: a file: URI, a Windows profile folder, or a
# Unix or macOS home directory. "/home/" inside a web address (letters or a dot
# before the slash) is not a local path, so it needs a non-path character before it.
_LOCAL_PATH_TEXT = re.compile(
    r"(?:[Ff][Ii][Ll][Ee]:[/\\])"
    r"|(?:\b[A-Za-z]:[\\/]+(?i:users|documents and settings)[\\/])"
    r"|(?:(?<![\w.\-%/~])/(?:home|Users)/[^/\s\"'<>])"
)
_LOCAL_PATH_BYTES = re.compile(_LOCAL_PATH_TEXT.pattern.encode("ascii"))
_UTF16_NEEDLES = tuple(
    needle.encode("utf-16-le")
    for needle in ("file:/", "FILE:/", ":\\Users\\", ":\\users\\", "/home/", "/Users/")
)


def has_local_path(text: str) -> bool:
    return _LOCAL_PATH_TEXT.search(text) is not None


def check_local_paths_text(text: str, where: str) -> None:
    if has_local_path(text):
        fail(f"local file path in {where}")


def check_local_paths_bytes(data: bytes, where: str) -> None:
    """Binary data (image chunks, audio, PDF streams), in ASCII and UTF-16."""
    if _LOCAL_PATH_BYTES.search(data) is not None:
        fail(f"local file path in {where}")
    if any(needle in data for needle in _UTF16_NEEDLES):
        fail(f"local file path in {where}")


# Metadata blocks that only have a reason to exist as metadata: an Exif header,
# an XMP packet, a Photoshop IPTC resource. Found anywhere in a media file (dead
# bytes in an mdat, a gap in a TIFF, a chunk a walker allowed), they are refused.
_METADATA_MARKERS = (
    b"Exif\x00\x00MM\x00*", b"Exif\x00\x00II*\x00", b"<x:xmpmeta", b"<?xpacket",
    b"8BIM\x04\x04",
)


def check_metadata_markers(data: bytes, where: str) -> None:
    if any(marker in data for marker in _METADATA_MARKERS):
        fail(f"Exif, XMP or IPTC data inside {where}")


def _xml_parser() -> etree.XMLParser:
    # No entity expansion, no DTD, no network: the classic XML attacks stop here,
    # and huge_tree stays off so libxml2 keeps its own depth and size limits.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False, remove_pis=False, collect_ids=False,
    )


def parse_xml(data: bytes, where: str, limits: Limits) -> tuple[etree._Element, str]:
    """Parse one XML part safely; return its root and its text (for path scanning).

    A DOCTYPE, an entity, a comment or a processing instruction is a refusal: a
    cleaned document needs none of them, and each is a place to hide text.
    """
    if len(data) > limits.max_xml_bytes:
        raise LimitExceeded(f"XML part {where} too large")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (
        b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"
    ):
        fail(f"XML not in UTF-8 in {where}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        fail(f"XML not in UTF-8 in {where}")
    upper = text.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        fail(f"document type declaration in {where}")
    try:
        root = etree.fromstring(data, _xml_parser())  # the parser is hardened above
    except (etree.XMLSyntaxError, ValueError):
        fail(f"unreadable XML in {where}")
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        fail(f"document type declaration in {where}")
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        _refuse_non_element(sibling, where)
    for node in root.iter():
        _refuse_non_element(node, where)
    return root, text


def _refuse_non_element(node: etree._Element, where: str) -> None:
    if isinstance(node, etree._Comment):
        fail(f"XML comment in {where}")
    if isinstance(node, etree._ProcessingInstruction):
        fail(f"processing instruction in {where}")
    if isinstance(node, etree._Entity):
        fail(f"entity reference in {where}")


def split_tag(name: str) -> tuple[str, str]:
    """'{ns}local' → (ns, local); a name without a namespace → ('', name)."""
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return "", name


def embedded_kind(data: bytes) -> str | None:
    """The verifier's own reading of what an embedded file is, from its bytes."""
    head = data[:16]
    signatures = (
        (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"), (b"GIF87a", "gif"),
        (b"GIF89a", "gif"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"), (b"BM", "bmp"),
        (b"%PDF-", "pdf"), (b"PK\x03\x04", "zip"), (b"fLaC", "flac"), (b"OggS", "ogg"),
        (b"ID3", "mp3"),
    )
    for magic, kind in signatures:
        if head.startswith(magic):
            return kind
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
            return "heic"
        if brand in (b"M4A ", b"M4B "):
            return "m4a"
    if len(head) >= 4 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "mp3"
    return None


_IMAGE_FILE_NAME = re.compile(
    r"(?i).*\.(?:jpe?g|png|gif|tiff?|bmp|heic|heif|webp|emf|wmf|svg|dng|raw)\s*"
)


def looks_like_file_name(value: str) -> bool:
    """An image's original file name ("IMG_20240301_0931.jpg") kept as its label."""
    return _IMAGE_FILE_NAME.fullmatch(value) is not None


SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def check_svg(root: etree._Element, where: str) -> None:
    """An SVG picture inside a document: drawing elements only.

    Editors' tools (Inkscape, Illustrator) add their own namespaces with export
    paths and document names, and <metadata> with RDF authorship; scripts and
    foreign objects are programs and HTML. Links may only point inside the picture.
    """
    for node in root.iter():
        ns, local = split_tag(node.tag)
        if ns != SVG_NS:
            fail(f"non-SVG element in {where}")
        if local in ("metadata", "script", "foreignObject"):
            fail(f"{local} element in {where}")
        for key, value in node.attrib.items():
            ans, alocal = split_tag(key)
            if ans not in ("", XLINK_NS) and (ans, alocal) != (XML_NS, "space"):
                fail(f"non-SVG attribute in {where}")
            if alocal == "href" and not value.startswith("#"):
                fail(f"link to another file in {where}")

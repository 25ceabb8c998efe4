"""What the OOXML and ODF cleaners share: a safe zip reader, a safe XML parser, a
deterministic zip writer, and a tally of what was removed.

Threat: an office document is a zip of XML parts, and both layers are programs
for a parser. A zip bomb (a small member that inflates to gigabytes, or sizes
forged to look harmless), tens of thousands of members, member names that climb
out of a folder ("..", absolute paths) or appear twice so that two readers see
two different documents, and members encrypted so we cannot look inside; XML
whose DOCTYPE expands entities a billion times ("billion laughs") or fetches
files over the network. This module reads a package only within `Limits`,
refuses everything else with `CleaningRefused`, and parses XML with entity
expansion, DTDs and the network switched off.

The zip it writes says nothing about when, where or with what it was made:
every member is dated 1980-01-01 00:00:00, has no comment and no extra field,
the same "made by" system and file attributes, and the archive has no comment.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from typing import BinaryIO

from lxml import etree

from ..errors import CleaningRefused, LimitExceeded
from ..limits import Limits
from ..report import Report

# The zip epoch: the earliest date a zip member can carry, so it says nothing.
EPOCH = (1980, 1, 1, 0, 0, 0)
# Compression ratio is judged only above this size: small parts (empty styles,
# blank sheets) can compress better than a bomb threshold without being a danger.
RATIO_FLOOR = 1024 * 1024
_CHUNK = 64 * 1024
# Every member is written as made on Unix, as a plain rw-r--r-- file: the same
# for every document, whatever system the author's copy came from.
UNIX = 3
REGULAR_FILE = 0o100644 << 16
# Flag bits that mean a member is encrypted: traditional, strong, masked headers.
_ENCRYPTED_FLAGS = 0x0001 | 0x0040 | 0x2000


def read_package(data: bytes, limits: Limits) -> dict[str, bytes]:
    """Every file member of a zip, by name in archive order, within the limits.

    Folder entries are skipped. Raises LimitExceeded for bombs and too many
    members, CleaningRefused("encrypted-document") for encrypted members and
    CleaningRefused("malformed", ...) for unsafe names or a damaged archive.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise CleaningRefused("malformed", f"zip: {exc}") from exc
    with archive:
        infos = archive.infolist()
        _check_directory(infos, limits)
        members: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            content = _read_member(archive, info, limits, total)
            total += len(content)
            members[info.filename] = content
    return members


def _check_directory(infos: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Judge the declared sizes and the names before anything is inflated."""
    if len(infos) > limits.max_zip_members:
        raise LimitExceeded(f"more than {limits.max_zip_members} zip members")
    seen: set[str] = set()
    declared = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & _ENCRYPTED_FLAGS:
            raise CleaningRefused("encrypted-document")
        if not is_safe_name(name):
            raise CleaningRefused("malformed", f"unsafe member name {shown_name(name)}")
        # Part names are case-insensitive in OOXML; two spellings are two documents.
        folded = name.casefold()
        if folded in seen:
            raise CleaningRefused("malformed", f"duplicate member {shown_name(name)}")
        seen.add(folded)
        declared += info.file_size
        if declared > limits.max_zip_expanded_bytes:
            raise LimitExceeded("zip expands beyond the size limit")
        if _too_compressed(info.file_size, info.compress_size, limits):
            raise LimitExceeded(f"zip member {shown_name(name)} compressed suspiciously well")


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits, total: int
) -> bytes:
    """Inflate one member, counting the bytes actually produced against the limits."""
    chunks: list[bytes] = []
    size = 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if total + size > limits.max_zip_expanded_bytes:
                    raise LimitExceeded("zip expands beyond the size limit")
                if size > info.file_size or _too_compressed(size, info.compress_size, limits):
                    raise LimitExceeded(
                        f"zip member {shown_name(info.filename)} compressed suspiciously well"
                    )
                chunks.append(chunk)
    except CleaningRefused:
        raise
    except RuntimeError as exc:  # zipfile's word for "needs a password"
        raise CleaningRefused("encrypted-document") from exc
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error,
            NotImplementedError) as exc:
        raise CleaningRefused("malformed", f"zip member {shown_name(info.filename)}") from exc
    return b"".join(chunks)


def _too_compressed(size: int, compressed: int, limits: Limits) -> bool:
    return size > RATIO_FLOOR and size > max(compressed, 1) * limits.max_zip_ratio


def is_safe_name(name: str) -> bool:
    """A relative member name without backslashes, control characters, drive letters,
    empty, "." or ".." parts."""
    parts = name.rstrip("/").split("/")
    return bool(name) and not (
        name.startswith("/") or "\\" in name or any(ord(ch) < 0x20 for ch in name)
        or re.match(r"[A-Za-z]:", name) is not None
        or any(part in ("", ".", "..") for part in parts)
    )


_PRINTABLE_NAME = re.compile(r"[A-Za-z0-9_.\-/\[\] ]{1,120}")


def shown_name(name: str) -> str:
    """A member name fit for a refusal message (odd names could themselves identify)."""
    return name if _PRINTABLE_NAME.fullmatch(name) else "a member with an unusual name"


# ---- XML ------------------------------------------------------------------------

_DOCTYPE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_xml(data: bytes, name: str, limits: Limits) -> etree._Element:
    """Parse one XML part without entities, DTDs, network access, comments or PIs.

    A DOCTYPE is refused outright: no office part needs one, and it is how entity
    bombs and external entities arrive.
    """
    if len(data) > limits.max_xml_bytes:
        raise LimitExceeded(f"XML part {shown_name(name)} too large")
    if _DOCTYPE.search(data) or _DOCTYPE.search(data.replace(b"\x00", b"")):
        raise CleaningRefused("malformed", f"document type declaration in {shown_name(name)}")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False,
    )
    try:
        root = etree.fromstring(data, parser)  # hardened parser above; DOCTYPE refused
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise CleaningRefused("malformed", f"unreadable XML in {shown_name(name)}") from exc
    if root is None:
        raise CleaningRefused("malformed", f"unreadable XML in {shown_name(name)}")
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise CleaningRefused("malformed", f"document type declaration in {shown_name(name)}")
    return root


def try_parse_xml(data: bytes, name: str, limits: Limits) -> etree._Element | None:
    """Parse a part that is being dropped anyway, only to say what was in it."""
    try:
        return parse_xml(data, name, limits)
    except CleaningRefused:
        return None


def serialize_xml(root: etree._Element, *, standalone: bool | None = True) -> bytes:
    """UTF-8 with a declaration; OOXML parts say standalone="yes", ODF parts nothing."""
    return etree.tostring(  # type: ignore[no-any-return]
        root, encoding="UTF-8", xml_declaration=True, standalone=standalone
    )


def split_tag(tag: object) -> tuple[str, str]:
    """'{ns}local' → (ns, local); comments and other non-elements → ('', '')."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def local_attribute(node: etree._Element, local: str) -> str:
    """The value of the attribute with this local name, whatever its namespace ("" if none)."""
    for key, value in node.attrib.items():
        if split_tag(key)[1] == local:
            return str(value)
    return ""


def remove_element(element: etree._Element) -> None:
    """Detach an element, keeping the text that followed it (mixed content)."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail
    if tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def unwrap_element(element: etree._Element) -> None:
    """Replace an element by its children and text, in place."""
    parent = element.getparent()
    if parent is None:
        return
    children = list(element)
    if not children:
        element.tail = (element.text or "") + (element.tail or "")
        remove_element(element)
        return
    if element.text:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.text
        else:
            parent.text = (parent.text or "") + element.text
    index = parent.index(element)
    for offset, child in enumerate(children):
        parent.insert(index + offset, child)
    children[-1].tail = (children[-1].tail or "") + (element.tail or "")
    parent.remove(element)


def is_attached(element: etree._Element, root: etree._Element) -> bool:
    """Whether an element is still inside `root` (not in a subtree removed earlier)."""
    node: etree._Element | None = element
    while node is not None:
        if node is root:
            return True
        node = node.getparent()
    return False


# ---- what both cleaners recognise in values -----------------------------------

# Paths on an author's own machine: a file: URI, a Windows profile folder, a UNC
# share, or a Unix or macOS home directory.
_LOCAL_PATH = re.compile(
    r"(?:file:[/\\])"
    r"|(?:\b[A-Za-z]:[\\/]+(?:users|documents and settings)[\\/])"
    r"|(?:^\\\\[^\\])"
    r"|(?:(?<![\w.\-%/~])/(?:home|Users)/[^/\s\"'<>])",
    re.IGNORECASE,
)
# An image's original file name used as its label ("IMG_20240301_0931.jpg").
_IMAGE_FILE_NAME = re.compile(
    r"(?i).*\.(?:jpe?g|png|gif|tiff?|bmp|heic|heif|webp|emf|wmf|svg|dng|raw)\s*"
)
WEB_SCHEMES = frozenset({"http", "https", "mailto"})


def has_local_path(value: str) -> bool:
    return _LOCAL_PATH.search(value) is not None


def looks_like_image_file_name(value: str) -> bool:
    return _IMAGE_FILE_NAME.fullmatch(value) is not None


# ---- the tally of findings ------------------------------------------------------

class Tally:
    """Findings counted while cleaning, written to the report once at the end.

    A document can hold a hundred thousand rsids; counting here and reporting
    once keeps the report short and the cleaning fast.
    """

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, code: str, detail: str = "", count: int = 1) -> None:
        detail = " ".join(str(detail).split())
        if count > 0:
            self._counts[(code, detail)] += count

    def add_names(self, code: str, names: Iterable[str]) -> None:
        """One entry per distinct, non-empty name (an author, a language tag)."""
        for name in names:
            if name and name.strip():
                self.add(code, name.strip())

    def has(self, code: str) -> bool:
        return any(key[0] == code for key in self._counts)

    def flush(self, report: Report) -> None:
        for (code, detail), count in self._counts.items():
            report.remove(code, detail, count)
        self._counts.clear()


# ---- writing --------------------------------------------------------------------

def write_package(
    members: Iterable[tuple[str, bytes]], dst: BinaryIO, *, stored: frozenset[str] = frozenset()
) -> None:
    """Write a new zip that records nothing but the names and the contents."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", allowZip64=False) as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, date_time=EPOCH)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            info.create_system = UNIX
            info.external_attr = REGULAR_FILE
            info.comment = b""
            info.extra = b""
            archive.writestr(info, content, compresslevel=6)
        archive.comment = b""
    dst.write(buffer.getvalue())

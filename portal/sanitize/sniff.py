"""Decide a file's type from its bytes, never from its name.

Names and browser content types are hints an attacker (or an unlucky author)
controls; the cleaner chosen must match what the parser will actually read. The
claimed type is kept only to tell the author when the two disagree.
"""

from __future__ import annotations

import io
import zipfile

from . import kinds
from .errors import CleaningRefused
from .forbidden import archive_signature, is_program, ole_verdict, package_code
from .sniff_video import (
    is_video_container,
    isobmff_brand_kind,
    isobmff_kind,
    looks_like_quicktime,
)
from .textencoding import BOMS, Encoding, detect

HEAD_BYTES = 64 * 1024

# Types we clean, and the families that refuse with a reason an author can act on:
# one table, kinds.py.
CLEANABLE = kinds.CLEANABLE
PASS_THROUGH = kinds.PASS_THROUGH
REFUSED_KINDS = kinds.REFUSED
_ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.text": "odt",
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.presentation": "odp",
    b"application/vnd.oasis.opendocument.graphics": "odg",
    b"application/epub+zip": "epub",
}


def claimed_kind(name_hint: str = "", type_hint: str = "") -> str:
    """The type the file name, or failing that the browser, suggests ("" if none)."""
    ext = name_hint.rsplit(".", 1)[-1].lower() if "." in name_hint else ""
    if ext in kinds.BY_EXTENSION:
        return kinds.BY_EXTENSION[ext]
    return kinds.BY_MIME.get(type_hint.split(";", 1)[0].strip().lower(), "")


def sniff(head: bytes, name_hint: str = "") -> str:
    """The kind of a file from its first bytes; zip and MP4-family containers answer
    "zip" and "isobmff" until `refine` reads the whole file."""
    if not head:
        raise CleaningRefused("empty")
    # First: a program that also opens like a document (a polyglot) is a program.
    if is_program(head):
        return "executable"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # An encrypted OOXML document is an OLE container with these streams.
        if "EncryptionInfo".encode("utf-16-le") in head or b"EncryptedPackage" in head:
            return "ooxml-encrypted"
        return "ole"
    signatures = (
        (b"{\\rtf", "rtf"), (b"\xff\xd8\xff", "jpeg"), (b"\x89PNG\r\n\x1a\n", "png"),
        (b"GIF87a", "gif"), (b"GIF89a", "gif"), (b"II*\x00", "tiff"), (b"MM\x00*", "tiff"),
        (b"fLaC", "flac"), (b"OggS", "ogg"), (b"ID3", "mp3"),
        (b"-----BEGIN PGP MESSAGE-----", "openpgp"),
    )
    if head.startswith(b"ID3") and len(head) >= 10:
        # An ID3 tag can sit in front of FLAC as well as MP3: look past it.
        size = sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        if head[10 + size : 14 + size] == b"fLaC":
            return "flac"
    for magic, kind in signatures:
        if head.startswith(magic):
            return kind
    if head.startswith(tuple(bom for bom, _codec in BOMS[1:])):
        # UTF-16 text, as Windows Notepad saves "Unicode"; before the MP3 check,
        # since its mark also opens an MPEG frame.
        return _text_kind(head, name_hint)
    if archive := archive_signature(head):
        return archive
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return isobmff_brand_kind(head)
    if head.startswith(b"BM") and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
        return "bmp"
    if _looks_like_mp3_frame(head):
        return "mp3"
    if _looks_like_openpgp_binary(head):
        return "openpgp"
    if _looks_like_utf8_text(head):
        return _text_kind(head, name_hint)
    textual = _looks_like_text_bytes(head)
    encoding = detect(head) if textual else None
    if encoding is not None:  # Chinese text saved as GBK or Big5
        return _text_kind(head, name_hint, encoding)
    # Binary from here on: the weaker video signatures could occur in text.
    if is_video_container(head):
        return "video"
    if looks_like_quicktime(head):
        return "isobmff"
    # Text in an encoding we cannot tell with certainty: refused with advice.
    return "text-encoding" if textual else "binary"


def refine(kind: str, data: bytes) -> str:
    """A container's kind once the whole file can be read: zip and MP4 families, and
    legacy Office files that hold a macro project or are installers."""
    if kind == "zip":
        return sniff_zip(data)
    if kind == "isobmff":
        return isobmff_kind(data)
    if kind == "ole":
        return {"executable": "executable", "macros": "ole-macros"}.get(ole_verdict(data), kind)
    return kind


def sniff_zip(data: bytes) -> str:
    """Refine a zip container into the document type it holds, from its member names."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                info = archive.getinfo("mimetype")
                if info.file_size <= 100:
                    kind = _ODF_MIMETYPES.get(archive.read("mimetype").strip())
                    if kind:
                        return kind
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError) as exc:
        raise CleaningRefused("malformed", f"zip: {exc}") from exc
    ooxml = "[Content_Types].xml" in names or any(n.lower() == "[content_types].xml" for n in names)
    if ooxml and not any("FixedDoc" in n for n in names):  # XPS has one too
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    if "content.xml" in names and "META-INF/manifest.xml" in names:
        return "odt"  # an ODF text document without its mimetype member
    if "META-INF/container.xml" in names:
        return "epub"  # an e-book without its mimetype member
    # Another program's package (Pages, Numbers, Keynote, OFD, XPS): the author is
    # told which export it needs.
    return package_code({n.encode("utf-8", "replace") for n in names}) or "zip"


def _looks_like_mp3_frame(head: bytes) -> bool:
    return len(head) >= 4 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (
        head[1] & 0x06
    ) != 0 and (head[2] & 0xF0) != 0xF0


def _looks_like_openpgp_binary(head: bytes) -> bool:
    """A public-key or symmetric-key encrypted session key packet opens the message."""
    if len(head) < 3:
        return False
    first = head[0]
    if first & 0xC0 == 0xC0:  # new packet format
        tag = first & 0x3F
        body = head[2:] if head[1] < 192 else head[3:]
    elif first & 0x80:  # old packet format
        tag = (first >> 2) & 0x0F
        length_bytes = {0: 1, 1: 2, 2: 4}.get(first & 0x03, 0)
        body = head[1 + length_bytes :]
    else:
        return False
    return bool(body) and (
        (tag == 1 and body[0] in (3, 6)) or (tag == 3 and body[0] in (4, 5, 6))
    )


def _looks_like_utf8_text(head: bytes) -> bool:
    sample = head[:HEAD_BYTES]
    if b"\x00" in sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still text.
        if exc.start < len(sample) - 3:
            return False
        text = sample[: exc.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    return controls <= max(1, len(text) // 1000)


def _text_kind(head: bytes, name_hint: str, encoding: Encoding | None = None) -> str:
    """Text, Markdown, markup (refused), or text in an encoding we cannot tell."""
    encoding = encoding or detect(head)
    if encoding is None:
        return "text-encoding"
    utf8 = head if not encoding.converted else (
        head[len(encoding.bom):].decode(encoding.codec, "ignore").encode("utf-8"))
    if _looks_like_markup(utf8):
        return "svg" if _looks_like_svg(utf8) else "markup"
    ext = name_hint.rsplit(".", 1)[-1].lower() if "." in name_hint else ""
    return "markdown" if ext in ("md", "markdown") else "text"


def _looks_like_text_bytes(head: bytes) -> bool:
    """No NUL and few control bytes: text in some 8-bit or double-byte encoding, or
    nothing we know (binary formats are full of both)."""
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in b"\t\n\r\f")
    return controls <= max(1, len(head) // 1000)


def _looks_like_markup(head: bytes) -> bool:
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    return start.startswith((b"<?xml", b"<!doctype", b"<html", b"<svg", b"<head", b"<body"))


def _looks_like_svg(head: bytes) -> bool:
    """Markup whose first element is <svg> (after any declaration, doctype or comment)."""
    start = head[:4096].lower()
    svg = start.find(b"<svg")
    html = start.find(b"<html")
    return svg >= 0 and (html < 0 or svg < html)

"""Verify PDF drawing instructions: no comment left in any content stream.

Part of the independent verifier (see verify_pdf). The content streams are
found by this module's own walk (page contents, form and pattern drawings,
Type 3 glyphs, annotation appearances) and read with its own lexer, written
from ISO 32000-1 section 7.2: a `%` outside a string, a hex string and inline
image data starts a comment, and a comment is refused wherever it is.
"""

from __future__ import annotations

import re

import pikepdf

_WHITE = frozenset(b" \t\r\n\f\x00")
_DELIMITERS = frozenset(b"()<>[]{}/%")
_MAX_NESTING = 100
_END_OF_INLINE_IMAGE = re.compile(rb"[ \t\r\n\f\x00]EI(?=[ \t\r\n\f\x00/\[<(%]|$)")


def content_stream_ids(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """The object ids of every stream that holds drawing instructions, wherever the
    dictionary naming it sits (fonts and annotations are often direct objects)."""
    found: set[tuple[int, int]] = set()

    def streams_in(value: object, levels: int) -> None:
        if isinstance(value, pikepdf.Stream):
            found.add(value.objgen)
        elif levels and isinstance(value, pikepdf.Array):
            for item in value:
                streams_in(item, 0)
        elif levels and isinstance(value, pikepdf.Dictionary):
            for _, item in value.items():
                streams_in(item, levels - 1)

    for page in pdf.pages:
        streams_in(page.obj.get("/Contents"), 1)
    for top in pdf.objects:
        pending: list[tuple[object, int]] = [(top, 0)]
        while pending:
            obj, depth = pending.pop()
            if isinstance(obj, pikepdf.Stream) and (
                obj.get("/Subtype") == pikepdf.Name.Form or obj.get("/PatternType") == 1
            ):
                found.add(obj.objgen)
            if isinstance(obj, (pikepdf.Dictionary, pikepdf.Stream)):
                streams_in(obj.get("/CharProcs"), 1)
                streams_in(obj.get("/AP"), 2)
                inner = [value for _, value in obj.items()]
            elif isinstance(obj, pikepdf.Array):
                inner = list(obj)
            else:
                continue
            if depth < _MAX_NESTING:
                pending.extend((v, depth + 1) for v in inner if isinstance(
                    v, (pikepdf.Dictionary, pikepdf.Array)) and not v.is_indirect)
    return found


def has_comment(data: bytes) -> bool:
    """True if the content stream holds a comment outside strings and image data."""
    pos, size = 0, len(data)
    while pos < size:
        byte = data[pos]
        if byte in _WHITE:
            pos += 1
        elif byte == 0x25:  # %
            return True
        elif byte == 0x28:  # (
            pos = _after_literal_string(data, pos)
        elif byte == 0x3C and data[pos + 1 : pos + 2] != b"<":  # < hex string >
            end = data.find(b">", pos)
            pos = size if end < 0 else end + 1
        elif byte in _DELIMITERS:
            pos += 1
        else:
            start = pos
            while pos < size and data[pos] not in _WHITE and data[pos] not in _DELIMITERS:
                pos += 1
            if data[start:pos] == b"ID":  # inline image data runs to " EI "
                match = _END_OF_INLINE_IMAGE.search(data, pos + 1)
                pos = size if match is None else match.end()
    return False


def _after_literal_string(data: bytes, pos: int) -> int:
    depth = 0
    while pos < len(data):
        byte = data[pos]
        if byte == 0x5C:  # backslash: the next byte is escaped
            pos += 2
            continue
        if byte == 0x28:
            depth += 1
        elif byte == 0x29:
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return pos

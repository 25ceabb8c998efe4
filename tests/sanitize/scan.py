"""Find planted tokens anywhere in a file: raw, in every zip member, in every
decoded PDF stream, in every image chunk, and in exiftool's view of it.

Tests plant a unique token in each identifying place of a dirty document and
assert that none survives cleaning. The scan looks in more places (and more
encodings) than a reader would, on purpose.
"""

from __future__ import annotations

import base64
import io
import shutil
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Iterator


def encodings_of(token: str) -> list[bytes]:
    raw = token.encode("utf-8")
    return [
        raw,
        token.encode("utf-16-le"),
        token.encode("utf-16-be"),
        base64.b64encode(raw).rstrip(b"="),
        raw.lower(),
        raw.upper(),
    ]


def pieces(data: bytes, where: str = "file", depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """Yield (location, bytes) for the file and everything decodable inside it."""
    yield where, data
    if depth > 4:
        return
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if archive.comment:
                    yield f"{where}:zip-comment", archive.comment
                for info in archive.infolist():
                    yield f"{where}:{info.filename}:name", info.filename.encode()
                    if info.comment:
                        yield f"{where}:{info.filename}:comment", info.comment
                    if info.extra:
                        yield f"{where}:{info.filename}:extra", info.extra
                    member = archive.read(info)
                    yield from pieces(member, f"{where}/{info.filename}", depth + 1)
        except zipfile.BadZipFile:
            pass
    if b"%PDF-" in data[:1024]:
        yield from _pdf_pieces(data, where, depth)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        for name, body in _png_chunks(data):
            yield f"{where}:png:{name}", body
            if name in ("zTXt", "iTXt", "iCCP"):
                for start in range(len(body)):
                    try:
                        yield f"{where}:png:{name}:inflated", zlib.decompress(body[start:])
                        break
                    except zlib.error:
                        continue


def _pdf_pieces(data: bytes, where: str, depth: int) -> Iterator[tuple[str, bytes]]:
    import pikepdf

    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except Exception:
        return
    with pdf:
        for number, obj in enumerate(pdf.objects):
            if isinstance(obj, pikepdf.Stream):
                try:
                    decoded = obj.read_bytes()
                except Exception:
                    decoded = obj.read_raw_bytes()
                yield from pieces(decoded, f"{where}:obj{number}", depth + 1)
            yield f"{where}:obj{number}:repr", repr(obj).encode("utf-8", "replace")


def _png_chunks(data: bytes) -> Iterator[tuple[str, bytes]]:
    pos = 8
    while pos + 8 <= len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        name = data[pos + 4 : pos + 8].decode("latin-1")
        yield name, data[pos + 8 : pos + 8 + length]
        pos += 12 + length


def exiftool_view(data: bytes) -> bytes:
    """exiftool's reading of every tag, embedded documents included ("" if absent)."""
    if shutil.which("exiftool") is None:
        return b""
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        result = subprocess.run(
            ["exiftool", "-a", "-u", "-ee", "-G1", "-b", "-j", handle.name],
            capture_output=True, timeout=120, check=False,
        )
    return result.stdout


def find_tokens(data: bytes, tokens: list[str], exiftool: bool = True) -> list[str]:
    """Every "token @ location" still present in data (an empty list means clean)."""
    found = []
    views = list(pieces(data))
    if exiftool:
        views.append(("exiftool", exiftool_view(data)))
    for token in tokens:
        needles = encodings_of(token)
        for location, blob in views:
            if any(needle in blob for needle in needles):
                found.append(f"{token} @ {location}")
                break
    return found

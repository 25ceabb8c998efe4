"""Search everything the server keeps for a string: files, temp files, database, logs."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

from django.db import connection


def encodings(canary: str) -> list[bytes]:
    """The canary raw, as UTF-16 both ways, and base64 at each of the three alignments."""
    raw = canary.encode("utf-8")
    forms = [raw, canary.encode("utf-16-le"), canary.encode("utf-16-be")]
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + raw)
        # Drop the characters that depend on the unknown neighbouring bytes.
        forms.append(encoded[4:-4])
    return forms


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.exists():
            yield from (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def found_in_files(canary: str, *roots: Path) -> list[str]:
    needles = encodings(canary)
    hits = []
    for path in files_under(*roots):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(needle in data for needle in needles):
            hits.append(str(path))
    return hits


def database_dump(prefix: str = "") -> bytes:
    """Every row of every table (whose name starts with prefix), as text and raw bytes."""
    chunks: list[bytes] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            if not table.startswith(prefix):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview | bytearray):
                        chunks.append(bytes(value))
                    else:
                        chunks.append(str(value).encode("utf-8", "replace"))
    return b"\n".join(chunks)


def found_in(canary: str, blob: bytes) -> bool:
    return any(needle in blob for needle in encodings(canary))

"""What `portal-editor list` shows: each piece once, its versions under it, its state in words.

A revision is a new version of a piece the editors already have, not a new
submission: it is listed under its first version, which alone carries the
piece's state and thread. "*" marks what is new or changed since the last
list, on the piece and on the version that is new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .wording import AUTHOR_REF, VERSION_LINE, file_count, state_name, translator


@dataclass
class Piece:
    first: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)


def pieces(rows: list[dict[str, Any]]) -> list[Piece]:
    """Rows of the API's list grouped by piece, in the order their first versions came."""
    by_id: dict[str, Piece] = {}
    grouped: list[Piece] = []
    for row in rows:
        if not row.get("revision_of"):
            by_id[row["id"]] = Piece(row, [row])
            grouped.append(by_id[row["id"]])
    for row in rows:
        first = row.get("revision_of")
        if not first:
            continue
        if first not in by_id:  # its first version is not listed: shown on its own
            by_id[first] = Piece(row, [])
            grouped.append(by_id[first])
        by_id[first].versions.append(row)
    for piece in grouped:
        piece.versions.sort(key=lambda r: r.get("version") or 1)
    return grouped


def signature(row: dict[str, Any]) -> str:
    """What `list` remembers of a row (the same form as before versions were grouped)."""
    return f"{row['state']}:{row['file_count']}"


def piece_lines(piece: Piece, seen: dict[str, str], language: str) -> list[str]:
    """The piece's line and one line per version; marks what `seen` did not hold."""
    _ = translator(language)
    changed = any(seen.get(r["id"]) != signature(r) for r in piece.versions)
    # A version is marked when it is new (or its files changed), not when the piece moved.
    fresh = {r["id"] for r in piece.versions
             if seen.get(r["id"], "").rpartition(":")[2] != str(r["file_count"])}
    first = piece.first
    who = first.get("pen_name") or "—"
    if first.get("author_ref"):
        who += f" · {_(AUTHOR_REF).format(ref=first['author_ref'])}"
    reference = first.get("revision_of") or first["id"]
    lines = [f"{'*' if changed else ' '} {reference[:8]}  {state_name(first['state'], language)}"
             f"  {who}"]
    for row in piece.versions:
        mark = "*" if row["id"] in fresh else " "
        lines.append(f"  {mark} {_(VERSION_LINE).format(n=row.get('version') or 1)}  "
                     f"{row['submitted_on']}  "
                     f"{file_count(row['file_count'], row.get('uncleaned_count') or 0, language)}")
    return lines

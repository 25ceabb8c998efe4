"""What a cleaning removed, and what it could not: the record an author is shown.

A report is data, not prose: each entry is a stable code plus a detail (the value
that was found, such as an author name), so the web pages can render it in the
author's language and the editors' client can print it in English. The English
sentences live in `messages.py`; the codes are the contract between them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One thing found in a file: `code` says what kind, `detail` the value seen."""

    code: str
    detail: str = ""
    count: int = 1


@dataclass
class Report:
    """The outcome of cleaning one file.

    `kind` is the type detected from the bytes; `claimed` the type the name or
    the browser suggested, when it differs. `removed` lists what was taken out,
    `notes` what remains worth knowing (for example that the writing itself can
    identify a person).
    """

    kind: str = "unknown"
    claimed: str = ""
    removed: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)

    def remove(self, code: str, detail: str = "", count: int = 1) -> None:
        """Record a removal; identical entries are merged by adding their counts."""
        detail = _bounded(detail)
        for i, found in enumerate(self.removed):
            if found.code == code and found.detail == detail:
                self.removed[i] = Finding(code, detail, found.count + count)
                return
        if len(self.removed) < MAX_ENTRIES:
            self.removed.append(Finding(code, detail, count))

    def note(self, code: str, detail: str = "") -> None:
        finding = Finding(code, _bounded(detail))
        if finding not in self.notes and len(self.notes) < MAX_ENTRIES:
            self.notes.append(finding)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            kind=str(data.get("kind", "unknown")),
            claimed=str(data.get("claimed", "")),
            removed=[Finding(**f) for f in data.get("removed", [])],
            notes=[Finding(**f) for f in data.get("notes", [])],
        )


# A hostile file can hold a million comments; the report stays readable and small.
MAX_ENTRIES = 200
MAX_DETAIL_CHARS = 200


def _bounded(detail: str) -> str:
    # Names read from files that are not UTF-8 (PDF names, ZIP entries) arrive
    # with lone surrogates, which no UTF-8 writer of the report would accept.
    detail = str(detail).encode("utf-8", "replace").decode("utf-8")
    detail = " ".join(detail.split())
    if len(detail) > MAX_DETAIL_CHARS:
        return detail[: MAX_DETAIL_CHARS - 1] + "…"
    return detail

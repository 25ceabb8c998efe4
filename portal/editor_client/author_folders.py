"""One folder per author identity under the sync directory, remembered between syncs.

Promise: two authors never share a folder. Pen names are chosen by authors, can
be changed, can be the same for two people, or be absent; a piece filed under
someone else's name would be read as theirs. So each identity (the API's
`author_ref`, a short one-way reference that names no one) gets its own folder,
chosen the first time it is seen and kept in DIR/.penname/authors.json, so it
stays the same when the author changes their pen name:

- `<pen name>/` if no other identity has that folder (a folder of that name
  synced before there were references is taken over by the first identity
  with that pen name, in the order the submissions arrived);
- `<pen name> (<ref>)/` when another identity has it already;
- `no pen name (<ref>)/` for an author without a pen name.

Pieces synced before into the one shared `no pen name/` folder (or into a pen
name's folder that now belongs to another identity) are moved, piece folder by
piece folder, into their author's folder (`adopt`). Nothing is deleted: a piece
whose new place is taken stays where it was, and so do files the editor put
beside the pieces; the old folder goes only once it is empty.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

# The folder every author without a pen name shared before author references.
SHARED_UNNAMED = "no pen name"
# Room left for " (<ref>)" and a counter within the 120 characters of a name.
MAX_BASE = 96


class AuthorFolders:
    def __init__(self, root: Path, record: Path, safe_name: Callable[[str, str], str]) -> None:
        self.root = root
        self.record = record
        self._safe_name = safe_name
        self.names: dict[str, str] = {}
        try:
            loaded = json.loads(record.read_text(encoding="utf-8"))
        except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
            loaded = {}  # chosen again by the same rules: pen-named folders are found again
        if isinstance(loaded, dict):
            self.names = {str(k): str(v) for k, v in loaded.items()}

    def folder(self, ref: str | None, pen_name: str) -> str:
        """The folder (a name under root) of this author identity; chosen once, then kept."""
        base = self._safe_name(pen_name, "")[:MAX_BASE].strip(" .")
        if not ref:  # a server from before author references: as it always was
            return base or SHARED_UNNAMED
        ref = self._safe_name(ref, "")[:16]
        if ref in self.names:
            return self.names[ref]
        taken = {name.casefold() for name in self.names.values()}
        labelled = f"{base or SHARED_UNNAMED} ({ref})"
        candidates = [base] if base and base.casefold() != SHARED_UNNAMED else []
        candidates += [labelled, *(f"{labelled} {n}" for n in range(2, 100))]
        name = next(c for c in candidates if c.casefold() not in taken)
        self.names[ref] = name
        return name

    def save(self) -> None:
        partial = self.record.with_suffix(".tmp")
        partial.write_text(json.dumps(self.names, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(partial, self.record)

    def adopt(self, piece_folder: str, author_folder: str, pen_name_folder: str) -> str:
        """Move one piece's folder into its author's folder from where an older sync put it
        (the shared `no pen name/`, or a pen name's folder now another identity's).

        The folder it came from ("" if it did not move). An old folder is removed
        only once it is empty.
        """
        target = self.root / author_folder / piece_folder
        for old_name in dict.fromkeys([SHARED_UNNAMED, pen_name_folder]):
            old = self.root / old_name / piece_folder
            if not old_name or old_name == author_folder or not old.is_dir() or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            old.rename(target)
            with suppress(OSError):  # other pieces, or the editor's own files, are still there
                old.parent.rmdir()
            return old_name
        return ""

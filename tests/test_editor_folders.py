"""One folder per author identity on the editor's machine, whatever pen names authors choose.

A pen name is the author's choice: two people may choose the same one, one may
choose "no pen name", and an author may change theirs. None of that may put
one author's piece in another's folder, or move a folder the editor knows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from portal.editor_client.author_folders import AuthorFolders
from portal.editor_client.listing import piece_lines, pieces
from portal.editor_client.sync import safe_name
from portal.editor_client.wording import sync_summary


def folders(root: Path) -> AuthorFolders:
    (root / ".penname").mkdir(parents=True, exist_ok=True)
    return AuthorFolders(root, root / ".penname" / "authors.json", safe_name)


def test_two_authors_never_share_a_folder_whatever_their_pen_names(tmp_path: Path) -> None:
    chosen = folders(tmp_path)
    assert chosen.folder("aaaaaaaaaa", "Ah Mei") == "Ah Mei"
    assert chosen.folder("bbbbbbbbbb", "ah mei") == "ah mei (bbbbbbbbbb)"  # one folder on macOS
    assert chosen.folder("cccccccccc", "") == "no pen name (cccccccccc)"
    assert chosen.folder("dddddddddd", "No Pen Name") == "No Pen Name (dddddddddd)"
    assert chosen.folder("eeeeeeeeee", "ah mei (bbbbbbbbbb)") == "ah mei (bbbbbbbbbb) (eeeeeeeeee)"
    assert chosen.folder("ffffffffff", "../../.ssh") == "_.._.ssh"
    assert len(set(n.casefold() for n in chosen.names.values())) == len(chosen.names) == 6


def test_the_folder_stays_when_the_author_changes_their_pen_name(tmp_path: Path) -> None:
    chosen = folders(tmp_path)
    assert chosen.folder("aaaaaaaaaa", "") == "no pen name (aaaaaaaaaa)"
    chosen.save()
    again = folders(tmp_path)
    assert again.folder("aaaaaaaaaa", "Lin") == "no pen name (aaaaaaaaaa)"
    assert again.folder("bbbbbbbbbb", "Lin") == "Lin"


def test_pieces_leave_the_old_shared_folder_and_nothing_is_lost(tmp_path: Path) -> None:
    shared = tmp_path / "no pen name"
    (shared / "2026-12-01-aaaaaaaa").mkdir(parents=True)
    (shared / "2026-12-01-aaaaaaaa" / "1.txt").write_text("words")
    (shared / "2026-12-02-bbbbbbbb").mkdir()
    (tmp_path / "no pen name (x)" / "2026-12-02-bbbbbbbb").mkdir(parents=True)  # taken
    chosen = folders(tmp_path)
    assert chosen.adopt("2026-12-01-aaaaaaaa", "no pen name (x)", "") == "no pen name"
    assert (tmp_path / "no pen name (x)" / "2026-12-01-aaaaaaaa" / "1.txt").read_text() == "words"
    # Its new place is taken: it stays where it was, and so does the old folder.
    assert chosen.adopt("2026-12-02-bbbbbbbb", "no pen name (x)", "") == ""
    assert (shared / "2026-12-02-bbbbbbbb").is_dir()
    assert chosen.adopt("2026-12-03-cccccccc", "no pen name (x)", "") == ""


def test_list_groups_versions_under_their_piece() -> None:
    rows = [
        {"id": "11111111-a", "state": "revisions_requested", "file_count": 1,
         "submitted_on": "2026-12-01", "pen_name": "", "author_ref": "abcdefabcd",
         "revision_of": None, "version": 1},
        {"id": "22222222-b", "state": "new", "file_count": 2, "uncleaned_count": 1,
         "submitted_on": "2026-12-03", "pen_name": "", "author_ref": "abcdefabcd",
         "revision_of": "11111111-a", "version": 2},
    ]
    [piece] = pieces(rows)
    lines = piece_lines(piece, {"11111111-a": "revisions_requested:1"}, "en")
    assert lines == ["* 11111111  revisions requested  — · author abcdefabcd",
                     "    version 1  2026-12-01  1 file",
                     "  * version 2  2026-12-03  2 files (1 not cleaned)"]
    assert piece_lines(piece, {}, "zh_Hans")[0].startswith("* 11111111  待修改  ")


@pytest.mark.parametrize(("tally", "said"), [
    (Counter(), "Nothing new."),
    (Counter(pieces=2, revisions=1, messages=3, not_cleaned=1),
     "2 new pieces, 1 revision, 3 messages; 1 file not cleaned"),
    (Counter(pieces=1), "1 new piece"),
    (Counter(problems=2), "2 problems (see above)"),
])
def test_every_sync_ends_with_one_line(tally: Counter[str], said: str) -> None:
    assert sync_summary(tally, "en") == said


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant"])
def test_the_summary_is_in_the_editors_language(language: str) -> None:
    """Passes once the entries of translations-editor.json are in the catalogues."""
    text = sync_summary(Counter(pieces=2, messages=1, withdrawn=1), language)
    assert "new" not in text and "2" in text and "；" in text
    assert sync_summary(Counter(), language) != "Nothing new."


def test_a_damaged_record_of_folders_is_chosen_again(tmp_path: Path) -> None:
    chosen = folders(tmp_path)
    (tmp_path / ".penname" / "authors.json").write_bytes(b"\xff{not json")
    assert folders(tmp_path).folder("aaaaaaaaaa", "Lin") == "Lin"
    assert chosen.folder("aaaaaaaaaa", "Lin") == "Lin"

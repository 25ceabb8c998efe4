"""portal-editor list and sync against a live server: pieces, authors, and what arrived.

An editor who sees a revision as a new submission reads it as someone else's
piece; a sync that prints nothing leaves them unsure it ran; two authors in
one folder get each other's drafts attributed; a withdrawn piece copied to
one more laptop is a copy its author asked to stop.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tests.httpauthor import HttpAuthor
from tests.test_editor_client_live import live, login, run_editor  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def send(author: HttpAuthor, body: bytes, revision_of: str = "") -> str:
    """One upload, confirmed; the id of the piece (its first version)."""
    status, review = author.upload("夜班", [("draft.md", io.BytesIO(body), len(body))],
                                   revision_of=revision_of)
    assert status == 200, review[:500]
    status, where, _ = author.confirm(review)
    assert status == 200
    return where.split("/author/submission/")[1].split("/")[0]


def set_state(server, public_id: str, state: str, by_author: bool = False) -> None:  # type: ignore[no-untyped-def]
    """As the web pages would (the author withdraws; an editor moves it into review)."""
    who = "None" if by_author else "get_user_model().objects.get(username='editor')"
    server.portal("shell", "-c", (
        "from django.contrib.auth import get_user_model\n"
        "from portal.submissions import workflow\n"
        "from portal.submissions.models import Submission\n"
        f"workflow.change_state(Submission.objects.get(public_id='{public_id}'), '{state}', "
        f"{who})\n"))


def folders(out: Path) -> dict[str, list[str]]:
    return {p.name: sorted(q.name for q in p.iterdir()) for p in sorted(out.iterdir())
            if p.name != ".penname"}


def logged_in(server, tmp_path: Path, keypair) -> Path:  # type: ignore[no-untyped-def]
    config = tmp_path / "editor.json"
    assert login(server, config, keypair.home, server.editor_totp_secret).returncode == 0
    return config


def test_list_shows_a_revision_under_its_piece_and_the_state_in_words(
    live, tmp_path: Path, editor_keypair  # noqa: F811 - the fixture
):
    author = HttpAuthor(live.url)
    author.new_author("Ah Mei")
    piece = send(author, b"# one\n")
    other = send(author, b"# another piece\n")
    config = logged_in(live, tmp_path, editor_keypair)
    first = run_editor(config, editor_keypair.home, "list")
    assert first.returncode == 0, first.stderr
    send(author, b"# two\n", revision_of=piece)
    set_state(live, piece, "in_review")
    listed = run_editor(config, editor_keypair.home, "list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    # Three submissions, two pieces: the revision is no entry of its own.
    heads = [n for n, line in enumerate(lines) if re.match(r"[* ] [0-9a-f]{8}  ", line)]
    assert len(heads) == 2 and "2 pieces; * = new or changed since the last list" in lines
    [head] = [n for n in heads if piece[:8] in lines[n]]
    assert lines[head].startswith(f"* {piece[:8]}  in review  Ah Mei · author ")
    assert "in_review" not in listed.stdout
    assert re.fullmatch(r"    version 1  \d{4}-\d\d-\d\d  1 file", lines[head + 1]), lines
    assert re.fullmatch(r"  \* version 2  \d{4}-\d\d-\d\d  1 file", lines[head + 2]), lines
    [unchanged] = [lines[n] for n in heads if other[:8] in lines[n]]
    assert unchanged.startswith(f"  {other[:8]}  new  Ah Mei")
    chinese = run_editor(config, editor_keypair.home, "--language", "zh_Hant", "list")
    assert f"{piece[:8]}  審稿中" in chinese.stdout and f"{other[:8]}  新投稿" in chinese.stdout


def test_withdrawn_pieces_are_not_synced_and_what_the_editor_has_stays(
    live, tmp_path: Path, editor_keypair  # noqa: F811 - the fixture
):
    author = HttpAuthor(live.url)
    author.new_author("Ah Mei")
    had = send(author, b"# mine\n")
    config = logged_in(live, tmp_path, editor_keypair)
    out = tmp_path / "drafts"
    assert run_editor(config, editor_keypair.home, "sync", str(out)).returncode == 0
    [kept] = (out / "Ah Mei").iterdir()
    never_had = send(author, b"# second thoughts\n")
    set_state(live, had, "withdrawn", by_author=True)
    set_state(live, never_had, "withdrawn", by_author=True)
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    assert f"{never_had[:8]}  withdrawn by the author: not synced" in synced.stdout
    assert (f"{had[:8]}  withdrawn by the author: what you already have in Ah Mei/{kept.name} "
            "is left as it is") in synced.stdout
    assert synced.stdout.splitlines()[-1] == "2 withdrawn pieces not synced"
    assert folders(out) == {"Ah Mei": [kept.name]}
    assert (kept / "1.md").read_bytes() == b"# mine\n"
    assert not [p for p in out.rglob("*") if p.is_file() and b"second thoughts" in p.read_bytes()]
    # Said once; the next sync has nothing to say of them.
    quiet = run_editor(config, editor_keypair.home, "sync", str(out))
    assert quiet.returncode == 0 and quiet.stdout == "Nothing new.\n", quiet.stdout


def test_each_author_has_a_folder_and_every_sync_says_what_arrived(
    live, tmp_path: Path, editor_keypair  # noqa: F811 - the fixture
):
    first_author, second_author = HttpAuthor(live.url), HttpAuthor(live.url)
    first_author.new_author("")
    second_author.new_author("")
    piece = send(first_author, b"# one\n")
    other = send(second_author, b"# other\n")
    config = logged_in(live, tmp_path, editor_keypair)
    out = tmp_path / "drafts"

    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    # Two authors without a pen name: two folders, each named by a reference to its author.
    layout = folders(out)
    unnamed = sorted(layout)
    assert len(unnamed) == 2 and all(re.fullmatch(r"no pen name \([0-9a-f]{10}\)", name)
                                     for name in unnamed), layout
    assert sorted(layout[name][0].split("-")[-1] for name in unnamed) == sorted(
        [piece[:8], other[:8]])
    assert synced.stdout.splitlines()[-1] == "2 new pieces"
    again = run_editor(config, editor_keypair.home, "sync", str(out))
    assert again.returncode == 0 and again.stdout == "Nothing new.\n", again.stdout

    # As an older portal-editor left them: both authors' pieces in one shared folder.
    shared = out / "no pen name"
    shared.mkdir()
    for name in unnamed:
        for piece_folder in (out / name).iterdir():
            piece_folder.rename(shared / piece_folder.name)
        (out / name).rmdir()
    (out / ".penname" / "authors.json").unlink()
    [other_folder] = [p for p in shared.iterdir() if p.name.endswith(other[:8])]
    (other_folder / "my notes.txt").write_text("the editor's own notes")
    (shared / "list of pieces.txt").write_text("the editor's own file beside the pieces")

    send(first_author, b"# two\n", revision_of=piece)
    page = f"/author/submission/{piece}/"
    assert first_author.post(f"{page}message/", {"text": "Is the length right?"},
                             token_from=page)[0] == 200
    synced = run_editor(config, editor_keypair.home, "sync", str(out))
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.splitlines()[-1] == (
        "1 revision, 1 message, 2 folders moved to their authors’ folders"), synced.stdout
    layout = folders(out)
    # Moved back, one folder per author, under the same names; the editor's files kept.
    assert sorted(name for name in layout if name != "no pen name") == unnamed
    assert layout["no pen name"] == ["list of pieces.txt"]
    [other_home] = [name for name in unnamed if other[:8] in layout[name][0]]
    moved = out / other_home / layout[other_home][0]
    assert (moved / "my notes.txt").read_text() == "the editor's own notes"
    assert (moved / "1.md").read_bytes() == b"# other\n"
    [piece_home] = [name for name in unnamed if name != other_home]
    [first_folder, second_folder] = [out / piece_home / d for d in layout[piece_home]]
    assert second_folder.name == f"{first_folder.name}-v2"
    assert [p.name.split("-")[-1] for p in (first_folder / "thread").iterdir()] == ["author.txt"]
    recorded = json.loads((out / ".penname" / "authors.json").read_text())
    assert sorted(recorded.values()) == unnamed

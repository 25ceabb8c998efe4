"""What a parser on the editor's laptop must not see, and the names sync keeps for itself.

The start-up probe of `portal-editor sync` must find the editor's keys, drafts,
token and home directory missing. When the interpreter or the code is
installed under the home directory (pyenv, pipx), the sandbox shows the
folders leading to it, so the probe names everything beside them instead.
"""

from __future__ import annotations

from pathlib import Path

from portal.editor_client import confinement
from portal.editor_client.sync import SAFE, UNOPENED, Landing
from portal.editor_client.wording import ReportWriter
from portal.sanitize.sandbox import confine as sandbox


def test_a_home_holding_the_code_is_named_around_it(monkeypatch, tmp_path: Path) -> None:
    home = tmp_path / "home"
    code = home / ".local" / "pipx" / "venvs" / "penname"
    for folder in (code, home / ".ssh", home / ".local" / "share", home / "Documents"):
        folder.mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GNUPGHOME", str(tmp_path / "gnupg"))
    monkeypatch.setattr(sandbox, "readable_paths", lambda: ["/usr", str(code)])
    places = confinement.private_places(tmp_path / "drafts", [tmp_path / "editor.json"])
    assert places[:2] == [str(tmp_path / "gnupg"), str(tmp_path / "drafts")]
    assert {str(home / n) for n in (".ssh", "Documents", ".local/share")} <= set(places)
    assert str(tmp_path / "editor.json") in places
    # The folders leading to the code are visible (empty) in the sandbox: not named.
    assert not {str(home), str(home / ".local"), str(code)} & set(places)


def test_the_probe_holds_with_this_machines_keys_drafts_and_home_out_of_sight(
    tmp_path: Path, monkeypatch
) -> None:
    """Here the interpreter may live under the home directory (pyenv): the probe still holds."""
    monkeypatch.setenv("GNUPGHOME", str(tmp_path / "gnupg"))
    (tmp_path / "gnupg").mkdir()
    (tmp_path / "drafts").mkdir()
    places = confinement.private_places(tmp_path / "drafts")
    home = str(Path.home().resolve())
    assert any(p == home or p.startswith(home + "/") for p in places)
    assert confinement.sandbox_problem(places) is None


def test_an_authors_kept_name_never_takes_a_name_sync_writes(tmp_path: Path) -> None:
    landing = Landing(tmp_path, ReportWriter("en"))
    assert landing.claim("", "open-first.TXT", "1.txt") == "1.txt"
    assert landing.claim("", SAFE, "2") == "2"
    assert landing.claim("", f"{UNOPENED}.txt", "3.txt") == "3.txt"
    assert landing.claim("", "Cleaning-Report.txt", "4.txt") == "4.txt"
    # Two files kept under one name: the second is named by its place.
    assert landing.claim("", "稿子.docx", "5.docx") == "稿子.docx"
    assert landing.claim("", "稿子.docx", "6.docx") == "6.docx"

"""`portal-clean [--json] -o OUTPUT INPUT`, run as the real console script.

The contract (DESIGN.md, "Interfaces other programs rely on"): exit 0 when the
file was cleaned (OUTPUT written, report printed; with --json a JSON object with
"cleaned": true), 1 when it could not be cleaned (nothing written: no OUTPUT and
no half-written temporary file beside it), 2 for usage errors (missing
arguments, OUTPUT the same file as INPUT, INPUT unreadable). Editors run it on
their laptops before opening a draft, so a refusal must never leave a file that
looks cleaned.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

from portal.sanitize.messages import REFUSED
from tests.sanitize import dirty_media, hostile_samples
from tests.sanitize.scan import find_tokens

SCRIPT = Path(sys.executable).with_name("portal-clean")
DRAFT = "工人的故事\u200b — a draft.\nSecond\u2060 line.\n".encode()
CLEANED_DRAFT = "工人的故事 — a draft.\nSecond line.\n".encode()


def portal_clean(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed console script (or the module, if the script is not installed)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "portal.sanitize.cli"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd, check=False)


def entries(directory: Path) -> list[str]:
    """Everything in a directory, hidden temporary files included."""
    return sorted(os.listdir(directory))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with empty in/ and out/ subfolders for one test."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path


# -- 0: cleaned ----------------------------------------------------------------------


def test_cleaned_text_is_written_and_the_report_printed(workdir: Path) -> None:
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    target = workdir / "out" / "draft.txt"
    result = portal_clean("-o", target, source)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == CLEANED_DRAFT
    assert source.read_bytes() == DRAFT  # the input is never touched
    assert f"cleaned text: {target}" in result.stdout
    assert "removed: 2 invisible character(s)" in result.stdout
    assert "note: The writing itself" in result.stdout
    assert entries(workdir / "out") == ["draft.txt"]


def test_json_report_says_cleaned_and_what_was_removed(workdir: Path) -> None:
    dirty, tokens = dirty_media.dirty_jpeg()
    source = workdir / "in" / "photo.jpg"
    source.write_bytes(dirty)
    target = workdir / "out" / "photo.jpg"
    result = portal_clean("--json", "-o", target, source)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cleaned"] is True and report["kind"] == "jpeg"
    assert {"gps", "camera"} <= {finding["code"] for finding in report["removed"]}
    assert find_tokens(target.read_bytes(), list(tokens.values())) == []


def test_cleaned_pdf_keeps_its_pages_and_loses_its_author(workdir: Path) -> None:
    dirty, tokens = dirty_media.dirty_pdf()
    source = workdir / "in" / "draft.pdf"
    source.write_bytes(dirty)
    target = workdir / "out" / "clean.pdf"
    assert portal_clean("-o", target, source).returncode == 0
    with pikepdf.open(target) as pdf:
        assert len(pdf.pages) == 1
    assert find_tokens(target.read_bytes(), list(tokens.values())) == []


def test_existing_output_is_replaced_whole(workdir: Path) -> None:
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    target = workdir / "out" / "draft.txt"
    target.write_bytes(b"an older, much longer cleaned version of the draft\n" * 100)
    assert portal_clean("-o", target, source).returncode == 0
    assert target.read_bytes() == CLEANED_DRAFT


# -- 1: refused, nothing written --------------------------------------------------------


@pytest.mark.parametrize("name,content,code", [
    ("page.html", b"<!doctype html><html><body>hi</body></html>", "markup"),
    ("archive.zip", hostile_samples.build_zip([hostile_samples.Member.stored("a.txt", b"hi")]),
     "archive"),
    ("empty.txt", b"", "empty"),
    ("tiny.png", hostile_samples.bomb_png(), "limit"),
    ("loop.pdf", hostile_samples.pdf_kids_cycle(), "malformed"),
], ids=["markup", "archive", "empty", "decompression-bomb", "pdf-loop"])
def test_refused_file_writes_nothing_and_says_why(
    workdir: Path, name: str, content: bytes, code: str
) -> None:
    source = workdir / "in" / name
    source.write_bytes(content)
    target = workdir / "out" / name
    result = portal_clean("-o", target, source)
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("not cleaned: ")
    assert "Traceback" not in result.stderr
    assert entries(workdir / "out") == []  # no OUTPUT and no leftover temporary file
    verdict = json.loads(portal_clean("--json", "-o", target, source).stdout)
    assert verdict["cleaned"] is False and verdict["code"] == code
    assert verdict["reason"] and code in REFUSED
    assert entries(workdir / "out") == []


def test_refusal_keeps_an_existing_output_file_as_it_was(workdir: Path) -> None:
    """A refusal writes nothing: an earlier OUTPUT is neither replaced nor removed."""
    source = workdir / "in" / "page.html"
    source.write_bytes(b"<html><body>hi</body></html>")
    target = workdir / "out" / "page.html"
    target.write_bytes(b"earlier cleaned output\n")
    assert portal_clean("-o", target, source).returncode == 1
    assert target.read_bytes() == b"earlier cleaned output\n"
    assert entries(workdir / "out") == ["page.html"]


# -- 2: usage -------------------------------------------------------------------


@pytest.mark.parametrize("args", [
    (), ("draft.txt",), ("-o", "out.txt"), ("--json",), ("--bogus", "-o", "x", "draft.txt"),
], ids=["nothing", "no-output", "no-input", "json-only", "unknown-option"])
def test_missing_or_unknown_arguments_are_usage_errors(workdir: Path, args: tuple[str, ...]) -> None:
    (workdir / "draft.txt").write_bytes(DRAFT)
    result = portal_clean(*args, cwd=workdir)
    assert result.returncode == 2
    assert "usage: portal-clean" in result.stderr
    assert sorted(os.listdir(workdir)) == ["draft.txt", "in", "out"]


@pytest.mark.parametrize("spelling", ["draft.txt", "./draft.txt", "in/../draft.txt", "ABSOLUTE"])
def test_output_equal_to_input_is_a_usage_error(workdir: Path, spelling: str) -> None:
    source = workdir / "draft.txt"
    source.write_bytes(DRAFT)
    output = str(source) if spelling == "ABSOLUTE" else spelling
    result = portal_clean("-o", output, "draft.txt", cwd=workdir)
    assert result.returncode == 2
    assert "OUTPUT must differ from INPUT" in result.stderr
    assert source.read_bytes() == DRAFT
    assert sorted(os.listdir(workdir)) == ["draft.txt", "in", "out"]


def test_output_that_is_the_input_through_a_symlinked_folder_is_a_usage_error(workdir: Path) -> None:
    """Bug check: the same file reached through a symlinked folder must be refused as
    usage too, not overwritten in place (the original draft would be lost)."""
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    (workdir / "alias").symlink_to(workdir / "in", target_is_directory=True)
    result = portal_clean("-o", workdir / "alias" / "draft.txt", source)
    assert source.read_bytes() == DRAFT, "the input was overwritten"
    assert result.returncode == 2


@pytest.mark.parametrize("problem", ["missing", "directory"])
def test_unreadable_input_is_a_usage_error(workdir: Path, problem: str) -> None:
    source = workdir / "in" / "nothing-here.txt" if problem == "missing" else workdir / "in"
    result = portal_clean("-o", workdir / "out" / "x.txt", source)
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
    assert entries(workdir / "out") == []


# Root reads any file through two capabilities; without them (the bounding set of the
# program run), root is refused a mode-0 file like anyone else.
WITHOUT_READ_OVERRIDE = (["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]
                         if os.geteuid() == 0 else [])


def test_input_without_read_permission_is_a_usage_error(workdir: Path) -> None:
    source = workdir / "in" / "secret.txt"
    source.write_bytes(DRAFT)
    source.chmod(0)
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "portal.sanitize.cli"]
    try:
        result = subprocess.run([*WITHOUT_READ_OVERRIDE, *command, "-o",
                                 str(workdir / "out" / "x.txt"), str(source)],
                                capture_output=True, text=True, timeout=120, check=False)
    finally:
        source.chmod(0o600)
    assert result.returncode == 2, result.stderr
    assert "cannot read" in result.stderr and "Traceback" not in result.stderr
    assert entries(workdir / "out") == []


def test_output_in_a_missing_folder_is_a_usage_error(workdir: Path) -> None:
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    result = portal_clean("-o", workdir / "no-such-folder" / "x.txt", source)
    assert result.returncode == 2
    assert "cannot write" in result.stderr


def test_output_that_is_a_folder_is_a_usage_error_without_a_traceback(workdir: Path) -> None:
    """Bug check: naming an existing folder as OUTPUT is a usage error (2) with a
    sentence, and leaves no temporary file behind."""
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    result = portal_clean("-o", workdir / "out", source)
    assert entries(workdir) == ["in", "out"] and entries(workdir / "out") == []
    assert "Traceback" not in result.stderr
    assert result.returncode == 2


def test_module_entry_point_behaves_like_the_script(workdir: Path) -> None:
    """`python -m portal.sanitize.cli` is the same program (used where no script is installed)."""
    source = workdir / "in" / "draft.txt"
    source.write_bytes(DRAFT)
    target = workdir / "out" / "draft.txt"
    result = subprocess.run([sys.executable, "-m", "portal.sanitize.cli", "--json", "-o",
                             str(target), str(source)], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0 and json.loads(result.stdout)["cleaned"] is True
    assert target.read_bytes() == CLEANED_DRAFT


# -- What it prints: kinds and counts, values only when asked ------------------------


def test_removed_values_are_printed_only_with_show_values(workdir: Path) -> None:
    """Whoever cleans another person's file (an editor) never has the names on screen."""
    from tests.sanitize.dirty_office import dirty_docx

    data, tokens = dirty_docx()
    source = workdir / "in" / "draft.docx"
    source.write_bytes(data)
    quiet = portal_clean("--json", "-o", workdir / "out" / "a.docx", source)
    plain = portal_clean("-o", workdir / "out" / "b.docx", source)
    assert quiet.returncode == plain.returncode == 0, quiet.stderr + plain.stderr
    for output in (quiet.stdout, plain.stdout):
        assert not [t for t in tokens.values() if len(t) > 8 and t in output], output
    report = json.loads(quiet.stdout)
    assert {f["detail"] for f in report["removed"]} == {""}
    assert "author name" in plain.stdout
    shown = portal_clean("--show-values", "-o", workdir / "out" / "c.docx", source)
    assert tokens["author"] in shown.stdout

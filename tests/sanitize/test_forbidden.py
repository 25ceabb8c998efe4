"""No programs: what is never sent is decided twice, by the cleaner and by the server.

The cleaner (in its sandbox) names programs, macro projects and archives from
their bytes; the server's screen (outside it) reaches the same verdict from the
upload's name and fixed byte strings alone, so a cleaner that lies cannot make
a program sendable, and its refusal can only ever be made stricter.
"""

from __future__ import annotations

import io

import pytest

from portal.sanitize import CleaningRefused, clean
from portal.sanitize.forbidden import (
    MACRO_EXTENSIONS,
    NEVER_SENDABLE,
    PROGRAM_EXTENSIONS,
    Screen,
    extension,
    is_program,
)
from portal.sanitize.messages import REFUSED
from portal.sanitize.sniff import HEAD_BYTES, sniff
from tests.sanitize import program_samples as samples
from tests.sanitize.dirty_office import plain_docx

# name, bytes, what both the cleaner and the server's screen say
FORBIDDEN = {
    "windows-program": ("report.pdf.exe", samples.pe(), "executable"),
    "pe-renamed": ("draft.docx", samples.pe(), "executable"),
    "elf": ("notes", samples.elf(), "executable"),
    "mach-o": ("photo.jpg", samples.mach_o(), "executable"),
    "shell-script": ("draft.txt", samples.shell_script(), "executable"),
    "script-behind-bom": ("draft.txt", b"\xef\xbb\xbf" + samples.shell_script(), "executable"),
    "shortcut": ("draft.lnk", samples.shortcut(), "executable"),
    "shortcut-renamed": ("draft.doc", samples.shortcut(), "executable"),
    "doc-with-vba": ("draft.doc", samples.ole_document(macros=True), "macros"),
    "zip-of-programs": ("chapters.zip", samples.zip_of_programs(), "archive"),
    "zip-renamed": ("chapters.docx", samples.zip_of_programs(), "archive"),
    "rar": ("chapters.rar", b"Rar!\x1a\x07\x01\x00" + bytes(64), "archive"),
}
# Plain text a cleaner cleans happily: only the name says it is a program.
SCRIPTS_BY_NAME = {
    "run.bat": samples.batch_script(), "run.cmd": samples.batch_script(),
    "get.ps1": samples.powershell_script(), "a.vbs": b'MsgBox "hi"\r\n',
    "a.js": b"WScript.Echo('hi');\n", "a.sh": b"echo hi\n", "a.py": b"print('hi')\n",
    "a.hta": b"<html><body>hi</body></html>\n", "a.reg": b"REGEDIT4\r\n",
}


def cleaner_verdict(data: bytes, name: str) -> str:
    try:
        clean(io.BytesIO(data), io.BytesIO(), name_hint=name)
    except CleaningRefused as refused:
        return refused.code
    return "cleaned"


def screened(data: bytes, name: str) -> Screen:
    screen = Screen(name)
    screen.scan(io.BytesIO(data))
    return screen


@pytest.mark.parametrize("sample", FORBIDDEN, ids=list(FORBIDDEN))
def test_the_cleaner_and_the_servers_screen_agree_on_what_is_never_sent(sample: str) -> None:
    name, data, code = FORBIDDEN[sample]
    assert cleaner_verdict(data, name) == code
    refused = screened(data, name).outright()
    assert refused is not None and refused.code == code


@pytest.mark.parametrize("name", SCRIPTS_BY_NAME)
def test_a_script_named_as_one_is_a_program_though_it_cleans_as_text(name: str) -> None:
    data = SCRIPTS_BY_NAME[name]
    screen = screened(data, name)
    refused = screen.outright()
    assert refused is not None and refused.code == "executable"
    screen.see_output(data)
    assert screen.after_cleaning() is not None, "even once cleaned"


def test_a_script_renamed_txt_is_only_text() -> None:
    assert cleaner_verdict(samples.batch_script(), "run.txt") == "cleaned"
    screen = screened(samples.batch_script(), "run.txt")
    assert screen.outright() is None
    screen.see_output(samples.batch_script())
    assert screen.after_cleaning() is None


@pytest.mark.parametrize("name, data", [
    ("draft.txt", "工人的故事\n".encode()), ("draft.docx", plain_docx()),
    ("draft.doc", samples.ole_document(macros=False)),
    ("draft.rtf", b"{\\rtf1\\ansi Draft text.}"), ("blob.bin", b"\x00\x01\x02 unknown" * 10),
    ("draft.docm", samples.docm()), ("draft.docm", samples.docm(cleanable=False)),
], ids=["text", "docx", "doc-without-macros", "rtf", "unknown", "docm", "damaged-docm"])
def test_the_screen_leaves_documents_to_the_cleaner(name: str, data: bytes) -> None:
    assert screened(data, name).outright() is None


def test_a_docm_the_cleaner_can_read_is_sent_without_its_macros() -> None:
    out = io.BytesIO()
    report = clean(io.BytesIO(samples.docm()), out, name_hint="draft.docm")
    assert report.kind == "docx"
    assert "macros" in {finding.code for finding in report.removed}
    assert b"vbaProject" not in out.getvalue()
    screen = screened(samples.docm(), "draft.docm")
    screen.see_output(out.getvalue())
    assert screen.after_cleaning() is None


def test_a_refusal_of_a_macro_document_or_an_archive_becomes_one_never_sent() -> None:
    """The cleaner's reason stands only if the screen knows nothing stricter."""
    damaged_docm = samples.docm(cleanable=False)
    assert cleaner_verdict(damaged_docm, "draft.docm") == "malformed"
    for name in ("draft.docm", "draft.docx", "draft"):  # the macro project is in its bytes
        assert screened(damaged_docm, name).after_refusal(
            CleaningRefused("malformed")).code == "macros", name
    unknown = b"\x00\x01\x02 unknown" * 10
    assert screened(unknown, "draft.xlsm").after_refusal(
        CleaningRefused("unknown-type")).code == "macros"
    assert screened(unknown, "chapters.7z").after_refusal(
        CleaningRefused("unknown-type")).code == "archive"
    # Never milder: a cleaner's "archive" stays, whatever the screen thinks of the bytes.
    assert screened(unknown, "blob.bin").after_refusal(CleaningRefused("archive")).code == "archive"
    # A harmless refusal stays harmless: the author may still choose to send it.
    legacy = samples.ole_document(macros=False)
    assert screened(legacy, "draft.doc").after_refusal(
        CleaningRefused("legacy-office")).code == "legacy-office"


def test_cleaned_bytes_that_open_like_a_program_are_not_sent() -> None:
    """Cleaning removes an invisible character in front of a `#!` line: the cleaned
    copy would be a script, though the upload did not open like one."""
    upload = "\u200b".encode() + samples.shell_script()
    screen = screened(upload, "notes.txt")
    assert screen.outright() is None
    out = io.BytesIO()
    clean(io.BytesIO(upload), out, name_hint="notes.txt")
    assert out.getvalue().startswith(b"#!")
    screen.see_output(out.getvalue())
    refused = screen.after_cleaning()
    assert refused is not None and refused.code == "executable"


def test_a_cleaner_that_passes_a_macro_document_through_is_caught_on_the_way_out() -> None:
    docm = samples.docm()
    screen = screened(docm, "draft.docx")
    half = docm.index(b"vbaProject.bin") + 5  # the name split across two writes
    screen.see_output(docm[:half])
    screen.see_output(docm[half:])
    refused = screen.after_cleaning()
    assert refused is not None and refused.code == "macros"


@pytest.mark.parametrize("name, data, cleaner", [
    ("draft.txt", bytes(0x8001) + b"CD001" + bytes(2000), "executable"),  # ISO 9660
    # A macOS disk image says so only in its last 512 bytes, which the cleaner's sniff
    # never sees: the screen's stricter verdict is the one that counts.
    ("draft.txt", bytes(4096) + b"koly" + bytes(508), "unknown-type"),
    ("draft.doc", samples.windows_installer(), "executable"),
], ids=["iso", "dmg", "msi"])
def test_disk_images_and_installers_are_programs(name: str, data: bytes, cleaner: str) -> None:
    assert cleaner_verdict(data, name) == cleaner
    refused = screened(data, name).outright()
    assert refused is not None and refused.code == "executable"


def test_the_extension_is_the_one_a_desktop_acts_on() -> None:
    assert extension("report.pdf.exe") == "exe"
    assert extension("SETUP.EXE. . ") == "exe"  # Windows drops trailing dots and spaces
    assert extension("photo\u202egpj.exe") == "exe"  # shown as "photoexe.jpg"
    assert extension("draft.tar.gz") == "gz"
    assert extension(".bashrc") == "" and extension("notes") == ""
    assert not PROGRAM_EXTENSIONS & MACRO_EXTENSIONS
    assert "ts" not in PROGRAM_EXTENSIONS, "a .ts is a video far more often than TypeScript"


def test_sniff_uses_the_screens_signatures() -> None:
    for name, data, code in FORBIDDEN.values():
        if code == "executable":
            assert is_program(data[:HEAD_BYTES]) and sniff(data[:HEAD_BYTES]) == "executable", name


@pytest.mark.parametrize("code", sorted(NEVER_SENDABLE))
def test_the_author_is_told_it_cannot_be_sent_and_what_to_send(code: str) -> None:
    wording = REFUSED[code]
    assert "cannot be sent" in wording.author and "send" in wording.author.replace(
        "cannot be sent", "")
    assert wording.editors and "{detail}" not in wording.editors


def test_the_screen_finds_a_marker_cut_between_two_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from portal.sanitize import forbidden

    monkeypatch.setattr(forbidden, "CHUNK", 7)  # every marker is cut somewhere
    damaged_docm = samples.docm(cleanable=False)
    assert screened(damaged_docm, "draft").after_refusal(
        CleaningRefused("malformed")).code == "macros"
    refused = screened(samples.ole_document(macros=True), "draft").outright()
    assert refused is not None and refused.code == "macros"
    assert screened(samples.docm(), "draft").outright() is None  # still a document package

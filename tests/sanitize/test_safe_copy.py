"""Safe copies: every document becomes page images with an invisible text layer, made
in a sandbox, and nothing of a hostile document's structure survives.

Each copy is checked from outside (pikepdf for the structure, poppler for the
pixels and the text), with real documents in Simplified and Traditional
Chinese and English, and with hostile ones (a DOCX with an external template,
DDE and AUTHOR fields and an embedded OLE object; a PDF with JavaScript, a
launch action, attachments and annotations). The share of the body's
characters found in the text layer is printed (`pytest -s`) and bounded.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from portal.sanitize.safecopy import (
    MAX_HEADER_BYTES,
    MAX_WORD_CHARACTERS,
    MAX_WORDS_PER_PAGE,
    SafeCopyFailed,
    SafeCopyLimits,
    _Reader,
    _rebuild,
    make_safe_copy,
)
from portal.sanitize.safecopy.render import EPUB_MAX_MEMBERS
from portal.sanitize.sandbox import confine as sandbox
from tests.sanitize.dirty_media import dirty_pdf
from tests.sanitize.dirty_odf import dirty_odf
from tests.sanitize.dirty_office import dirty_docx, rezip, unzip
from tests.sanitize.dirty_pptx import dirty_pptx
from tests.sanitize.safe_copies import (
    BODY,
    ENGLISH,
    SIMPLIFIED,
    TRADITIONAL,
    images_only,
    needs_renderer,
    pdftotext,
    picture_of_text,
    renders,
    share,
)
from tests.sanitize.test_sandbox import (  # noqa: F401 - listeners and targets are fixtures
    PAYLOAD,
    _in_sandbox,
    listeners,
    targets,
)

pytestmark = needs_renderer
LIMITS = SafeCopyLimits(seconds=120)


def safe_copy(data: bytes, kind: str, limits: SafeCopyLimits = LIMITS) -> tuple[bytes, Any]:
    out = io.BytesIO()
    made = make_safe_copy(io.BytesIO(data), out, kind=kind, limits=limits)
    return out.getvalue(), made


def word(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def workbook(paragraphs: list[str]) -> bytes:
    book = openpyxl.Workbook()
    for row, paragraph in enumerate(paragraphs, start=1):
        book.active.cell(row=row, column=1, value=paragraph)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rich_text(paragraphs: list[str]) -> bytes:
    """RTF as older Word and WordPad write Chinese: every character a \\u escape."""
    body = "".join("{\\pard " + "".join(f"\\u{ord(ch) if ord(ch) < 32768 else ord(ch) - 65536}?"
                                         if ord(ch) > 127 else ch for ch in p) + "\\par}"
                   for p in paragraphs)
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Noto Sans CJK SC;}}" + body + "}").encode("ascii")


def pdf_of(data: bytes, suffix: str, folder: Path) -> bytes:
    """A real PDF with real text, as a word processor exports it (LibreOffice, unconfined:
    this is the test's own document, not an upload)."""
    source = folder / f"made{suffix}"
    source.write_bytes(data)
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://"
                    f"{folder}/profile", "--convert-to", "pdf", "--outdir", str(folder),
                    str(source)], check=True, capture_output=True, timeout=120)
    return (folder / "made.pdf").read_bytes()


def ebook(paragraphs: list[str], extra: str = "") -> bytes:
    """An EPUB of two chapters, the paragraphs shared between them; `extra` goes into the
    first chapter's body as it is (scripts, remote pictures)."""
    chapters = [paragraphs[: len(paragraphs) // 2 or 1], paragraphs[len(paragraphs) // 2 or 1:]]
    members: dict[str, bytes | str] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
            'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
            'media-type="application/oebps-package+xml"/></rootfiles></container>'),
        "OEBPS/content.opf": (
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" '
            'unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/">'
            '<dc:identifier id="id">urn:uuid:0</dc:identifier><dc:title>书</dc:title>'
            '<dc:language>zh</dc:language></metadata><manifest>'
            '<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="c2" href="text/two.xhtml" media-type="application/xhtml+xml"/>'
            '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>'),
    }
    for number, chapter in enumerate(chapters, start=1):
        body = "".join(f"<p>{p}</p>" for p in chapter) + (extra if number == 1 else "")
        members[f"OEBPS/text/{('one', 'two')[number - 1]}.xhtml"] = (
            '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{number}</title></head><body>{body}</body></html>")
    return rezip(members)


DOCUMENTS = {
    "docx": lambda folder: word(BODY),
    "xlsx": lambda folder: workbook(BODY),
    "text": lambda folder: "\n\n".join(BODY).encode("utf-8"),
    "rtf": lambda folder: rich_text(BODY),
    "pdf": lambda folder: pdf_of(word(BODY), ".docx", folder),
    "odt": lambda folder: converted(word(BODY), ".docx", "odt", folder),
    "epub": lambda folder: ebook(BODY),
}


def converted(data: bytes, suffix: str, to: str, folder: Path) -> bytes:
    """The test's own document saved in another format by LibreOffice (unconfined)."""
    source = folder / f"made-{to}{suffix}"
    source.write_bytes(data)
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://"
                    f"{folder}/profile", "--convert-to", to, "--outdir", str(folder),
                    str(source)], check=True, capture_output=True, timeout=120)
    return (folder / f"made-{to}.{to}").read_bytes()


@pytest.mark.parametrize("kind", sorted(DOCUMENTS))
def test_a_document_becomes_page_images_with_its_own_text(kind, tmp_path):
    copy, made = safe_copy(DOCUMENTS[kind](tmp_path), kind)
    assert images_only(copy) == []
    assert renders(copy, tmp_path) == made.pages >= 1
    text = pdftotext(copy)
    shares = {script: share(body, text) for script, body in
              zip(("Simplified", "Traditional", "English"), BODY, strict=True)}
    print(f"\n{kind}: text layer from {made.text}; share of the body found: "
          + ", ".join(f"{script} {value:.1%}" for script, value in shares.items()))
    # A sheet's long cells run over onto pages of their own, read by OCR: "mixed".
    assert made.text == ("mixed" if kind == "xlsx" else "document")
    assert min(shares.values()) >= 0.97, shares


def test_a_picture_of_a_page_gets_its_text_from_ocr(tmp_path):
    lines = [SIMPLIFIED[:24], SIMPLIFIED[24:], TRADITIONAL[:24], TRADITIONAL[24:], ENGLISH]
    copy, made = safe_copy(picture_of_text(lines), "png")
    assert images_only(copy) == []
    assert renders(copy, tmp_path) == made.pages == 1
    text = pdftotext(copy)
    found = share("".join(lines), text)
    print(f"\nOCR of a picture of the page: {found:.1%} of the characters")
    assert made.text == "ocr"
    assert found >= 0.8


def hostile_docx() -> bytes:
    """dirty_docx (external template, AUTHOR and USERNAME fields, an embedded OLE
    workbook, a file:// link) with a DDE field that would run a program."""
    data, _ = dirty_docx()
    members = unzip(data)
    body = members["word/document.xml"]
    body = body.decode("utf-8") if isinstance(body, bytes) else body
    members["word/document.xml"] = body.replace(
        "<w:sectPr", '<w:p><w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText '
        'xml:space="preserve"> DDEAUTO c:\\\\windows\\\\system32\\\\cmd.exe "/k calc.exe" '
        '</w:instrText></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r></w:p><w:sectPr', 1)
    return rezip(members, stored=())


@pytest.mark.parametrize("kind, sample", [
    ("pptx", lambda folder: dirty_pptx()[0]),
    ("odp", lambda folder: converted(dirty_pptx()[0], ".pptx", "odp", folder)),
    ("ods", lambda folder: dirty_odf("ods")[0]),
])
def test_presentations_and_sheets_become_page_images(kind, sample, tmp_path):
    copy, made = safe_copy(sample(tmp_path), kind)
    assert images_only(copy) == []
    assert renders(copy, tmp_path) == made.pages >= 1
    assert pdftotext(copy).strip()


def test_an_ebook_with_a_script_and_a_remote_picture_reaches_nothing(tmp_path):
    """An e-book is web pages: its script is never run and its remote picture never
    fetched (the renderer has no network); its chapters still become pages, in order."""
    calls = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    port = server.getsockname()[1]
    book = ebook(BODY, f'<script>document.write("SCRIPT-RAN")</script>'
                       f'<img src="http://127.0.0.1:{port}/tracker.png"/>')
    copy, _ = safe_copy(book, "epub")
    with contextlib.suppress(OSError):
        calls.append(server.accept())
    server.close()
    assert calls == []
    text = pdftotext(copy)
    assert "SCRIPT-RAN" not in text
    assert text.index(SIMPLIFIED[:10]) < text.index(ENGLISH[:10])
    assert images_only(copy) == []


@pytest.mark.parametrize("kind, hostile", [("docx", hostile_docx),
                                           ("pdf", lambda: dirty_pdf()[0])])
def test_a_hostile_document_leaves_nothing_but_pictures(kind, hostile, tmp_path):
    original = hostile()
    copy, made = safe_copy(original, kind)
    assert images_only(copy) == []
    assert renders(copy, tmp_path) == made.pages
    # What the original carries is there to be found; the copy has none of it.
    for marker in (b"attachedTemplate", b"DDEAUTO", b"OLEObject", b"JavaScript", b"Launch",
                   b"EmbeddedFile", b"app.alert", b"calc.exe"):
        assert marker not in copy
    inside = original if kind == "pdf" else b"".join(
        v if isinstance(v, bytes) else v.encode() for v in unzip(original).values())
    assert b"DDEAUTO" in inside or b"JavaScript" in inside
    assert b"attachedTemplate" in inside or b"Launch" in inside
    if kind == "pdf":  # the checker finds what the original carries
        found = " ".join(images_only(original))
        for problem in ("catalog has", "page 1 has", "/JavaScript", "/Launch",
                        "/EmbeddedFile", "/Annots", "/OpenAction"):
            assert problem in found


def test_the_renderer_reaches_nothing_that_works_without_its_sandbox(targets):  # noqa: F811
    """The same exploited code as the cleaners' sandbox test, started in the renderer's
    sandbox: LibreOffice may fork, exec and write scratch files there, yet the data, the
    network and other processes stay out of reach."""
    command = (sys.executable, "-I", "-B", "-c", PAYLOAD)
    free = json.loads(subprocess.run([*command, "unconfined"], input=json.dumps(targets).encode(),
                                     capture_output=True, timeout=120, check=True).stdout)
    must_fail = ([f"read {name}" for name in targets["read"] if Path(targets["read"][name]).exists()]
                 + ["read server environ", "read server memory", "signal the server", "ptrace"]
                 + [f"connect {name}" for name in sorted({*targets["tcp"], *targets["unix"]})
                    if free.get(f"connect {name}") == "ok"]
                 + [f"write {name}" for name in targets["write"]])
    assert {"connect nginx-like listener", "connect unix socket file"} <= set(must_fail)
    assert {name: free[name] for name in must_fail} == dict.fromkeys(must_fail, "ok")
    for path in targets["write"].values():
        Path(path).unlink()

    args = {"kind": "docx", "max_pages": 1, "max_side": 100, "ocr_pages": 0, "seconds": 60,
            "max_input_bytes": 1 << 20, "memory_bytes": 1 << 31, "file_bytes": 1 << 20}
    child = sandbox.launch([*command, "renderer"], renderer=True, stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE,
                           env={"PATH": "/usr/bin:/bin", "PORTAL_RENDER_ARGS": json.dumps(args)})
    out, _ = child.communicate(json.dumps(targets).encode(), timeout=120)
    inside = json.loads(out.splitlines()[0])
    # Its /tmp is its own scratch space in memory: a write there lands nowhere outside.
    scratch = "write in /tmp"
    assert sorted(name for name in must_fail if inside[name] == "ok" and name != scratch) == []
    for path in targets["write"].values():
        assert not Path(path).exists()
    # What the renderer needs, and has: programs (LibreOffice starts its own), scratch files.
    assert inside["run a program"] == "ok" and inside[scratch] == "ok"


def test_every_process_of_a_rendering_is_filtered_unprivileged_and_off_the_network():
    """While LibreOffice lays out a long document, every process of the renderer's sandbox
    (soffice.bin included) shows Seccomp: 2 and NoNewPrivs: 1, no capability, and network
    and PID namespaces of its own."""
    seen: dict[int, dict[str, str]] = {}
    rendering = threading.Thread(target=safe_copy, args=(word([SIMPLIFIED * 40] * 60), "docx"))
    rendering.start()
    while rendering.is_alive():
        for pid in sandbox.descendants(os.getpid()):
            status = sandbox._status(pid)
            try:
                if status and _in_sandbox(pid):  # bubblewrap's monitor stays outside
                    seen[pid] = {**status, "net": os.readlink(f"/proc/{pid}/ns/net"),
                                 "pidns": os.readlink(f"/proc/{pid}/ns/pid")}
            except OSError:  # the process ended between two looks
                continue
        time.sleep(0.05)
    names = {status["Name"] for status in seen.values()}
    assert {"bwrap", "python3", "soffice.bin"} <= {n if not n.startswith("python") else "python3"
                                                    for n in names}, names
    for status in seen.values():
        assert status["Seccomp"] == "2" and status["NoNewPrivs"] == "1", status
        assert status["CapEff"].strip("0") == ""
        assert status["net"] != os.readlink("/proc/self/ns/net")
        assert status["pidns"] != os.readlink("/proc/self/ns/pid")


def test_too_many_pages_too_long_or_not_a_document_is_no_copy(tmp_path):
    long_document = word([SIMPLIFIED * 20] * 12)
    with pytest.raises(SafeCopyFailed) as pages:
        safe_copy(long_document, "docx", SafeCopyLimits(max_pages=2, seconds=120))
    assert pages.value.code == "pages"
    with pytest.raises(SafeCopyFailed) as slow:
        safe_copy(long_document, "docx", SafeCopyLimits(seconds=1))
    assert slow.value.code == "time"
    with pytest.raises(SafeCopyFailed) as sound:
        safe_copy(b"ID3\x04" + bytes(100), "mp3")
    assert sound.value.code == "kind"


def test_a_page_at_the_pixel_bound_is_kept_one_beyond_is_refused():
    limits = SafeCopyLimits(max_side=40)
    assert _forged([_page(40, 40)], limits).pages == 1
    with pytest.raises(SafeCopyFailed) as wide:
        _forged([_page(41, 10)], limits)
    assert wide.value.code == "pixels"


def test_without_the_sandbox_no_copy_is_made(monkeypatch):
    monkeypatch.setenv("PORTAL_BWRAP", "/nonexistent/bwrap")
    with pytest.raises(SafeCopyFailed) as failed:
        safe_copy(word(BODY), "docx")
    assert failed.value.code == "unavailable"


def _page(width: int, height: int, words: Any = None) -> bytes:
    header = {"width": width, "height": height, "page_width": 100, "page_height": 100,
              "text": "document", "words": [[1, 1, 50, 10, "字"]] if words is None else words}
    return json.dumps(header).encode() + b"\n" + bytes(width * height * 3)


def _forged(pages: list[bytes], limits: SafeCopyLimits = LIMITS, end: bytes = b'{"done": true}\n'
            ) -> Any:
    read, write = os.pipe()

    def answer() -> None:  # from another thread: a long answer fills the pipe
        with open(write, "wb") as sink, contextlib.suppress(BrokenPipeError):
            sink.write(b"".join(pages) + end)

    writer = threading.Thread(target=answer)
    writer.start()
    try:
        with open(read, "rb") as source:
            return _rebuild(_Reader(source, deadline=time.monotonic() + 5), limits)[1]
    finally:
        writer.join()


@pytest.mark.parametrize("stream", [
    b"not json\n",
    _page(4, 4, words="not a list"),
    _page(4, 4, words=[[0, 0, 1, 1, "x" * 5000]]),
    _page(4, 4, words=[[0, 0, float("inf"), 1, "x"]]).replace(b"Infinity", b"1e999"),
    _page(4, 4)[:-5],  # pixels cut short
    json.dumps({"width": 4, "height": 4, "page_width": 1e9, "page_height": 10, "text": "none",
                "words": []}).encode() + b"\n" + bytes(48),
])
def test_a_forged_answer_from_the_renderer_is_no_copy(stream):
    with pytest.raises(SafeCopyFailed):
        _forged([stream], end=b"")


def test_more_pages_than_the_bound_from_a_forged_renderer_is_no_copy():
    assert _forged([_page(2, 2)] * 2, SafeCopyLimits(max_pages=2)).pages == 2
    with pytest.raises(SafeCopyFailed) as many:
        _forged([_page(2, 2)] * 3, SafeCopyLimits(max_pages=2))
    assert many.value.code == "pages"


def test_words_and_headers_at_their_bounds_are_kept_one_beyond_is_no_copy():
    longest = [[0, 0, 90, 10, "字" * MAX_WORD_CHARACTERS]]
    most = [[0, 0, 1, 1, "x"]] * MAX_WORDS_PER_PAGE
    assert _forged([_page(2, 2, words=longest), _page(2, 2, words=most)]).pages == 2
    for words in ([[0, 0, 90, 10, "字" * (MAX_WORD_CHARACTERS + 1)]],
                  [[0, 0, 1, 1, "x"]] * (MAX_WORDS_PER_PAGE + 1)):
        with pytest.raises(SafeCopyFailed):
            _forged([_page(2, 2, words=words)])
    with pytest.raises(SafeCopyFailed):  # a header line that never ends
        _forged([b"{" + b" " * MAX_HEADER_BYTES], end=b"")


def test_an_ebook_past_the_member_bound_is_no_copy():
    members: dict[str, bytes | str] = dict(unzip(ebook(BODY)))
    at_bound = {**members, **{f"OEBPS/x/{n}.css": "" for n in range(EPUB_MAX_MEMBERS
                                                                     - len(members))}}
    assert safe_copy(rezip(at_bound), "epub")[1].pages >= 1
    beyond = {**at_bound, "OEBPS/x/one-more.css": ""}
    with pytest.raises(SafeCopyFailed) as failed:
        safe_copy(rezip(beyond), "epub")
    assert failed.value.code == "failed"

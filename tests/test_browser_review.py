"""The review page in a real browser, JavaScript off, on a phone: what could identify the
author comes first and masked, the rest is folded, each file gets its own note.

One upload holds a Word document full of names, a phone photo with GPS and a
camera model, Chinese text saved by older Notepad (GBK), an Apple Pages file
and a damaged document. Screenshots (closed, then with the folds opened) go to
the artifacts directory of tests/test_browser_authors.py.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from portal.sanitize.messages import REFUSED
from tests.browser import chromium
from tests.liveserver import LiveServer, live_server
from tests.sanitize.dirty_media import dirty_jpeg
from tests.sanitize.dirty_office import DOCX_TOKENS, LANG, dirty_docx
from tests.test_browser_authors import BUDGET, AuthorJourney, Visit, artifacts_dir, expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCX_NAME = "王小梅 夜班.docx"
GBK_TEXT = "夜班\n工人们在工厂门口集合，要求按时发放拖欠的工资。\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, editor_keypair: Any) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("review") / "data", editor_keypair.public) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def pages_file() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("Index/Document.iwa", b"\x00" * 64)
        archive.writestr("Metadata/Properties.plist", b"bplist00")
    return out.getvalue()


def upload_files(folder: Path) -> list[Path]:
    docx, _ = dirty_docx()
    jpeg, _ = dirty_jpeg()
    files = {
        DOCX_NAME: docx,
        "IMG_20250214_1822.jpg": jpeg,
        "笔记.txt": GBK_TEXT.encode("gbk"),
        "夜班.pages": pages_file(),
        "damaged.docx": b"PK\x03\x04" + bytes(26) + b"word/document.xml[Content_Types].xml"
                        + b"\x01" * 40,
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in files]


def section(page: Any, number: int) -> Any:
    return page.locator("section.file").nth(number)


@pytest.mark.parametrize(("lang", "locale"), [("en", "en-US"), ("zh-hans", "zh-CN")])
def test_review_shows_what_identifies_her_first_masked_and_folds_the_rest(
        server: LiveServer, browser: Any, tmp_path: Path, lang: str, locale: str) -> None:
    visit = Visit(browser, server, f"review-{lang}-phone", locale, phone=True)
    try:
        journey = AuthorJourney(visit, lang)
        journey.open_start_page(switch=False)
        journey.get_codename("")
        page = visit.page
        page.fill("#id_title", "夜班")
        page.set_input_files("#id_files", [str(p) for p in upload_files(tmp_path)])
        journey.click_to("review", f"button:text-is('{expect(lang, 'Upload and review')}')")
        assert visit.weights["review"] < BUDGET, visit.weights
        source = page.content()
        main = page.inner_text("main")

        # Her name is not printed in large type: headings say which file by number and kind.
        headings = [page.locator("section.file h2").nth(i).inner_text() for i in range(5)]
        assert not any("王小梅" in h or ".docx" in h for h in headings), headings
        assert DOCX_NAME in main  # still there, in plain type, to recognise her file

        # Names are masked on the first look; the whole values wait behind a <details>.
        word = section(page, 0)
        identifying = word.locator("ul.identifying")
        assert identifying.count() == 1
        shown = identifying.inner_text()
        for token in ("author", "last_editor", "company", "comment_author", "track_author"):
            assert DOCX_TOKENS[token] not in main, token
            assert DOCX_TOKENS[token][0] + "*****" in shown, token
        # The rest, by kind and count only, folded: closed, after what identifies her.
        folded = word.locator("details.other-removed")
        assert folded.count() == 1 and folded.get_attribute("open") is None
        assert identifying.bounding_box()["y"] < folded.bounding_box()["y"]
        trace = expect(lang, "{count} editing-session identifier(s)").split("{count}")[-1]
        assert trace.strip() not in main
        # Language codes and property names never reach her page, not even in its source.
        assert LANG not in source and "x-tokenlang" not in source
        assert DOCX_TOKENS["title"] not in source and DOCX_TOKENS["software"] not in source

        # A photo gets the note about what it shows; the documents about writing style.
        photo_notes = section(page, 1).locator("ul.notes").inner_text()
        sees = expect(lang, "Faces, places, voices and names inside the content itself are not "
                            "removed.")
        style = expect(lang, "The writing itself — its style, subjects and details — can still "
                             "identify you.")
        assert sees in photo_notes and style not in photo_notes
        assert style in word.locator("ul.notes").inner_text()
        gps = expect(lang, "a GPS location")
        assert gps in section(page, 1).locator("ul.identifying").inner_text()

        # Chinese text from older Notepad is converted and said so, not refused.
        text = section(page, 2).inner_text()
        converted = expect(lang, "The text was converted from {detail} to UTF-8, which every "
                                 "computer reads; its words are unchanged.")
        assert converted.format(detail="GBK") in text
        assert section(page, 2).locator("input[name^=send_uncleaned]").count() == 0

        # Pages: the export it needs; a damaged file: a reason in words, no library message.
        pages = section(page, 3).inner_text()
        assert expect(lang, REFUSED["pages"].author) in pages
        assert "File → Export To → Word" in REFUSED["pages"].author
        assert expect(lang, "Archives such as ZIP or RAR cannot be sent, not even without "
                            "cleaning. Please take the files out of it and send them, one by "
                            "one.") not in pages
        damaged = section(page, 4).inner_text()
        assert expect(lang, "The file seems damaged and could not be read.") in damaged
        assert "zip" not in damaged.lower().replace(".docx", "")

        # Opened (no script needed: <details> is the browser's own), everything is there.
        for summary in page.locator("section.file details > summary").all():
            summary.click()
        opened = page.inner_text("main")
        assert DOCX_TOKENS["author"] in opened
        assert trace.strip() in opened
        shot = artifacts_dir() / f"review-{lang}-phone-opened.png"
        page.screenshot(path=str(shot), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= page.evaluate("document.documentElement.clientWidth")
        visit.nothing_from_elsewhere()
    finally:
        visit.close()

"""A real browser with JavaScript disabled runs the whole author journey."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import browser_page
from tests.liveserver import live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_author_journey_without_javascript(tmp_path: Path, editor_keypair):
    draft = tmp_path / "草稿.txt"
    draft.write_text("打工人的夜晚\u200b。\n", encoding="utf-8")
    with live_server(tmp_path / "data", editor_keypair.public) as server, \
            browser_page(javascript=False) as page:
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.goto(server.url + "/")
        page.fill("#id_pen_name", "夜莺")
        page.click("text=Get a codename")
        codename = page.inner_text("#codename").strip()
        assert len(codename.split()) == 7
        page.click("text=I have written it down")
        page.fill("#id_title", "夜班")
        page.set_input_files("#id_files", str(draft))
        page.fill("#id_message", "第一稿")
        page.click("text=Upload and review")
        assert page.locator("form#confirm").count() == 1
        assert "草稿.txt" in page.content()
        assert "invisible character" in page.inner_text("main")
        page.click("form#confirm button[type=submit]")
        assert "Received" in page.inner_text("h1")
        page.click("text=Log out")
        page.fill("#id_codename", codename)
        page.click("text=Log in")
        assert "夜莺" in page.inner_text("h1")
        assert page.locator("table tbody tr").count() == 1
        assert all(url.startswith(server.url) for url in requests), requests
        blobs = list((tmp_path / "data" / "store").glob("*.gpg"))
        plaintexts = [editor_keypair.decrypt(blob) for blob in blobs]
        assert "打工人的夜晚。\n".encode() in plaintexts

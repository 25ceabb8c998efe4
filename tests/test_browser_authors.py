"""A real browser with JavaScript disabled runs the whole author journey, in each language.

Debian's Chromium (never a downloaded browser) against a real gunicorn server:
new codename, upload, review, confirm, received, log out, log in again. The
language comes from Accept-Language (the browser's locale) or from the
switcher, as a Tor Browser user (whose browser says "en-US") would choose it.
Every page is checked for its language, for requests to other origins and for
its weight (HTML and CSS under 30 KB); a screenshot of each review page is
written (to $PENNAME_ARTIFACTS when set, else the test's temp dir).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import translation

from tests.browser import chromium
from tests.liveserver import LiveServer, live_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STATIC_DIR = Path(__file__).resolve().parent.parent / "portal" / "static"
BUDGET = 30 * 1024
LANG_ATTRIBUTE = {"en": "en", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, editor_keypair: Any) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("browser") / "data", editor_keypair.public) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


class Visit:
    """One browser context: what it requested, and each page's HTML and CSS bytes."""

    def __init__(self, browser: Any, server: LiveServer, locale: str) -> None:
        self.server = server
        self.context = browser.new_context(java_script_enabled=False, locale=locale)
        # The application server leaves /static/ to nginx in production; serve it from
        # the source tree here so pages render (and weigh) as they will there.
        self.context.route(re.compile(r"/static/"), self._static)
        self.requests: list[str] = []
        self.weights: dict[str, int] = {}
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))

    def _static(self, route: Any) -> None:
        path = STATIC_DIR / urlsplit(route.request.url).path.removeprefix("/static/")
        if not path.resolve().is_relative_to(STATIC_DIR) or not path.is_file():
            route.fulfill(status=404, body="")
            return
        route.fulfill(status=200, body=path.read_bytes(),
                      content_type="text/css" if path.suffix == ".css" else "application/octet-stream")

    def weigh(self, name: str, response: Any) -> None:
        """HTML of the page that `response` delivered, plus every stylesheet it links."""
        links = self.page.locator("link[rel=stylesheet]")
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        css = sum((STATIC_DIR / urlsplit(href).path.removeprefix("/static/")).stat().st_size
                  for href in hrefs)
        self.weights[name] = len(response.body()) + css

    def close(self) -> None:
        self.context.close()


def expect(lang: str, english: str) -> str:
    with translation.override(lang):
        return translation.gettext(english)


def artifacts_dir(tmp_path: Path) -> Path:
    where = Path(os.environ["PENNAME_ARTIFACTS"]) if os.environ.get("PENNAME_ARTIFACTS") else tmp_path
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.mark.parametrize(("lang", "locale", "switch"), [
    ("en", "en-US", False),
    ("zh-hans", "zh-CN", False),
    ("zh-hant", "en-US", True),  # a Tor Browser says en-US: the reader uses the switcher
])
def test_author_journey_without_javascript(server: LiveServer, browser: Any, editor_keypair: Any,
                                           tmp_path: Path, lang: str, locale: str, switch: bool):
    draft = tmp_path / "草稿.txt"
    draft.write_text("打工人的夜晚\u200b。\n", encoding="utf-8")
    visit = Visit(browser, server, locale)
    page = visit.page
    try:
        visit.weigh("start", page.goto(server.url + "/"))
        if switch:
            with page.expect_navigation() as switched:
                page.click(f"form.languages button[lang={LANG_ATTRIBUTE[lang]}]")
            visit.weigh("start", switched.value)
        assert page.get_attribute("html", "lang") == LANG_ATTRIBUTE[lang]
        assert page.inner_text("h1") == expect(lang, "Send your writing to the editors, safely")

        page.fill("#id_pen_name", "夜莺")
        with page.expect_navigation() as codename_page:
            page.click(f"button:text-is('{expect(lang, 'Get a codename')}')")
        visit.weigh("codename", codename_page.value)
        codename = page.inner_text("#codename").strip()
        assert len(codename.split()) == 7
        assert page.get_attribute("#codename", "lang") == ("en" if lang == "en" else "zh-Latn-pinyin")

        with page.expect_navigation() as home:
            page.click(f"text={expect(lang, 'I have written it down — continue')}")
        visit.weigh("home", home.value)
        page.fill("#id_title", "夜班")
        page.set_input_files("#id_files", str(draft))
        page.fill("#id_message", "第一稿")
        with page.expect_navigation() as review:
            page.click(f"button:text-is('{expect(lang, 'Upload and review')}')")
        visit.weigh("review", review.value)
        assert page.locator("form#confirm").count() == 1
        assert "草稿.txt" in page.content()
        report = expect(lang, "{count} invisible character(s), which can mark one copy of a text")
        assert report.format(count=1) in page.inner_text("main")
        shot = artifacts_dir(tmp_path) / f"review-{lang}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 1000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        with page.expect_navigation() as received:
            page.click("form#confirm button[type=submit]")
        # The confirmation redirects; the page that arrives is the "received" page.
        visit.weigh("received", received.value)
        assert page.inner_text("h1") == expect(lang, "Received")

        with page.expect_navigation() as start_again:
            page.click(f"header button:text-is('{expect(lang, 'Log out')}')")
        visit.weigh("start (logged out)", start_again.value)
        assert page.get_attribute("html", "lang") == LANG_ATTRIBUTE[lang]  # the choice stays
        page.fill("#id_codename", codename)
        with page.expect_navigation() as back:
            page.click("section[aria-labelledby=login-heading] button")
        visit.weigh("home (returning)", back.value)
        assert "夜莺" in page.inner_text("h1")
        assert page.locator("table tbody tr").count() >= 1
        state = expect(lang, "new")
        assert state in page.inner_text("table")

        foreign = [url for url in visit.requests if not url.startswith(server.url + "/")]
        assert foreign == []
        heavy = {name: size for name, size in visit.weights.items() if size >= BUDGET}
        assert heavy == {}, visit.weights
        print(f"page weight {lang}: " + ", ".join(f"{k} {v / 1024:.1f} KB" for k, v in visit.weights.items()))
    finally:
        visit.close()
    if lang == "en":
        blobs = list((server.data_dir / "store").glob("*.gpg"))
        plaintexts = [editor_keypair.decrypt(blob) for blob in blobs]
        assert "打工人的夜晚。\n".encode() in plaintexts


@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-hant"), ("zh-HK", "zh-hant"),
                                              ("zh-SG", "zh-hans")])
def test_browser_locale_picks_the_script(server: LiveServer, browser: Any, locale: str, lang: str):
    visit = Visit(browser, server, locale)
    try:
        visit.page.goto(server.url + "/")
        assert visit.page.get_attribute("html", "lang") == LANG_ATTRIBUTE[lang]
        assert visit.page.inner_text("h1") == expect(lang, "Send your writing to the editors, safely")
        current = visit.page.locator("form.languages strong[aria-current=true]")
        assert current.get_attribute("lang") == LANG_ATTRIBUTE[lang]
    finally:
        visit.close()

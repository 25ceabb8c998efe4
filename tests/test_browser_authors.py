"""A real browser with JavaScript disabled runs the author journey in each language, and the editors' one.

Debian's Chromium (never a downloaded browser) against a real gunicorn server.
Authors: new codename, upload, review, confirm, received, log out, log in again,
read an editor's reply (sent end to end with portal-editor), send a revision,
in English on a laptop and in Simplified and Traditional Chinese on a phone-sized
screen. The language comes from Accept-Language (the browser's locale) or from
the switcher, as a Tor Browser user (whose browser says "en-US") would choose it.
Editors: log in with password and TOTP code, dashboard, change a submission's state.

Every page is checked for its language, for requests to other origins (web fonts
included), for fitting the screen without sideways scrolling, and, on author
pages, for its weight: HTML and CSS under 30 KB, as sent (uncompressed). Each
page is saved as a screenshot and each journey's weights as JSON in the
artifacts directory: $PENNAME_ARTIFACTS if set, else var/test-artifacts/browser/
(git-ignored).
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import translation

from tests.browser import chromium
from tests.httpauthor import HttpAuthor
from tests.liveserver import EDITOR_PASSWORD, LiveServer, live_server, totp_once
from tests.storage import blob_files

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
STATIC_DIR = ROOT / "portal" / "static"
BUDGET = 30 * 1024
LANG_ATTRIBUTE = {"en": "en", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


def artifacts_dir() -> Path:
    where = Path(os.environ.get("PENNAME_ARTIFACTS") or ROOT / "var" / "test-artifacts" / "browser")
    where.mkdir(parents=True, exist_ok=True)
    return where


def expect(lang: str, english: str) -> str:
    with translation.override(lang):
        return translation.gettext(english)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, editor_keypair: Any) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("browser") / "data", editor_keypair.public) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


class Visit:
    """One browser context: what it requested, and each page's weight, fit and screenshot."""

    def __init__(self, browser: Any, server: LiveServer, name: str, locale: str,
                 phone: bool = False) -> None:
        self.server = server
        self.name = name
        self.phone = phone
        self.context = browser.new_context(java_script_enabled=False, locale=locale,
                                           viewport=PHONE if phone else LAPTOP, is_mobile=phone)
        # The application server leaves /static/ to nginx in production; serve it from
        # the source tree here so pages render (and weigh) as they will there.
        self.context.route(re.compile(r"/static/"), self._static)
        self.requests: list[str] = []
        self.weights: dict[str, int] = {}
        self.pages_seen = 0
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))

    def _static(self, route: Any) -> None:
        path = STATIC_DIR / urlsplit(route.request.url).path.removeprefix("/static/")
        if not path.resolve().is_relative_to(STATIC_DIR) or not path.is_file():
            route.fulfill(status=404, body="")
            return
        route.fulfill(status=200, body=path.read_bytes(),
                      content_type="text/css" if path.suffix == ".css" else "application/octet-stream")

    def arrive(self, step: str, response: Any) -> None:
        """Every page of a journey: weighed, checked to fit the screen, and photographed."""
        links = self.page.locator("link[rel=stylesheet]")
        hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
        css = sum((STATIC_DIR / urlsplit(href).path.removeprefix("/static/")).stat().st_size
                  for href in hrefs)
        self.weights[step] = len(response.body()) + css
        # The page's own viewport rule makes a phone lay it out at the phone's width ...
        width = self.page.evaluate("document.documentElement.clientWidth")
        assert width <= (PHONE if self.phone else LAPTOP)["width"], (step, width)
        # ... and nothing on it needs sideways scrolling.
        overflow = self.page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (step, overflow, width)
        self.pages_seen += 1
        shot = artifacts_dir() / f"{self.name}-{self.pages_seen:02d}-{step.replace(' ', '-')}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    def nothing_from_elsewhere(self) -> None:
        """Only this site was asked for anything, and no font was fetched from anywhere."""
        foreign = [url for url in self.requests if not url.startswith(self.server.url + "/")]
        assert foreign == []
        assert [url for url in self.requests if re.search(r"\.(woff2?|ttf|otf|eot)\b", url)] == []
        assert self.page.evaluate("document.fonts.size") == 0  # no @font-face anywhere

    def close(self) -> None:
        self.context.close()


class AuthorJourney:
    """An author's steps through the site, each checking what the author should see."""

    def __init__(self, visit: Visit, lang: str) -> None:
        self.visit, self.page, self.lang = visit, visit.page, lang

    def click_to(self, step: str, selector: str) -> None:
        with self.page.expect_navigation() as navigation:
            self.page.click(selector)
        self.visit.arrive(step, navigation.value)

    def open_start_page(self, switch: bool) -> None:
        self.visit.arrive("start", self.page.goto(self.visit.server.url + "/"))
        if switch:
            self.click_to("start", f"form.languages button[lang={LANG_ATTRIBUTE[self.lang]}]")
        assert self.page.get_attribute("html", "lang") == LANG_ATTRIBUTE[self.lang]
        assert self.page.inner_text("h1") == expect(self.lang, "Send your writing to the editors, safely")
        advice = self.page.inner_text("aside.advice")
        assert expect(self.lang, "Before you start") in advice and "Tor" in advice
        # Keyboard users see where they are.
        self.page.keyboard.press("Tab")
        outline = self.page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("", "none")

    def get_codename(self, pen_name: str) -> str:
        self.page.fill("#id_pen_name", pen_name)
        self.click_to("codename", f"button:text-is('{expect(self.lang, 'Get a codename')}')")
        codename = self.page.inner_text("#codename").strip()
        assert len(codename.split()) == 7
        kind = "en" if self.lang == "en" else "zh-Latn-pinyin"
        assert self.page.get_attribute("#codename", "lang") == kind
        phone_advice = expect(self.lang, "Write it on paper and keep it somewhere safe. Do not keep it on "
                                         "your phone, in photos, in notes or in a cloud service: a phone "
                                         "is easily searched or taken.")
        assert phone_advice in self.page.inner_text("main")
        # She types it back from her paper once before going on.
        self.page.fill("#id_check-codename", codename)
        self.click_to("home", f"button:text-is('{expect(self.lang, 'Check and continue')}')")
        return codename

    def upload(self, draft: Path, title: str, message: str) -> None:
        self.page.fill("#id_title", title)
        self.page.set_input_files("#id_files", str(draft))
        self.page.fill("#id_message", message)
        self.click_to("review", f"button:text-is('{expect(self.lang, 'Upload and review')}')")
        assert self.page.locator("form#confirm").count() == 1
        main = self.page.inner_text("main")
        assert draft.name in main
        assert expect(self.lang, "What this report means") in main
        report = expect(self.lang, "{count} invisible character(s), which can mark one copy of a text")
        assert report.format(count=1) in main

    def confirm(self) -> None:
        # The confirmation redirects; the page that arrives is the "received" page.
        self.click_to("received", "form#confirm button[type=submit]")
        assert self.page.inner_text("h1") == expect(self.lang, "Received")

    def log_out(self) -> None:
        self.click_to("logged out", f"header button:text-is('{expect(self.lang, 'Log out')}')")
        assert self.page.get_attribute("html", "lang") == LANG_ATTRIBUTE[self.lang]  # the choice stays
        assert self.page.locator("#after-logout").count() == 1  # advice: close Tor Browser
        self.click_to("start again", f"main a:text-is('{expect(self.lang, 'Back to the start page')}')")

    def log_in(self, codename: str, pen_name: str) -> None:
        self.page.fill("#id_codename", codename)
        self.click_to("home again", "section[aria-labelledby=login-heading] button")
        assert pen_name in self.page.inner_text("h1")
        assert self.page.locator("table tbody tr").count() >= 1
        assert expect(self.lang, "new") in self.page.inner_text("table")

    def read_reply(self, reply: str) -> None:
        self.click_to("thread", "table a[href^='/author/submission/']")
        thread = self.page.inner_text("ol.thread")
        assert reply in thread and expect(self.lang, "The editors") in thread
        heading = expect(self.lang, "Conversation with the editors")
        assert heading in self.page.inner_text("main")

    def upload_revision(self, draft: Path) -> None:
        self.page.fill("#id_title", "夜班（二稿）")
        self.page.set_input_files("#id_files", str(draft))
        self.click_to("revision review", f"button:text-is('{expect(self.lang, 'Upload and review')}')")
        assert self.page.locator("form#confirm").count() == 1
        assert expect(self.lang, "What this report means") in self.page.inner_text("main")
        self.click_to("revision received", "form#confirm button[type=submit]")
        assert self.page.inner_text("h1") == expect(self.lang, "Received")
        versions = self.page.locator("table tbody tr")
        assert versions.count() == 2  # both versions are listed on the piece's page


@pytest.mark.parametrize(("lang", "locale", "switch", "phone"), [
    ("en", "en-US", False, False),
    ("zh-hans", "zh-CN", False, True),
    ("zh-hant", "en-US", True, True),  # a Tor Browser says en-US: the reader uses the switcher
])
def test_author_journey_without_javascript(server: LiveServer, browser: Any, editor_keypair: Any,
                                           tmp_path: Path, lang: str, locale: str, switch: bool,
                                           phone: bool):
    draft = tmp_path / "草稿.txt"
    draft.write_text("打工人的夜晚\u200b。\n", encoding="utf-8")
    visit = Visit(browser, server, f"author-{lang}", locale, phone=phone)
    try:
        author = AuthorJourney(visit, lang)
        author.open_start_page(switch=switch)
        codename = author.get_codename("夜莺")
        author.upload(draft, title="夜班", message="第一稿")
        author.confirm()
        author.log_out()
        author.log_in(codename, "夜莺")
        # An editor replies from their own machine (portal-editor); the author reads it.
        reply = f"谢谢！请把第二段缩短。({lang})"
        editor_replies(server, editor_keypair, tmp_path, reply)
        author.read_reply(reply)
        revision = tmp_path / "草稿二.txt"
        revision.write_text("打工人的夜晚，二稿​。\n", encoding="utf-8")
        author.upload_revision(revision)

        visit.nothing_from_elsewhere()
        (artifacts_dir() / f"page-weights-{lang}.json").write_text(json.dumps(visit.weights, indent=1))
        assert {name: size for name, size in visit.weights.items() if size >= BUDGET} == {}
    finally:
        visit.close()
    if lang == "en":
        blobs = blob_files(server.data_dir)
        plaintexts = [editor_keypair.decrypt(blob) for blob in blobs]
        assert "打工人的夜晚。\n".encode() in plaintexts


@pytest.mark.parametrize(("locale", "lang"), [("zh-TW", "zh-hant"), ("zh-HK", "zh-hant"),
                                              ("zh-SG", "zh-hans")])
def test_browser_locale_picks_the_script(server: LiveServer, browser: Any, locale: str, lang: str):
    visit = Visit(browser, server, f"locale-{locale}", locale)
    try:
        visit.page.goto(server.url + "/")
        assert visit.page.get_attribute("html", "lang") == LANG_ATTRIBUTE[lang]
        assert visit.page.inner_text("h1") == expect(lang, "Send your writing to the editors, safely")
        current = visit.page.locator("form.languages strong[aria-current=true]")
        assert current.get_attribute("lang") == LANG_ATTRIBUTE[lang]
    finally:
        visit.close()


def editor_replies(server: LiveServer, editor_keypair: Any, work: Path, text: str) -> None:
    """`portal-editor reply` to the newest submission, encrypted on the editor's machine."""
    import subprocess
    import sys

    config = server.data_dir.parent / "editor-client.json"  # one login for the whole module
    env = {**os.environ, "GNUPGHOME": str(editor_keypair.home)}
    command = [sys.executable, "-m", "portal.editor_client.cli", "--config", str(config)]
    if not config.exists():
        # A code is accepted once, and the editors' browser test logs in later.
        login = subprocess.run([*command, "login", "--server", server.url, "--username", "editor",
                                "--password-stdin", "--otp",
                                totp_once(server.editor_totp_secret)],
                               input=EDITOR_PASSWORD + "\n", env=env, capture_output=True,
                               text=True, timeout=120, check=False)
        assert login.returncode == 0, login.stderr
    listed = subprocess.run([*command, "list"], env=env, capture_output=True, text=True,
                            timeout=120, check=True).stdout
    # One line per piece ("* 1a2b3c4d  in review  pen name"), its versions indented below.
    newest = re.findall(r"^[ *] ([0-9a-f]{8})  ", listed, flags=re.MULTILINE)[-1]
    reply = work / "reply.txt"
    reply.write_text(text, encoding="utf-8")
    sent = subprocess.run([*command, "reply", newest, "--file", str(reply)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert sent.returncode == 0, sent.stderr


def send_a_submission(server: LiveServer) -> str:
    """An author sends a draft over plain HTTP; the public id of the submission."""
    author = HttpAuthor(server.url)
    author.new_author("阿梅")
    body = "女工夜校的第一课。\n".encode()
    status, review = author.upload("夜校", [("稿.txt", io.BytesIO(body), len(body))])
    assert status == 200, review[:500]
    status, url, _ = author.confirm(review)
    sent = re.search(r"/author/submission/([0-9a-f-]{36})/", url)
    assert status == 200 and sent, (status, url)
    return sent.group(1)


def test_editor_journey_without_javascript(server: LiveServer, browser: Any):
    """An editor on a Hong Kong laptop: log in with a TOTP code, find the submission, take it into review."""
    lang = "zh-hant"
    public_id = send_a_submission(server)
    visit = Visit(browser, server, f"editor-{lang}", "zh-HK")
    page = visit.page
    try:
        visit.arrive("login", page.goto(server.url + "/editor/login/"))
        assert page.get_attribute("html", "lang") == LANG_ATTRIBUTE[lang]
        page.fill("#id_username", "editor")
        page.fill("#id_password", EDITOR_PASSWORD)
        page.fill("#id_otp_token", totp_once(server.editor_totp_secret))
        with page.expect_navigation() as dashboard:
            page.click(f"main button:text-is('{expect(lang, 'Log in')}')")
        visit.arrive("dashboard", dashboard.value)
        assert page.inner_text("h1") == expect(lang, "Submissions")

        with page.expect_navigation() as submission:
            page.click(f"a[href='/editor/submission/{public_id}/']")
        visit.arrive("submission", submission.value)
        assert page.inner_text("#state") == expect(lang, "new")
        page.select_option("#target", "in_review")
        with page.expect_navigation() as changed:
            page.click(f"button:text-is('{expect(lang, 'Change state')}')")
        visit.arrive("state changed", changed.value)
        assert page.inner_text("#state") == expect(lang, "in review")

        with page.expect_navigation() as back:
            page.click(f"header nav a:text-is('{expect(lang, 'Submissions')}')")
        visit.arrive("dashboard again", back.value)
        row = page.locator("tr", has=page.locator(f"a[href='/editor/submission/{public_id}/']"))
        assert expect(lang, "in review") in row.inner_text()
        visit.nothing_from_elsewhere()
    finally:
        visit.close()

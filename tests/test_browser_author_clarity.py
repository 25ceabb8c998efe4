"""The second pass over the author pages, walked in a real browser with JavaScript off.

Debian's Chromium against a real gunicorn server, on a 360×740 phone and on a
laptop, in English and in Simplified and Traditional Chinese: the places where
an author used to hesitate or lose work (issue 19, points 1, 2, 3, 6, 7, 8).
Each step asserts what she must see, most of them on the first screen, and each
page is weighed, checked for fit and for requests elsewhere, and saved as a
screenshot ($PENNAME_ARTIFACTS, else var/test-artifacts/browser/).

Strings added in this pass are translated after they are merged: until then
the Chinese journeys check structure and the English words the page shows
(`expect` falls back to English exactly as the page does).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser import chromium
from tests.liveserver import LiveServer, live_server
from tests.test_browser_authors import (
    BUDGET,
    PHONE,
    STATIC_DIR,
    Visit,
    artifacts_dir,
    editor_replies,
    expect,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, editor_keypair: Any) -> Iterator[LiveServer]:
    # Files of at most 1 MB, so a refused file is cheap to send.
    with live_server(tmp_path_factory.mktemp("clarity") / "data", editor_keypair.public,
                     extra_env={"PORTAL_MAX_UPLOAD_MB": "1"}) as live:
        yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def serve_static(route: Any) -> None:
    """/static/ from the source tree, as nginx serves it in production (scripts as scripts)."""
    path = STATIC_DIR / urlsplit(route.request.url).path.removeprefix("/static/")
    if not path.resolve().is_relative_to(STATIC_DIR) or not path.is_file():
        route.fulfill(status=404, body="")
        return
    kinds = {".css": "text/css", ".js": "text/javascript"}
    route.fulfill(status=200, body=path.read_bytes(),
                  content_type=kinds.get(path.suffix, "application/octet-stream"),
                  headers={"X-Content-Type-Options": "nosniff"})


class Walk:
    def __init__(self, visit: Visit, lang: str) -> None:
        self.visit, self.page, self.lang = visit, visit.page, lang
        self.height = visit.page.viewport_size["height"]

    def click_to(self, step: str, selector: str) -> None:
        with self.page.expect_navigation() as navigation:
            self.page.click(selector)
        self.visit.arrive(step, navigation.value)

    def goto(self, step: str, path: str) -> None:
        self.visit.arrive(step, self.page.goto(self.visit.server.url + path))

    def on_first_screen(self, selector: str) -> None:
        box = self.page.locator(selector).first.bounding_box()
        assert box is not None and box["y"] + box["height"] <= self.height, (selector, box)

    def above(self, upper: str, lower: str) -> None:
        assert self.page.locator(upper).first.bounding_box()["y"] < \
            self.page.locator(lower).first.bounding_box()["y"], (upper, lower)

    def masking(self) -> str:
        return self.page.evaluate(
            "getComputedStyle(document.getElementById('id_codename')).webkitTextSecurity")


def author_journey(walk: Walk, tmp_path: Path, server: LiveServer, editor_keypair: Any) -> None:
    page, lang = walk.page, walk.lang
    pinyin = lang != "en"

    # 2. Returning comes first; a wrong codename is told on the first screen, and kept.
    walk.goto("start", "/")
    walk.above("#login-heading", "#new-heading")
    assert page.locator("#script-warning").is_hidden()  # 7. no script ran, no warning
    safest = page.inner_text("#safest")  # computer, Android, iPhone
    assert page.locator("#safest li").count() == 3
    assert "Android" in safest and "Onion Browser" in safest and "Gold" in safest
    wrong = "aida aihao aihu aida aihao aihu aidaa" if pinyin else "angular proton wooing a b c d"
    page.fill("#id_codename", wrong)
    assert walk.masking() == "disc"
    page.click("label[for=show-codename]")
    assert walk.masking() == "none"  # "show what I typed", with no script
    walk.click_to("wrong codename", "section[aria-labelledby=login-heading] button")
    walk.on_first_screen("#login-error")
    assert page.input_value("#id_codename") == wrong and walk.masking() == "none"

    # 3. The codename word by word (characters next to pinyin), typed back to go on.
    if not pinyin:
        page.check("#style-english")
    page.fill("#id_pen_name", "夜莺")
    walk.click_to("codename", f"button:text-is('{expect(lang, 'Get a codename')}')")
    codename = page.inner_text("#codename").strip()
    words = page.locator("#codename-words li")
    assert words.count() == 7
    if pinyin:
        characters = page.locator("#codename-words .characters")
        assert characters.count() == 7
        script = "zh-Hant" if lang == "zh-hant" else "zh-Hans"
        assert characters.first.get_attribute("lang") == script
        assert all(len(c) == 2 for c in characters.all_inner_texts())
    page.fill("#id_check-codename", " ".join(reversed(codename.split())))
    walk.click_to("codename typed wrong", "form#check button")
    walk.on_first_screen("#check-error")
    page.fill("#id_check-codename", codename)
    walk.click_to("home", "form#check button")

    # 1. Her page: who is logged in, on the first screen; the codename again this session.
    walk.on_first_screen("#session")
    assert "夜莺" in page.inner_text("#session")
    walk.click_to("codename again", "#codename-reminder a")
    assert page.inner_text("#codename").strip() == codename
    walk.click_to("home again", "a.brand")  # the logo keeps her in her session
    assert page.url.endswith("/author/")

    # 6. A file over the limit is named, and the title and message she typed stay.
    big = tmp_path / "长篇.txt"
    big.write_bytes(b"x" * (1024 * 1024 + 4096))
    page.fill("#id_title", "夜班")
    page.fill("#id_message", "第一稿")
    page.set_input_files("#id_files", str(big))
    walk.click_to("file too large", f"button:text-is('{expect(lang, 'Upload and review')}')")
    walk.on_first_screen("#upload-error")
    assert "长篇.txt" in page.inner_text("#upload-error")
    assert page.input_value("#id_title") == "夜班" and page.input_value("#id_message") == "第一稿"

    # Send a draft; confirm it twice: the second says "already sent" with its reference.
    draft = tmp_path / "草稿.txt"
    draft.write_text("打工人的夜晚。\n", encoding="utf-8")
    page.set_input_files("#id_files", str(draft))
    walk.click_to("review", f"button:text-is('{expect(lang, 'Upload and review')}')")
    fields = {name: page.get_attribute(f"form#confirm input[name={name}]", "value")
              for name in ("csrfmiddlewaretoken", "pending", "key")}
    walk.click_to("received", "form#confirm button[type=submit]")
    received = page.url.split("?")[0]
    reference = re.search(r"/submission/([0-9a-f]{8})", received).group(1)
    again = page.context.request.post(
        server.url + "/author/submit/confirm/", form=fields, max_redirects=0,
        headers={"Referer": server.url + "/author/submit/", "Origin": server.url})
    assert again.status == 302 and again.headers["location"].endswith("?again=1")
    walk.goto("already sent", again.headers["location"])
    walk.on_first_screen("#already-sent")
    assert reference in page.inner_text("#already-sent")

    # 1. Replies she has not read are marked on her page, above the upload form.
    editor_replies(server, editor_keypair, tmp_path, f"请缩短第二段。({lang})")
    walk.goto("home with a reply", "/author/")
    walk.above("table.submissions", "form#submit")
    walk.on_first_screen("table.submissions .new")
    walk.click_to("thread", "table.submissions a")
    walk.goto("home, reply read", "/author/")
    assert page.locator("table.submissions .new").count() == 0

    # 6. After the idle expiry, a message is said not sent, and given back to copy.
    walk.goto("thread again", received.removeprefix(server.url))
    page.fill("#id_text", "我写了很久的回信")
    page.context.add_cookies([{"name": "penname", "value": "0" * 32, "url": server.url}])
    walk.click_to("expired", f"form#write button:text-is('{expect(lang, 'Send to the editors')}')")
    walk.on_first_screen("#expired-error")
    assert "我写了很久的回信" in page.input_value("#written textarea")
    page.fill("#id_codename", codename)
    walk.click_to("logged in again", "section[aria-labelledby=login-heading] button")

    # 1. Getting a codename while logged in asks first.
    walk.goto("start, logged in", "/")
    walk.on_first_screen("#session")
    walk.click_to("replace?", f"button:text-is('{expect(lang, 'Get a codename')}')")
    walk.on_first_screen("#replace-warning")
    walk.click_to("kept", f"main a:text-is('{expect(lang, 'No, back to your page')}')")
    assert reference in page.inner_text("table.submissions")

    # 8. Withdraw asks on a page of its own; its button is the dangerous kind.
    walk.goto("submission", received.removeprefix(server.url))
    walk.click_to("withdraw?", "#withdraw-link")
    assert page.locator("form#withdraw button.danger").count() == 1
    colour = page.evaluate("getComputedStyle(document.querySelector('form#withdraw button')).color")
    upload_colour = "rgb(253, 253, 251)"  # the upload button's text on its accent background
    assert colour != upload_colour
    walk.click_to("withdrawn", "form#withdraw button")
    assert page.inner_text("#state") == expect(lang, "withdrawn")

    # 6. Log out ends on advice to close the browser.
    walk.click_to("logged out", "header #session button")
    walk.on_first_screen("#after-logout")


@pytest.mark.parametrize(("lang", "locale", "phone"), [
    ("en", "en-US", True),
    ("en", "en-US", False),
    ("zh-hans", "zh-CN", True),
    ("zh-hant", "zh-TW", False),
])
def test_author_second_pass_without_javascript(server: LiveServer, browser: Any, editor_keypair: Any,
                                               tmp_path: Path, lang: str, locale: str, phone: bool):
    name = f"clarity-{lang}-{'phone' if phone else 'laptop'}"
    visit = Visit(browser, server, name, locale, phone=phone)
    try:
        author_journey(Walk(visit, lang), tmp_path, server, editor_keypair)
        visit.nothing_from_elsewhere()
        assert {step: size for step, size in visit.weights.items() if size >= BUDGET} == {}
    finally:
        visit.close()


@pytest.mark.parametrize("javascript", [True, False])
def test_the_warning_shows_only_when_scripts_run(server: LiveServer, browser: Any, javascript: bool):
    """With scripts on (not "Safest") the warning is shown; at "Safest" it never is."""
    context = browser.new_context(java_script_enabled=javascript, viewport=PHONE, is_mobile=True)
    context.route(re.compile(r"/static/"), serve_static)
    try:
        page = context.new_page()
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text
                else None)
        page.goto(server.url + "/")
        page.wait_for_load_state("load")
        warning = page.locator("#script-warning")
        assert warning.is_visible() is javascript
        if javascript:
            box = warning.bounding_box()
            assert box is not None and box["y"] < PHONE["height"]
        assert blocked == []  # the one script is allowed, and nothing else was tried
        page.screenshot(path=str(artifacts_dir() / f"clarity-script-{'on' if javascript else 'off'}.png"))
    finally:
        context.close()

"""The author pages never look logged out when she is in, never lose what she typed, and ask
before anything final (issue 19, points 1, 2, 3, 6, 7 and 8).

Each test states the hesitation or loss it answers, through the real views with
the Django test client (the browser journeys in test_browser_author_clarity.py
walk the same points on a phone and a laptop with JavaScript off). Every test
here fails on the pages as they were before: no header on the start page, the
upload form above her submissions, "First time here" first, the codename field
emptied after a mistake, pinyin without characters, a link that skipped the
check, a silent start page after the idle expiry, log out to the start page,
desktop-only advice, a one-tap withdraw, and "maybe sent" for a repeated confirm.
"""

from __future__ import annotations

import re

import lxml.html
import pytest
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.test import Client

from portal.correspondence import thread
from portal.crypto import codenames
from portal.submissions.models import Submission
from tests.authoring import confirm, new_author, review_of, upload

pytestmark = pytest.mark.django_db


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return " ".join(lxml.html.fromstring(response.content).text_content().split())


def main_order(response, *needles: str) -> list[int]:  # type: ignore[no-untyped-def]
    body = response.content.decode()
    main = body[body.index("<main>"):]
    return [main.index(needle) for needle in needles]


def send(client: Client, title: str = "夜班") -> Submission:
    sent = confirm(client, review_of(upload(client, [("稿.txt", "夜班。\n".encode())], title=title)))
    assert sent.status_code == 302, sent.content[:500]
    public_id = re.search(r"/author/submission/([0-9a-f-]{36})/", sent["Location"]).group(1)
    return Submission.objects.get(public_id=public_id)


def expire(client: Client) -> None:
    """The idle expiry: the server forgets the session; the browser still sends its cookie."""
    SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).delete()


# --- 1. Logged in looks logged in -------------------------------------------------------------


def test_every_author_page_says_who_is_logged_in_and_offers_log_out(client, editor):
    new_author(client, "夜莺")
    submission = send(client)
    for path in ("/", "/author/", f"/author/submission/{submission.public_id}/",
                 "/author/reply-key/"):
        page = lxml.html.fromstring(client.get(path).content)
        header = page.get_element_by_id("session")
        assert "Logged in as 夜莺" in header.text_content(), path
        logout = header.xpath(".//form[@method='post']")
        assert logout and logout[0].get("action") == "/author/logout/", path
        # The logo keeps her in her session: it leads to her page, not the start page.
        assert page.xpath("//a[@class='brand']/@href") == ["/author/"], path


def test_the_start_page_shows_the_session_it_used_to_hide(client, editor):
    new_author(client)
    start = client.get("/")
    assert "Logged in (no pen name)" in text_of(start)
    assert 'id="still-logged-in"' in start.content.decode()


def test_a_new_codename_while_logged_in_asks_first_and_keeps_the_old_identity(client, editor):
    new_author(client, "夜莺")
    first = send(client)
    asked = client.post("/author/new/", {"pen_name": "", "style": "pinyin"})
    assert asked.status_code == 200 and 'id="codename"' not in asked.content.decode()
    warning = text_of(asked)
    assert "stay with your current codename" in warning
    # Nothing was replaced: her page still lists her piece.
    assert first.short_id in client.get("/author/").content.decode()
    replaced = client.post("/author/new/", {"pen_name": "", "style": "pinyin", "replace": "yes"})
    assert 'id="codename"' in replaced.content.decode()
    assert first.short_id not in client.get("/author/").content.decode()


def test_her_pieces_and_their_new_replies_come_before_the_upload_form(client, editor):
    new_author(client)
    submission = send(client)
    thread.post(submission, "请缩短第二段。", sender="editor")
    thread.post(submission, "还有标题。", sender="editor")
    home = client.get("/author/")
    table, form = main_order(home, 'class="submissions"', 'id="submit"')
    assert table < form
    row = lxml.html.fromstring(home.content).xpath("//table[@class='submissions']//tr[td]")[0]
    assert row.xpath(".//strong[@class='new']")[0].text_content() == "2 new"
    # Opening the piece shows them; her page stops marking them, and stored no time for it.
    client.get(f"/author/submission/{submission.public_id}/")
    submission.refresh_from_db()
    assert submission.editor_messages_seen == 2
    assert 'class="new"' not in client.get("/author/").content.decode()
    thread.post(submission, "第三条。", sender="editor")
    assert ">1 new<" in client.get("/author/").content.decode()


# --- 2. Returning first, errors at the top, the codename kept ---------------------------------


def test_returning_comes_before_first_time(client, db):
    login, new = main_order(client.get("/"), 'id="login-heading"', 'id="new-heading"')
    assert login < new


def test_a_wrong_codename_is_told_at_the_top_and_what_she_typed_stays(client, db):
    typed = "shouxin zuoke baoguo aihao aihu aida zaishen"
    refused = client.post("/author/login/", {"codename": typed, "show": "yes"})
    assert refused.status_code == 403
    error, first_form = main_order(refused, 'id="login-error"', "<form")
    assert error < first_form
    field = lxml.html.fromstring(refused.content).get_element_by_id("id_codename")
    assert field.get("type") == "text" and field.get("value") == typed
    assert lxml.html.fromstring(refused.content).get_element_by_id("show-codename").checked


def test_a_spent_login_budget_is_told_at_the_top_too(client, db, settings):
    settings.PORTAL_LOGIN_FAILURES_PER_CIRCUIT = 1
    client.post("/author/login/", {"codename": "aida " * 7})
    refused = client.post("/author/login/", {"codename": "aida " * 7})
    assert refused.status_code == 429
    error, first_form = main_order(refused, 'id="login-error"', "<form")
    assert error < first_form and "Too many wrong codenames" in text_of(refused)


def test_a_spent_new_codename_budget_is_told_at_the_top(client, db, settings):
    settings.PORTAL_NEW_CODENAMES_PER_CIRCUIT = 1
    client.post("/author/new/", {"pen_name": ""})
    client.post("/author/logout/")
    refused = client.post("/author/new/", {"pen_name": "夜莺"})
    assert refused.status_code == 429
    error, first_form = main_order(refused, 'id="new-error"', "<form")
    assert error < first_form
    # What she typed stays in the form.
    assert lxml.html.fromstring(refused.content).get_element_by_id("id_pen_name").get("value") == "夜莺"


def test_the_codename_field_masks_with_css_and_the_box_unmasks_it_without_script():
    css = (settings.BASE_DIR / "portal" / "static" / "portal" / "portal.css").read_text()
    assert ".masked { -webkit-text-security: disc; }" in css
    assert ".field:has(.show-typed:checked) .masked { -webkit-text-security: none; }" in css


# --- 3. The codename word by word, with characters, typed back once ---------------------------


def test_a_pinyin_codename_is_shown_word_by_word_with_its_characters(client, db):
    page = client.post("/author/new/", {"style": "pinyin"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    tree = lxml.html.fromstring(page.content)
    codename = tree.get_element_by_id("codename").text_content().strip()
    words = tree.xpath("//ol[@id='codename-words']/li")
    assert [w.xpath("./span[@class='word']")[0].text for w in words] == codename.split()
    for word, item in zip(codename.split(), words, strict=True):
        characters = item.xpath("./span[@class='characters']")[0]
        assert characters.text == codenames.characters(word) and characters.get("lang") == "zh-Hans"
        assert len(characters.text) == 2


def test_traditional_pages_show_traditional_characters(client, db):
    page = client.post("/author/new/", {"style": "pinyin"}, HTTP_ACCEPT_LANGUAGE="zh-TW")
    tree = lxml.html.fromstring(page.content)
    items = tree.xpath("//ol[@id='codename-words']/li")
    assert len(items) == 7
    for item in items:
        word = item.xpath("./span[@class='word']")[0].text
        assert item.xpath("./span[@class='characters']")[0].text == codenames.characters(word, True)


def test_every_pinyin_word_has_two_characters_in_both_scripts():
    for word in codenames.wordlist("pinyin"):
        assert len(codenames.characters(word)) == 2 and len(codenames.characters(word, True)) == 2
    assert codenames.characters("zaisheng") == "再生" and codenames.characters("houlai", True) == "後來"
    assert codenames.characters("angular") == ""


def test_continuing_needs_the_codename_typed_back(client, db):
    page = client.post("/author/new/", {"pen_name": "夜莺"})
    codename = lxml.html.fromstring(page.content).get_element_by_id("codename").text_content().strip()
    assert "I have written it down — continue" not in page.content.decode()  # no way around it
    wrong = client.post("/author/codename/check/", {"check-codename": "aida " * 7})
    assert wrong.status_code == 400
    tree = lxml.html.fromstring(wrong.content)
    assert tree.get_element_by_id("check-error") is not None
    assert tree.get_element_by_id("id_check-codename").get("value").strip() == ("aida " * 7).strip()
    right = client.post("/author/codename/check/", {"check-codename": codename.upper()})
    assert right.status_code == 302 and right["Location"] == "/author/?checked=1"


def test_the_codename_can_be_seen_again_until_the_first_session_ends(client, db):
    page = client.post("/author/new/", {"pen_name": "夜莺"})
    codename = lxml.html.fromstring(page.content).get_element_by_id("codename").text_content().strip()
    assert 'href="/author/codename/"' in client.get("/author/").content.decode()
    again = client.get("/author/codename/")
    assert codename in again.content.decode()
    # Never on the server: neither the session store nor the database holds it.
    session = SessionStore(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value).load()
    assert codename not in repr(session)
    # A later session (log out, log in) never shows it.
    client.post("/author/logout/")
    assert client.post("/author/login/", {"codename": codename}).status_code == 302
    later = client.get("/author/codename/").content.decode()
    assert codename not in later and 'href="/author/codename/"' not in client.get("/author/").content.decode()


# --- 6. Typed work never lost ------------------------------------------------------------------


def test_an_oversized_file_is_named_and_the_title_and_message_are_kept(client, editor, settings):
    settings.PORTAL_MAX_FILE_BYTES = 100 * 1024
    new_author(client)
    refused = upload(client, [("长篇.txt", b"x" * (200 * 1024))], title="夜班", message="第一稿的说明")
    assert refused.status_code == 400
    page = lxml.html.fromstring(refused.content)
    assert "“长篇.txt” is larger than" in page.get_element_by_id("upload-error").text_content()
    assert page.get_element_by_id("id_title").get("value") == "夜班"
    assert page.get_element_by_id("id_message").text_content().strip() == "第一稿的说明"


def test_after_the_idle_expiry_a_message_is_said_not_sent_and_given_back(client, editor):
    new_author(client)
    submission = send(client)
    expire(client)
    answer = client.post(f"/author/submission/{submission.public_id}/message/",
                         {"text": "我写了很久的回信"})
    assert answer.status_code == 403
    assert "Your message was not sent" in text_of(answer)
    error, first_form = main_order(answer, 'id="expired-error"', "<form")
    assert error < first_form
    assert "我写了很久的回信" in lxml.html.fromstring(answer.content).get_element_by_id(
        "written").text_content()
    assert submission.messages.count() == 0


def test_after_the_idle_expiry_an_upload_is_said_not_sent(client, editor):
    new_author(client)
    expire(client)
    answer = upload(client, [("稿.txt", b"words")], title="夜班")
    assert answer.status_code == 403 and "Your upload was not sent" in text_of(answer)


def test_after_the_idle_expiry_a_confirm_is_said_not_sent(client, editor):
    new_author(client)
    review = review_of(upload(client, [("稿.txt", b"words")]))
    expire(client)
    answer = confirm(client, review)
    assert answer.status_code == 403 and "Your submission was not sent" in text_of(answer)
    assert Submission.objects.count() == 0


def test_a_visitor_without_any_session_is_still_sent_to_the_start_page(client, db):
    answer = client.post("/author/submit/confirm/", {"pending": "0" * 32})
    assert answer.status_code == 302 and answer["Location"] == "/"


def test_log_out_ends_on_advice_to_close_the_browser(client, db):
    new_author(client)
    out = client.post("/author/logout/", follow=True)
    assert out.redirect_chain == [("/author/logged-out/", 302)]
    advice = lxml.html.fromstring(out.content).get_element_by_id("after-logout").text_content()
    assert "close Tor Browser now" in advice and "New Identity" in advice
    assert client.get("/author/").status_code == 302  # and she really is out
    assert 'id="session"' not in out.content.decode()


# --- 7. "Safest" on every platform, and a warning only when scripts run ---------------------------


def test_safest_advice_names_each_platform(client, db):
    advice = lxml.html.fromstring(client.get("/").content).get_element_by_id("safest").text_content()
    assert "shield icon" in advice
    assert "Android" in advice and "Security Level" in advice
    assert "Onion Browser" in advice and "Gold" in advice


def test_the_script_warning_is_hidden_and_only_its_script_is_allowed(client, db):
    response = client.get("/")
    page = lxml.html.fromstring(response.content)
    assert page.get_element_by_id("script-warning").get("hidden") is not None
    assert page.xpath("//script/@src") == ["/static/portal/noscript-warning.js"]
    assert not [s for s in page.xpath("//script") if (s.text or "").strip()]  # nothing inline
    policy = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "http://testserver/static/portal/noscript-warning.js"
    script = (settings.BASE_DIR / "portal" / "static" / "portal" / "noscript-warning.js").read_text()
    assert 'getElementById("script-warning")' in script and "fetch" not in script


# --- 8. Final steps are asked, and a repeated confirm is answered ---------------------------------


def test_withdraw_asks_on_its_own_page_before_anything_changes(client, editor):
    new_author(client)
    submission = send(client)
    piece = client.get(f"/author/submission/{submission.public_id}/").content.decode()
    # On the piece's page withdraw is a link to a question, not a form that acts.
    assert f'action="/author/submission/{submission.public_id}/withdraw/"' not in piece
    asked = client.get(f"/author/submission/{submission.public_id}/withdraw/")
    assert asked.status_code == 200 and "It cannot be undone" in text_of(asked)
    button = lxml.html.fromstring(asked.content).xpath("//form[@id='withdraw']//button")[0]
    assert "danger" in button.get("class")
    submission.refresh_from_db()
    assert submission.state == Submission.State.NEW
    client.post(f"/author/submission/{submission.public_id}/withdraw/")
    submission.refresh_from_db()
    assert submission.state == Submission.State.WITHDRAWN


def test_dangerous_buttons_do_not_look_like_the_upload_button():
    css = (settings.BASE_DIR / "portal" / "static" / "portal" / "portal.css").read_text()
    assert re.search(r"button\.danger[^{]*\{[^}]*color: var\(--err\)", css)


# --- 8. Her own titles, which the server cannot read ---------------------------------------------

TITLE_CANARY = "TITLE-CANARY-夜班-7f3e"


def test_her_titles_show_on_her_pages_only_while_her_codename_unlocks_them(client, editor,
                                                                          data_dir):
    from portal.correspondence import unlock
    from portal.submissions.models import TitleCopy
    from tests.leaks import database_dump, found_in, found_in_files

    codename = new_author(client)
    submission = send(client, title=TITLE_CANARY)
    home = lxml.html.fromstring(client.get("/author/").content)
    link = home.xpath("//table[@class='submissions']//a")[0]
    assert link.text_content() == TITLE_CANARY
    piece = client.get(f"/author/submission/{submission.public_id}/")
    assert lxml.html.fromstring(piece.content).get_element_by_id("title").text == TITLE_CANARY
    # At rest: an OpenPGP message to her reply key, nothing readable anywhere.
    copy = TitleCopy.objects.get(submission=submission)
    assert copy.reply_key == submission.author.reply_keys.get().fingerprint
    assert bytes(copy.ciphertext)[:1] in (b"\x84", b"\x85", b"\xc1")  # a public-key packet
    assert not found_in(TITLE_CANARY, bytes(copy.ciphertext))
    assert not found_in(TITLE_CANARY, database_dump())
    assert found_in_files(TITLE_CANARY, data_dir) == []
    # Without the codename's secret (another session's cookie is gone), references only.
    del client.cookies[unlock.COOKIE]
    assert TITLE_CANARY not in client.get("/author/").content.decode()
    assert submission.short_id in client.get("/author/").content.decode()
    client.post("/author/logout/")
    client.post("/author/login/", {"codename": codename})
    assert TITLE_CANARY in client.get("/author/").content.decode()
    # Deleting the piece deletes its title copy with it.
    client.post(f"/author/submission/{submission.public_id}/delete/", {"confirm": "yes"})
    assert not TitleCopy.objects.exists()

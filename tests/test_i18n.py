"""Three languages: complete catalogues, the right language for each reader, no English left over.

Authors read Simplified or Traditional Chinese first; an English sentence left
in a Chinese page is advice they may not understand. These tests hold the
catalogues complete, the Accept-Language mapping right for each region, the
switcher working without JavaScript and without a script-readable cookie, and
every author page (errors and cleaning reports included) free of English.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.test import Client
from django.utils import translation

from portal.editor_client import wording
from portal.sanitize import messages as report_messages
from portal.sanitize.messages import KIND_NAMES
from portal.sanitize.report import Finding
from tests.authoring import confirm, new_author, review_of, upload
from tests.catalogues import CATALOGUES, english_sentences, messages, visible_text

CJK = re.compile(r"[\u4e00-\u9fff]")
LANG_ATTRIBUTE = {"en": "en", "zh-hans": "zh-Hans", "zh-hant": "zh-Hant"}


# --- Catalogues ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", CATALOGUES)
def test_every_message_in_the_catalogue_is_translated(lang):
    entries = messages(lang)
    assert len(entries) > 250
    untranslated = [e.msgid for e in entries if not e.obsolete and not all(e.msgstr)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == [] and fuzzy == []


@pytest.mark.parametrize("lang", CATALOGUES)
def test_report_sentences_and_file_kinds_are_in_the_catalogue(lang):
    """makemessages found the gettext_noop markers in portal.sanitize and the file kinds."""
    catalogue = {e.msgid for e in messages(lang)}
    wordings = [*report_messages.REMOVED.values(), *report_messages.NOTES.values(),
                *report_messages.REFUSED.values(), report_messages.GENERIC,
                report_messages.GENERIC_REFUSED]
    sources = [text for w in wordings for text in (w.author, w.editors)]
    sources += [*KIND_NAMES.values(), *wording.EDITOR_STRINGS]
    assert [s for s in sources if s not in catalogue] == []


@pytest.mark.parametrize("lang", CATALOGUES)
def test_every_report_sentence_is_shown_translated(lang):
    finding = Finding("x", "文档.docx", 2)
    renderers = (
        (report_messages.REMOVED, report_messages.removed_sentence),
        (report_messages.REMOVED, report_messages.removed_kind),
        (report_messages.NOTES, report_messages.note_sentence),
        (report_messages.NOTES, report_messages.note_kind),
    )
    with translation.override(lang):
        for table, render in renderers:
            for code in table:
                sentence = render(Finding(code, finding.detail, finding.count), translation.gettext)
                assert CJK.search(sentence.replace(finding.detail, "")), (code, sentence)
        for code in report_messages.REFUSED:
            sentence = report_messages.refusal_sentence(code, "x", translation.gettext)
            assert CJK.search(sentence), (code, sentence)
            assert CJK.search(report_messages.refusal_kind(code, translation.gettext)), code
        for english in KIND_NAMES.values():
            assert CJK.search(translation.gettext(english)), english


def test_traditional_is_not_a_mechanical_conversion():
    """Taiwan and Hong Kong words where they differ from the mainland's (see docs/glossary.md)."""
    with translation.override("zh-hant"):
        assert "檔案" in translation.gettext("Files")
        assert "伺服器" in translation.gettext("The server could not store your upload right now. "
                                            "Nothing was kept. Please try again later.")
        assert "登入" == translation.gettext("Log in")
        assert "金鑰" in translation.gettext("OpenPGP keys")
    with translation.override("zh-hans"):
        assert "文件" in translation.gettext("Files")
        assert "服务器" in translation.gettext("The server could not store your upload right now. "
                                            "Nothing was kept. Please try again later.")


# --- Which language a reader gets ------------------------------------------------------------


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-CN,zh;q=0.9,en;q=0.5", "zh-hans"),
    ("zh-SG", "zh-hans"),
    ("zh-MY", "zh-hans"),
    ("zh-Hans-CN", "zh-hans"),
    ("zh", "zh-hans"),
    ("zh-TW,zh;q=0.9", "zh-hant"),
    ("zh-HK", "zh-hant"),
    ("zh-MO", "zh-hant"),
    ("zh-Hant-HK", "zh-hant"),
    ("en-US,en;q=0.5", "en"),
    ("fr-FR", "en"),
    ("", "en"),
])
@pytest.mark.django_db
def test_accept_language_picks_the_script_for_each_region(header, expected):
    response = Client(HTTP_ACCEPT_LANGUAGE=header).get("/")
    assert response["Content-Language"] == expected
    assert f'<html lang="{LANG_ATTRIBUTE[expected]}">' in response.content.decode()


@pytest.mark.django_db
def test_switcher_works_without_javascript_and_its_cookie_is_strict(data_dir):
    client = Client(HTTP_ACCEPT_LANGUAGE="en-US")
    page = client.get("/").content.decode()
    assert 'action="/language/"' in page
    for lang, tag in (("zh-hans", "zh-Hans"), ("zh-hant", "zh-Hant")):
        assert f'name="language" value="{lang}" lang="{tag}"' in page
    response = client.post("/language/", {"language": "zh-hant", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    cookie = response.cookies["penname_language"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    assert not cookie["max-age"] and not cookie["expires"]  # gone when the browser closes
    page = client.get("/").content.decode()
    assert '<html lang="zh-Hant">' in page and "取得暗號" in page
    # The chosen language outlives logging in and out (the session is flushed, the cookie is not).
    codename = new_author(client)
    client.post("/author/logout/")
    assert client.post("/author/login/", {"codename": codename}).status_code == 302
    assert "登出" in client.get("/author/").content.decode()


@pytest.mark.django_db
def test_switcher_refuses_other_sites_and_get(data_dir):
    client = Client()
    response = client.post("/language/", {"language": "zh-hans", "next": "https://example.org/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/language/?language=zh-hans").status_code == 405


@pytest.mark.django_db
def test_switcher_on_a_page_that_answered_a_form_returns_to_a_safe_page(data_dir):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-TW")
    page = client.post("/author/login/", {"codename": "wrong " * 7}).content.decode()
    assert 'name="next" value="/"' in page


@pytest.mark.django_db
def test_codename_and_review_pages_have_no_switcher(data_dir, editor):
    """Switching reloads the page; these pages show a codename or an upload key only once."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    response = client.post("/author/new/", {"pen_name": ""})
    assert 'action="/language/"' not in response.content.decode()
    review = review_of(upload(client, [("稿.txt", "夜班。\n".encode())]))
    assert 'action="/language/"' not in review.html


# --- Codename kinds ----------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "style", "expected"), [
    ("zh-TW", "", "pinyin"), ("zh-CN", "", "pinyin"), ("en-US", "", "english"),
    ("zh-CN", "english", "english"), ("en-US", "pinyin", "pinyin"),
])
@pytest.mark.django_db
def test_codename_kind_follows_the_language_unless_chosen(data_dir, header, style, expected):
    from portal.crypto import codenames

    client = Client(HTTP_ACCEPT_LANGUAGE=header)
    page = client.get("/").content.decode()
    default = "pinyin" if header.startswith("zh") else "english"
    assert re.search(rf'value="{default}" id="style-{default}" checked', page)
    response = client.post("/author/new/", {"pen_name": "", "style": style})
    body = response.content.decode()
    codename = re.search(r'id="codename">([^<]+)<', body).group(1).strip()
    assert codenames.style_of(codename) == expected
    assert set(codename.split()) <= set(codenames.wordlist(expected))
    lang = "zh-Latn-pinyin" if expected == "pinyin" else "en"
    assert f'lang="{lang}" id="codename"' in body


@pytest.mark.django_db
def test_unknown_codename_kind_is_refused_in_the_readers_language(data_dir):
    response = Client(HTTP_ACCEPT_LANGUAGE="zh-HK").post("/author/new/", {"style": "klingon"})
    assert response.status_code == 400
    assert "請選擇拼音詞或英文單字" in response.content.decode()


@pytest.mark.django_db
def test_pinyin_codename_logs_in_with_the_slips_chinese_speakers_make(data_dir):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-TW")
    body = client.post("/author/new/", {"pen_name": "阿梅"}).content.decode()
    codename = re.search(r'id="codename">([^<]+)<', body).group(1).strip()
    client.post("/author/logout/")
    typed = "　".join(w.replace("zh", "z").replace("sh", "s").replace("ch", "c").upper()
                     for w in codename.split())  # full-width spaces, as a Chinese IME types them
    assert client.post("/author/login/", {"codename": typed}).status_code == 302
    assert "阿梅" in client.get("/author/").content.decode()


# --- No English left on a Chinese page -----------------------------------------------------------


def _docx_with_metadata() -> bytes:
    from docx import Document

    document = Document()
    document.add_paragraph("女工夜校的第一课。")
    document.core_properties.author = "王小明"
    document.core_properties.last_modified_by = "王小明"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _jpeg_with_exif() -> bytes:
    from PIL import Image

    image = Image.new("RGB", (16, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[0x013B] = "Wang"  # Artist (EXIF text is ASCII)
    exif[0x0110] = "Phone 12"  # Model
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("稿.txt", "夜班。")
    return out.getvalue()


def author_pages(client: Client) -> dict[str, str]:
    """Every author page a reader meets, including its error and report states."""
    pages: dict[str, str] = {}

    def keep(name: str, response) -> None:  # type: ignore[no-untyped-def]
        pages[name] = response.content.decode()

    keep("start", client.get("/"))
    keep("start: refused login", client.post("/author/login/", {"codename": "wrong " * 7}))
    keep("start: login too long", client.post("/author/login/", {"codename": "x" * 500}))
    keep("start: pen name too long", client.post("/author/new/", {"pen_name": "名" * 200}))
    keep("codename", client.post("/author/new/", {"pen_name": "夜莺"}))
    keep("home", client.get("/author/"))
    keep("home: no title", upload(client, [("稿.txt", "夜班。\n".encode())], title=""))
    keep("home: empty file", upload(client, [("空.txt", b"")]))
    refused = review_of(upload(client, [("稿件.zip", _zip())], title="压缩包"))
    keep("review: every file refused", confirm(client, refused))
    dirty = upload(client, [("草稿.docx", _docx_with_metadata()), ("照片.jpg", _jpeg_with_exif()),
                            ("夜班.txt", "打工人的夜晚\u200b。\n".encode()), ("稿件.zip", _zip())],
                   title="夜班", message="第一稿")
    review = review_of(dirty)
    pages["review"] = review.html
    received = confirm(client, review)
    assert received.status_code == 302, received.content[:300]
    keep("received", client.get(received["Location"]))
    keep("home: with a submission", client.get("/author/"))
    again = client.post("/author/submit/confirm/", {"pending": review.pending, "key": review.key})
    keep("received: already sent", client.get(again["Location"]))
    keep("home: upload gone", client.post("/author/submit/confirm/", {
        "pending": "0" * 32, "key": review.key}))
    keep("not found", client.get("/no-such-page/"))
    # Pages that ask before something final, or say what was not done.
    piece = received["Location"].split("?")[0]
    keep("withdraw?", client.get(piece + "withdraw/"))
    keep("start: logged in", client.get("/"))
    keep("new identity?", client.post("/author/new/", {"pen_name": ""}))
    keep("codename again", client.get("/author/codename/"))
    keep("codename typed wrong", client.post("/author/codename/check/", {"check-codename": "x"}))
    keep("logged out", client.post("/author/logout/", follow=True))
    keep("codename gone", client.get("/author/codename/", follow=True))
    csrf = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE=client.defaults["HTTP_ACCEPT_LANGUAGE"])
    keep("form expired", csrf.post("/author/login/", {"codename": "x"}))
    return pages


@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant"])
@pytest.mark.django_db
def test_author_pages_contain_no_untranslated_english(data_dir, editor, lang):
    header = {"zh-hans": "zh-CN,zh;q=0.9", "zh-hant": "zh-TW,zh;q=0.9"}[lang]
    pages = author_pages(Client(HTTP_ACCEPT_LANGUAGE=header))
    review_text = " ".join(visible_text(pages["review"]))
    # The report really is there, in this language: something removed, a refusal, a note.
    with translation.override(lang):
        for source in (report_messages.REMOVED["author-name"].author,
                       report_messages.REFUSED["archive"].author,
                       report_messages.NOTES["writing-style"].author):
            assert translation.gettext(source).split("{")[0].rstrip("“「") in review_text
    # Quoted from the test's own files: the software that python-docx's template names.
    allowed = ("Microsoft Macintosh Word",)
    leftovers = {name: english_sentences(page, allowed) for name, page in pages.items()}
    assert {name: found for name, found in leftovers.items() if found} == {}
    for name, page in pages.items():
        assert f'<html lang="{LANG_ATTRIBUTE[lang]}">' in page, name


@pytest.mark.django_db
def test_the_english_detector_sees_english(data_dir, editor):
    """The same pages in English are full of English: the check above can fail."""
    pages = author_pages(Client(HTTP_ACCEPT_LANGUAGE="en"))
    assert all(english_sentences(page) for page in pages.values())


@pytest.mark.parametrize("lang", ["en", "zh-hans", "zh-hant"])
@pytest.mark.django_db
def test_author_pages_stay_under_30_kb_with_their_css(data_dir, editor, lang):
    """Every author page, error and report states included, with the stylesheets it links."""
    from django.conf import settings

    static = settings.BASE_DIR / "portal" / "static"

    def weight(page: str) -> int:
        sheets = re.findall(r'<link rel="stylesheet" href="/static/([^"?]+)"', page)
        assert sheets, "an author page without its stylesheet"
        return len(page.encode()) + sum((static / sheet).stat().st_size for sheet in sheets)

    weights = {name: weight(page) for name, page in author_pages(Client(HTTP_ACCEPT_LANGUAGE=lang)).items()}
    assert {name: size for name, size in weights.items() if size >= 30 * 1024} == {}


@pytest.mark.django_db
def test_example_codename_words_on_the_start_page_are_real_words(data_dir):
    from portal.crypto import codenames

    page = Client().get("/").content.decode()
    for style, lang in (("pinyin", "zh-Latn-pinyin"), ("english", "en")):
        example = re.search(rf'<span lang="{lang}">([a-z ]+) …</span>', page).group(1).split()
        assert len(example) == 3 and set(example) <= set(codenames.wordlist(style))


@pytest.mark.parametrize("lang", ["zh-hans", "zh-hant"])
@pytest.mark.django_db
def test_editor_pages_contain_no_untranslated_english(data_dir, editor_keypair, lang):
    from portal.editors.models import Editor
    from tests.editorial.editors import make_editor, verified_client

    user = make_editor("mei", Editor.Role.MANAGING, key=editor_keypair.public)
    author = Client()
    new_author(author)
    confirm(author, review_of(upload(author, [("稿.txt", "夜班。\n".encode())])))
    pages = {"login": Client(HTTP_ACCEPT_LANGUAGE=lang).get("/editor/login/").content.decode()}
    client = verified_client(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = lang
    from portal.submissions.models import Submission

    submission = f"/editor/submission/{Submission.objects.get().public_id}/"
    for name, url in (("dashboard", "/editor/"), ("submission", submission), ("keys", "/editor/keys/"),
                      ("editors", "/editor/editors/"), ("account", "/editor/account/")):
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()
    # Words that stay in English on purpose: program names, and the kind of key.
    allowed = ("portal-editor note", "Google Authenticator")
    leftovers = {name: english_sentences(page, allowed) for name, page in pages.items()}
    assert {name: found for name, found in leftovers.items() if found} == {}

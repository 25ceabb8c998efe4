"""Pages a reader on a phone, a screen reader or a keyboard can use, and that load no fonts.

Authors read on small screens over slow links, some with a screen reader; Tor
Browser at "Safest" blocks web fonts. These tests hold the stylesheet to system
fonts for each script and to readable contrast in both colour schemes, and
every form on the author pages (in their error states too) to labelled
controls whose errors are tied to them. The browser tests check layout, focus
and weight on the real pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html
import pytest
from django.test import Client

from tests.test_i18n import author_pages

STATIC = Path(__file__).resolve().parent.parent / "portal" / "static" / "portal"
STYLESHEETS = sorted(STATIC.glob("*.css"))


# --- Fonts --------------------------------------------------------------------------------


@pytest.mark.parametrize("sheet", STYLESHEETS, ids=lambda p: p.name)
def test_stylesheets_load_no_fonts_or_anything_else(sheet):
    css = sheet.read_text()
    assert "@font-face" not in css and "@import" not in css and "url(" not in css


def font_stack(css: str, selector: str) -> list[str]:
    rule = re.search(re.escape(selector) + r"[^{]*\{[^}]*font-family:\s*([^;}]+)", css)
    assert rule, selector
    return [name.strip().strip('"') for name in rule.group(1).split(",")]


@pytest.mark.parametrize(("lang", "fonts"), [
    ("zh-Hans", {"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC"}),
    ("zh-Hant", {"PingFang TC", "Microsoft JhengHei", "Noto Sans CJK TC"}),
])
def test_each_script_has_system_fonts_on_every_platform(lang, fonts):
    """Apple, Windows and Android/Linux (Tor Browser's bundled Noto) each find a font of the script."""
    stack = font_stack((STATIC / "portal.css").read_text(), f"html[lang={lang}] body")
    assert fonts <= set(stack) and stack[-1] == "sans-serif"
    other = {"zh-Hans": " TC", "zh-Hant": " SC"}[lang]
    assert not [name for name in stack if name.endswith(other)]  # never the other script's forms


# --- Contrast -------------------------------------------------------------------------------


def luminance(colour: str) -> float:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def colour_schemes() -> dict[str, dict[str, str]]:
    css = (STATIC / "portal.css").read_text()
    light = re.search(r"^:root \{([^}]*)\}", css, re.M)
    dark = re.search(r"prefers-color-scheme: dark\) \{ :root \{([^}]*)\}", css)
    assert light and dark
    return {name: dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", block.group(1)))
            for name, block in (("light", light), ("dark", dark))}


def test_contrast_calculation_matches_known_values():
    assert round(contrast("#000", "#fff"), 1) == 21.0
    assert round(contrast("#777", "#fff"), 2) == 4.48  # just below WCAG AA for text


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_and_controls_meet_wcag_aa_contrast(scheme):
    colours = colour_schemes()[scheme]
    # Text (4.5:1): body text, links and headings, button labels, errors, confirmations,
    # and the same on the tinted advice boxes.
    text_pairs = [("fg", "bg"), ("accent", "bg"), ("bg", "accent"), ("err", "bg"), ("ok", "bg"),
                  ("fg", "soft"), ("accent", "soft"), ("err", "soft")]
    low = {f"{a} on {b}": round(contrast(colours[a], colours[b]), 2) for a, b in text_pairs
           if contrast(colours[a], colours[b]) < 4.5}
    assert low == {}
    # Form field borders and the focus ring (3:1).
    assert contrast("#888", colours["bg"]) >= 3 and contrast(colours["accent"], colours["bg"]) >= 3


def test_keyboard_focus_is_always_visible():
    css = (STATIC / "portal.css").read_text()
    rule = re.search(r":focus-visible\s*\{([^}]*)\}", css)
    assert rule and re.search(r"outline:\s*[2-9]px solid", rule.group(1))
    assert not re.search(r"outline:\s*(none|0)\b", css)


# --- Forms -------------------------------------------------------------------------------------


def form_problems(page: str) -> list[str]:
    """Unlabelled controls, broken aria references, and errors no control points at."""
    root = lxml.html.document_fromstring(page)
    ids = {element.get("id") for element in root.iter() if element.get("id")}
    labelled = {label.get("for") for label in root.iter("label")}
    described: set[str] = set()
    problems = []
    for element in root.iter():
        for ref in (element.get("aria-describedby") or "").split():
            described.add(ref)
            if ref not in ids:
                problems.append(f"aria-describedby points at missing #{ref}")
    for control in root.xpath("//input[not(@type='hidden')] | //select | //textarea"):
        name = control.get("name")
        if not (control.get("id") in labelled or control.get("aria-label")
                or control.xpath("ancestor::label")):
            problems.append(f"no label for {control.tag} {name}")
        if control.get("aria-invalid") == "true" and not control.get("aria-describedby"):
            problems.append(f"{name} is invalid but points at no error")
    for button in root.iter("button"):
        if not (button.text_content().strip() or button.get("aria-label")):
            problems.append("a button without a name")
    for error in root.xpath("//*[contains(concat(' ', @class, ' '), ' errorlist ')"
                            " or contains(concat(' ', @class, ' '), ' error ')]"):
        spoken_at_once = error.get("role") == "alert" and not error.xpath("ancestor::form")
        if not spoken_at_once and error.get("id") not in described:
            problems.append(f"error not tied to its field: {error.text_content().strip()[:60]}")
    return problems


def test_form_problems_are_found():
    """The check above sees an unlabelled control and an error nobody points at."""
    page = ('<html lang="en"><body><form><input type="text" name="x" aria-describedby="gone">'
            '<ul class="errorlist"><li>Wrong</li></ul></form></body></html>')
    assert len(form_problems(page)) == 3


@pytest.mark.django_db
def test_every_author_form_is_labelled_and_its_errors_are_tied_to_fields(data_dir, editor):
    pages = author_pages(Client(HTTP_ACCEPT_LANGUAGE="zh-CN"))
    problems = {name: found for name, page in pages.items() if (found := form_problems(page))}
    assert problems == {}


@pytest.mark.django_db
def test_editor_login_is_labelled_and_its_error_is_tied_to_the_form(data_dir):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-TW")
    pages = {"login": client.get("/editor/login/").content.decode(),
             "refused": client.post("/editor/login/", {"username": "nobody", "password": "x" * 12,
                                                       "otp_token": "123456"}).content.decode()}
    assert 'aria-describedby="login-error"' in pages["refused"]
    assert {name: found for name, page in pages.items() if (found := form_problems(page))} == {}

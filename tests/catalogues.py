"""Read gettext catalogues and rendered pages the way the i18n tests need them.

The .po parser is deliberately small (no polib): entries of msgctxt, msgid,
msgid_plural and msgstr / msgstr[n], with their flags; enough to say whether
every message is translated. The page reader returns what a reader sees (text
and the attributes a screen reader speaks), leaving out text that the page
itself marks as being in another language (lang="en" on an English example
codename, the switcher's "English" entry).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html

LOCALE_DIR = Path(__file__).resolve().parent.parent / "portal" / "locale"
CATALOGUES = {"zh-hans": "zh_Hans", "zh-hant": "zh_Hant"}


@dataclass
class Entry:
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(literal: str) -> str:
    value = ast.literal_eval(literal)
    assert isinstance(value, str)
    return value


def parse_po(path: Path) -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int] | None = None

    def finish() -> None:
        nonlocal entry, target
        if target is not None:
            entries.append(entry)
        entry, target = Entry(), None

    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")$", line)
        if match:
            keyword, index, literal = match.groups()
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                while len(entry.msgstr) <= target[1]:
                    entry.msgstr.append("")
            else:
                target = (keyword, 0)
                setattr(entry, keyword, "")
            line = literal
        if target is None or not line.startswith('"'):
            raise ValueError(f"{path}: cannot read line {raw!r}")
        text = _unquote(line)
        if target[0] == "msgstr":
            entry.msgstr[target[1]] += text
        else:
            setattr(entry, target[0], (getattr(entry, target[0]) or "") + text)
    finish()
    return entries


def messages(lang: str) -> list[Entry]:
    """The catalogue's messages (without the header entry)."""
    path = LOCALE_DIR / CATALOGUES[lang] / "LC_MESSAGES" / "django.po"
    return [e for e in parse_po(path) if e.msgid]


# --- What a reader of a page sees -------------------------------------------------------

SPOKEN_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder")
# Four or more Latin-script words in a row, as in a sentence (a comma-separated list of
# property names that a report quotes from a file is data, not an untranslated sentence).
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’-]*(?: +[A-Za-z][A-Za-z'’-]*){3,}")


def visible_text(page: str) -> list[str]:
    """Text nodes and spoken attributes in the page's own language."""
    root = lxml.html.document_fromstring(page)
    page_lang = (root.get("lang") or "").lower()
    pieces: list[str] = []

    def walk(element: lxml.html.HtmlElement, lang: str) -> None:
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "template"):
            return
        lang = (element.get("lang") or lang).lower()
        if lang == page_lang:
            pieces.append(element.text or "")
            pieces.extend(element.get(name, "") for name in SPOKEN_ATTRIBUTES)
            if element.tag == "input" and element.get("type") in ("submit", "button"):
                pieces.append(element.get("value", ""))
        for child in element:
            walk(child, lang)
            if lang == page_lang:
                pieces.append(child.tail or "")

    walk(root, page_lang)
    return [" ".join(piece.split()) for piece in pieces if piece.strip()]


def english_sentences(page: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Runs of four or more English words in the page's own language (should be none)."""
    found = []
    for text in visible_text(page):
        for name in allowed:
            text = text.replace(name, " ")
        found += ENGLISH_RUN.findall(text)
    return found

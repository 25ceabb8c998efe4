"""OpenDocument content and styles: accept tracked changes, drop what names people.

Threat: content.xml and styles.xml carry more than the text. Tracked changes
keep deleted paragraphs and every reviewer's name with the second they worked;
annotations keep comments and their authors; LibreOffice stamps each paragraph
and run with the editing session's rsid; fields print the author, the printer
or the file name; language attributes say which languages the author writes;
links can point to files on the author's disk; macros and linked sections
reach outside the document; user fields and variables keep values nobody
sees (formats/odf/fields.py). This pass accepts every change, removes the rest,
and reports what it found. Pictures inlined as base64 go through the picture
cleaner like any other.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from lxml import etree

from ...errors import CleaningRefused
from ..zipdoc import (
    WEB_SCHEMES,
    Tally,
    has_local_path,
    is_attached,
    looks_like_image_file_name,
    remove_element,
    split_tag,
    unwrap_element,
)
from .fields import resolve_fields

OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
STYLE = "urn:oasis:names:tc:opendocument:xmlns:style:1.0"
FO = "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
NUMBER = "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
SCRIPT = "urn:oasis:names:tc:opendocument:xmlns:script:1.0"
DC = "http://purl.org/dc/elements/1.1/"
XLINK = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OFFICEOOO = "http://openoffice.org/2009/office"

_LANGUAGE_NAMESPACES = frozenset({FO, STYLE, NUMBER, TABLE, TEXT})
_SCRIPT_ATTRS = frozenset({"script", "script-asian", "script-complex"})
_CHANGE_MARKS = frozenset({(TEXT, "change"), (TEXT, "change-start"), (TEXT, "change-end")})
_ANNOTATIONS = frozenset({"annotation", "annotation-end"})
# Fields that show a person, a machine, a file or a date the document recorded.
_NAME_FIELDS = frozenset({
    "author-name", "author-initials", "initial-creator", "creator", "printed-by",
    "file-name", "template-name", "user-defined", "creation-date", "creation-time",
    "modification-date", "modification-time", "print-date", "print-time",
    "editing-duration", "editing-cycles",
})
_EXTERNAL_SOURCES = frozenset({
    (OFFICE, "dde-source"), (TEXT, "dde-connection-decls"), (TABLE, "dde-links"),
    (TABLE, "table-source"), (TEXT, "section-source"),
})
_PROGRAMS = frozenset({(DRAW, "applet"), (DRAW, "plugin")})
_SCRIPT_HOLDERS = frozenset({(OFFICE, "scripts"), (OFFICE, "event-listeners")})
# Elements that disappear when the picture, object or file they show is gone.
_SHOWS_A_FILE = frozenset({
    "image", "object", "object-ole", "fill-image", "background-image", "plugin", "applet",
    "floating-frame", "sound", "font-face-uri", "alphabetical-index-auto-mark-file",
    "section-source", "table-source", "dde-source",
})

_INTERNAL_PATH = re.compile(r"(?:\./)?(?:Pictures/|ObjectReplacements/|Object \d+(?:/|$))")

EmbeddedCleaner = Callable[[bytes, str], bytes | None]
# Where a link inside the package leads: "kept", "dropped" (by this cleaning) or "absent".
Locator = Callable[[str], str]


def clean_odf_tree(
    root: etree._Element, tally: Tally, locate: Locator,
    clean_inline: EmbeddedCleaner,
) -> None:
    """Every pass, in order, over one content.xml or styles.xml."""
    _accept_tracked_changes(root, tally)
    _remove_annotations(root, tally)
    _remove_people_and_fields(root, tally)
    resolve_fields(root, tally)
    _remove_programs_and_sources(root, tally)
    _clean_inline_pictures(root, tally, clean_inline)
    _scrub_attributes(root, tally, locate)
    _remove_empty_frames(root)


def _accept_tracked_changes(root: etree._Element, tally: Tally) -> None:
    """Deleted text lives in the change records: dropping them accepts every change."""
    insertions = deletions = formatting = 0
    for records in [n for n in root.iter() if split_tag(n.tag)[1] == "tracked-changes"
                    and split_tag(n.tag)[0] in (TEXT, TABLE)]:
        for node in records.iter():
            _, local = split_tag(node.tag)
            if local in ("insertion", "cell-content-change", "movement"):
                insertions += 1
            elif local == "deletion":
                deletions += 1
            elif local == "format-change":
                formatting += 1
            elif local == "creator" and split_tag(node.tag)[0] == DC:
                tally.add_names("tracked-change-author", [node.text or ""])
        remove_element(records)
    for mark in [n for n in root.iter() if split_tag(n.tag) in _CHANGE_MARKS]:
        remove_element(mark)
    tally.add("tracked-insertions-accepted", count=insertions)
    tally.add("tracked-deletions-removed", count=deletions)
    tally.add("tracked-formatting-accepted", count=formatting)


def _remove_annotations(root: etree._Element, tally: Tally) -> None:
    count = 0
    for node in [n for n in root.iter() if split_tag(n.tag)[1] in _ANNOTATIONS
                 and split_tag(n.tag)[0] in (OFFICE, OFFICEOOO)]:
        if split_tag(node.tag)[1] == "annotation":
            count += 1
            for creator in node.iter(f"{{{DC}}}creator"):
                tally.add_names("comment-author", [creator.text or ""])
        if is_attached(node, root):
            remove_element(node)
    tally.add("annotations", count=count)


def _remove_people_and_fields(root: etree._Element, tally: Tally) -> None:
    fields = 0
    for node in list(root.iter()):
        ns, local = split_tag(node.tag)
        if not is_attached(node, root):
            continue
        if (ns, local) == (DC, "creator"):
            tally.add_names("author-name", [node.text or ""])
        elif (ns, local) == (DC, "date"):
            tally.add("document-dates")
        elif ns == TEXT and (local in _NAME_FIELDS or local.startswith("sender-")):
            fields += 1
        else:
            continue
        remove_element(node)
    tally.add("name-fields", count=fields)


def _remove_programs_and_sources(root: etree._Element, tally: Tally) -> None:
    for node in list(root.iter()):
        key = split_tag(node.tag)
        if not is_attached(node, root):
            continue
        if key in _SCRIPT_HOLDERS:
            if len(node):
                tally.add("macros")
            for child in list(node):
                node.remove(child)
        elif key[0] == SCRIPT or key in _PROGRAMS:
            tally.add("macros")
            remove_element(node)
        elif key in _EXTERNAL_SOURCES:
            tally.add("external-link", _href(node) or key[1])
            remove_element(node)


def _href(node: etree._Element) -> str:
    return str(node.get(f"{{{XLINK}}}href", "")).strip()


def _clean_inline_pictures(
    root: etree._Element, tally: Tally, clean_inline: EmbeddedCleaner
) -> None:
    for node in list(root.iter(f"{{{OFFICE}}}binary-data")):
        holder = node.getparent()
        try:
            data = base64.b64decode("".join((node.text or "").split()), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        cleaned = clean_inline(data, "inline picture") if data else None
        if cleaned is None:
            tally.add("embedded-file-removed", "inline picture")
            remove_element(holder if holder is not None else node)
        else:
            node.text = base64.b64encode(cleaned).decode("ascii")


def _scrub_attributes(
    root: etree._Element, tally: Tally, locate: Locator
) -> None:
    revision_ids = 0
    doomed: list[tuple[etree._Element, bool]] = []  # (element, keep its children)
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        languages: dict[str, dict[str, str]] = {}
        for key in list(node.attrib):
            value = str(node.attrib[key]).strip()
            ns, local = split_tag(key)
            if ns == OFFICEOOO and "rsid" in local:
                revision_ids += 1
            elif (ns, local) == (XML_NS, "lang") or (ns in _LANGUAGE_NAMESPACES and (
                "language" in local or "country" in local or local in _SCRIPT_ATTRS
            )):
                flavour = local.rsplit("-", 1)[-1] if "-" in local else ""
                languages.setdefault(flavour, {})[local.split("-", 1)[0]] = value
            elif (ns, local) == (XLINK, "href"):
                verdict = _judge_link(value, locate)
                if verdict == "keep":
                    continue
                if verdict == "external":
                    tally.add("external-link", value)
                doomed.append((node, split_tag(node.tag)[1] == "a"))
                continue
            elif (ns, local) == (DRAW, "name") and looks_like_image_file_name(value):
                tally.add("image-file-name", value)
            elif has_local_path(value):
                tally.add("file-path", value)
            else:
                continue
            del node.attrib[key]
        _report_languages(languages, tally)
    for node, keep_children in doomed:
        if is_attached(node, root):
            (unwrap_element if keep_children else _remove_shown_file)(node)
    tally.add("revision-ids", count=revision_ids)


def _report_languages(languages: dict[str, dict[str, str]], tally: Tally) -> None:
    for parts in languages.values():
        tag = parts.get("rfc") or "-".join(
            v for v in (parts.get("language"), parts.get("script"), parts.get("country"))
            if v and v.lower() not in ("none", "zxx")
        )
        tally.add_names("language", [tag])


def _judge_link(href: str, locate: Locator) -> str:
    """"keep" for web links, "#" anchors and parts present; "gone" or "external" otherwise."""
    if href.startswith("#"):
        return "keep"
    scheme = urlsplit(href).scheme.lower()
    if scheme in WEB_SCHEMES and not has_local_path(href):
        return "keep"
    if scheme or href.startswith(("/", "../", "\\")) or "\\" in href or has_local_path(href):
        return "external"
    state = locate(href)
    if state == "absent" and _INTERNAL_PATH.match(href):
        state = "dropped"  # a part the package should have held but did not
    return "keep" if state == "kept" else "gone" if state == "dropped" else "external"


def _remove_shown_file(node: etree._Element) -> None:
    """A link to a file that is gone: the element showing it goes, or just the link."""
    if split_tag(node.tag)[1] in _SHOWS_A_FILE:
        remove_element(node)
    else:
        del node.attrib[f"{{{XLINK}}}href"]


def _remove_empty_frames(root: etree._Element) -> None:
    for frame in list(root.iter(f"{{{DRAW}}}frame")):
        if not any(split_tag(c.tag)[1] not in ("title", "desc") for c in frame):
            remove_element(frame)


def refuse_if_encrypted(manifest: etree._Element) -> None:
    """An ODF package whose parts are encrypted says so in its manifest."""
    for node in manifest.iter():
        if split_tag(node.tag)[1] in ("encryption-data", "keyinfo"):
            raise CleaningRefused("encrypted-document")

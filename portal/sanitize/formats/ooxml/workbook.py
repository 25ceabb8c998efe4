"""Workbooks: what xl/workbook.xml and the sheets record about the people who used them.

Threat: besides its cells, a workbook remembers who used it and how. A shared
workbook names each user in a personal custom view ("Chen Xiaomei - Personal
View", with the user's GUID), in the sharing record and in its revision log;
custom views can be saved under any name; defined names carry free-text notes
(comment, description, help, status bar text) and can hold a value nothing
uses, such as a name or an address typed once by a template or an add-in; the
window's size and place on the screen describe the author's display; the
application that last saved the file and its build are recorded too.

The promise: custom views (workbook and sheet) always go, with the names Excel
derives from them (Z_<GUID>_.wvu.*); the sharing record and the flag that locks
the revision history go (the revision parts themselves are dropped as parts);
window geometry goes; a defined name stays when the workbook needs it (a
built-in such as a print area, a name some formula, chart, validation rule or
other name uses, or a plain reference to cells the author can jump to), and
loses its notes; every other defined name goes and is reported by its name.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from lxml import etree

from ..zipdoc import Tally, local_attribute, remove_element, split_tag

# Free text a defined name may carry besides its name and value.
_NAME_NOTES = ("comment", "description", "help", "statusBar", "customMenu")
# Names Excel makes for a custom view: Z_ + the view's GUID + _.wvu.PrintArea etc.
_VIEW_NAME = re.compile(
    r"Z_[0-9A-Fa-f]{8}_[0-9A-Fa-f]{4}_[0-9A-Fa-f]{4}_[0-9A-Fa-f]{4}_[0-9A-Fa-f]{12}_\.wvu\.",
)
# Characters a defined name is made of (letters of any script, digits, _ . \ ?);
# anything else separates one name from the next in a formula.
NAME_TOKEN = re.compile(r"[\w.\\?]+")
# A plain reference to cells: Sheet1!$A$1, 'My sheet'!A1:B9, Sheet1!$A:$C, Sheet1!$2:$4,
# or several joined by commas. An external one ([1]Sheet1!A1) is not plain.
_CELLS = r"(?:\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}" \
    r"|\$?\d+:\$?\d+)"
_SHEET = r"(?:'(?:[^'\[\]]|'')+'|[^'!\s,\[\]()\"]+)"
_PLAIN_REFERENCE = re.compile(rf"{_SHEET}!{_CELLS}(?:,{_SHEET}!{_CELLS})*")
# Window geometry on workbookView: the author's screen, in twips.
_WINDOW_GEOMETRY = ("xWindow", "yWindow", "windowWidth", "windowHeight")


def names_in_use(trees: Iterable[etree._Element]) -> set[str]:
    """Every name-like word (casefolded) in the workbook's parts, outside the defined
    names themselves: what a formula, chart or rule could refer to."""
    words: set[str] = set()
    for root in trees:
        for node in root.iter():
            if not isinstance(node.tag, str) or _within_defined_name(node):
                continue
            for value in node.attrib.values():
                words.update(w.casefold() for w in NAME_TOKEN.findall(str(value)))
            if node.text:
                words.update(w.casefold() for w in NAME_TOKEN.findall(node.text))
    return words


def _within_defined_name(node: etree._Element) -> bool:
    return split_tag(node.tag)[1] == "definedName" or any(
        split_tag(a.tag)[1] == "definedName" for a in node.iterancestors())


def has_defined_names(root: etree._Element) -> bool:
    return any(split_tag(node.tag)[1] == "definedNames" and len(node) for node in root)


def clean_workbook(root: etree._Element, tally: Tally) -> None:
    """xl/workbook.xml: the saving application, sharing and views (names: below)."""
    for child in list(root):
        local = split_tag(child.tag)[1]
        if local == "fileVersion":
            version = (local_attribute(child, "appName"), local_attribute(child, "lastEdited"))
            tally.add("software", " ".join(v.strip() for v in version if v.strip()))
            remove_element(child)
        elif local == "fileSharing":
            tally.add_names("author-name", [local_attribute(child, "userName").strip()])
            if any(local_attribute(child, key).strip()
                   for key in ("hashValue", "reservationPassword")):
                tally.add("password-hash")
            remove_element(child)
        elif local == "workbookProtection":
            _unlock_revisions(child)
        elif local == "bookViews":
            _forget_window_geometry(child, tally)
        elif local == "customWorkbookViews":
            for view in child:
                tally.add("custom-views", local_attribute(view, "name").strip())
            remove_element(child)


def has_custom_views(workbook: etree._Element | None) -> bool:
    return workbook is not None and any(
        split_tag(node.tag)[1] == "customWorkbookViews" for node in workbook)


def clean_sheet_views(root: etree._Element, named_in_workbook: bool, tally: Tally) -> None:
    """A worksheet or chartsheet: its side of the custom views goes with them.

    A sheet's view is a layout and its view's GUID; the name is in the workbook
    and reported there, so an orphan (no workbook view) is reported as an id.
    """
    for child in list(root):
        if split_tag(child.tag)[1] == "customSheetViews":
            if not named_in_workbook:
                tally.add("document-id")
            remove_element(child)


def _unlock_revisions(protection: etree._Element) -> None:
    # "Protect shared workbook" locks the revision history, which is dropped; the
    # password hashes that guard it are removed with every other hash.
    for key in list(protection.attrib):
        if split_tag(key)[1] == "lockRevision":
            del protection.attrib[key]


def _forget_window_geometry(views: etree._Element, tally: Tally) -> None:
    found = False
    for view in views:
        for key in list(view.attrib):
            if split_tag(key)[1] in _WINDOW_GEOMETRY:
                del view.attrib[key]
                found = True
    if found and not tally.has("window-position"):
        tally.add("window-position")


def clean_defined_names(root: etree._Element, in_use: set[str], tally: Tally) -> None:
    """xl/workbook.xml's defined names, once every part is clean: `in_use` is
    `names_in_use` of all of them."""
    for names in [n for n in root if split_tag(n.tag)[1] == "definedNames"]:
        _clean_names(names, in_use, tally)
        if not len(names):
            remove_element(names)


def _clean_names(names: etree._Element, in_use: set[str], tally: Tally) -> None:
    for defined in list(names):
        if split_tag(defined.tag)[1] != "definedName":
            continue
        for key in list(defined.attrib):
            if split_tag(key)[1] in _NAME_NOTES:
                note = str(defined.attrib[key]).strip()
                del defined.attrib[key]
                if note:
                    tally.add("defined-name-notes", note)
        if _VIEW_NAME.match(local_attribute(defined, "name").strip()):
            remove_element(defined)  # the custom view it belonged to is reported
    # A name that only an unneeded name used is unneeded too: repeat until stable.
    while True:
        kept = [d for d in names if split_tag(d.tag)[1] == "definedName"]
        mentions = Counter(w for d in kept for w in set(_words(d.text or "")))
        doomed = [d for d in kept if not _needed(d, in_use, mentions)]
        if not doomed:
            return
        for defined in doomed:
            tally.add("defined-names", local_attribute(defined, "name").strip())
            remove_element(defined)


def _words(text: str) -> list[str]:
    return [w.casefold() for w in NAME_TOKEN.findall(text)]


def _needed(defined: etree._Element, in_use: set[str], mentions: Counter[str]) -> bool:
    """Built-in names, names something else uses, and visible plain references to cells."""
    name = local_attribute(defined, "name").strip()
    key = name.casefold()
    own = 1 if key in set(_words(defined.text or "")) else 0
    if name.startswith("_xlnm.") or key in in_use or mentions[key] > own:
        return True
    hidden = local_attribute(defined, "hidden").strip().lower() in ("1", "true")
    return not hidden and _PLAIN_REFERENCE.fullmatch((defined.text or "").strip()) is not None

"""Verify a cleaned workbook's own records: sharing, views and defined names.

Part of the independent verifier (see verify/office.py), with its own reading of
what a workbook may keep. A cleaned XLSX is refused if:

* xl/workbook.xml has a fileSharing record (the sharing user's name), a
  workbookProtection that still locks a revision history, window geometry on
  a workbookView (xWindow, yWindow, windowWidth, windowHeight), or any
  customWorkbookViews (views are saved under people's names);
* any worksheet or chartsheet has customSheetViews;
* a defined name carries a note (comment, description, help, statusBar,
  customMenu), belongs to a custom view (Z_<GUID>_.wvu.*), or is neither a
  built-in (_xlnm.*), nor used by any part of the workbook (a formula, a chart,
  a rule, another name), nor a visible plain reference to cells: a value no
  one uses is data the author cannot see, such as a name an add-in left.
"""

from __future__ import annotations

import re
from collections import Counter

from lxml import etree

from .common import fail, split_tag

_NOTES = frozenset({"comment", "description", "help", "statusBar", "customMenu"})
_GEOMETRY = frozenset({"xWindow", "yWindow", "windowWidth", "windowHeight"})
_VIEW_NAME = re.compile(r"(?i)z_[0-9a-f]{8}(?:_[0-9a-f]{4}){3}_[0-9a-f]{12}_\.wvu\.")
_WORD = re.compile(r"[\w.\\?]+")
_AREA = (r"(?:\$?[a-z]{1,3}\$?[0-9]+(?::\$?[a-z]{1,3}\$?[0-9]+)?"
         r"|\$?[a-z]{1,3}:\$?[a-z]{1,3}|\$?[0-9]+:\$?[0-9]+)")
_SHEET_NAME = r"(?:'(?:[^'\[\]]|'')+'|[^'!\s,\[\]()\"]+)"
_CELLS_ONLY = re.compile(rf"(?i){_SHEET_NAME}!{_AREA}(?:,{_SHEET_NAME}!{_AREA})*")


class WorkbookCheck:
    """Collects the words of every part, then judges xl/workbook.xml against them."""

    def __init__(self) -> None:
        self.words: set[str] = set()
        self.workbook: etree._Element | None = None

    def add_part(self, name: str, root: etree._Element, text: str) -> None:
        if name == "xl/workbook.xml":
            self.workbook = root
            self._add_workbook_words(root)
        elif not name.startswith("docProps/"):  # app.xml lists the names: no use of them
            self.words.update(word.casefold() for word in _WORD.findall(text))
        if name.startswith(("xl/worksheets/", "xl/chartsheets/")):
            for child in root:
                if split_tag(child.tag)[1] == "customSheetViews":
                    fail(f"custom view in {name}")

    def _add_workbook_words(self, root: etree._Element) -> None:
        """Everything in the workbook part outside the defined names."""
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            if split_tag(node.tag)[1] == "definedName" or any(
                split_tag(a.tag)[1] == "definedName" for a in node.iterancestors()
            ):
                continue
            for value in node.attrib.values():
                self.words.update(w.casefold() for w in _WORD.findall(value))
            self.words.update(w.casefold() for w in _WORD.findall(node.text or ""))

    def finish(self) -> None:
        if self.workbook is None:
            fail("workbook part missing")
        names = [n for n in self.workbook.iter() if isinstance(n.tag, str)
                 and split_tag(n.tag)[1] == "definedName"]
        # Each name counted once per name whose value mentions it.
        mentions = Counter(w for n in names for w in {x.casefold() for x in
                                                         _WORD.findall(n.text or "")})
        for node in self.workbook.iter():
            if not isinstance(node.tag, str):
                continue
            local = split_tag(node.tag)[1]
            if local == "fileSharing":
                fail("sharing record (user name) in xl/workbook.xml")
            if local == "customWorkbookViews":
                fail("custom views in xl/workbook.xml")
            if local == "workbookProtection" and _has(node, {"lockRevision"}):
                fail("locked revision history in xl/workbook.xml")
            if local == "workbookView" and _has(node, _GEOMETRY):
                fail("window position in xl/workbook.xml")
            if local == "definedName":
                self._check_name(node, mentions)

    def _check_name(self, node: etree._Element, mentions: Counter[str]) -> None:
        if _has(node, _NOTES, with_value=True):
            fail("note on a defined name in xl/workbook.xml")
        name = next((v for k, v in node.attrib.items() if split_tag(k)[1] == "name"), "")
        key = name.strip().casefold()
        if _VIEW_NAME.match(key):
            fail("custom view name in xl/workbook.xml")
        itself = {x.casefold() for x in _WORD.findall(node.text or "")}
        if key.startswith("_xlnm.") or key in self.words or mentions[key] > (key in itself):
            return
        hidden = any(split_tag(k)[1] == "hidden" and v.strip().lower() in ("1", "true")
                     for k, v in node.attrib.items())
        if hidden or not _CELLS_ONLY.fullmatch((node.text or "").strip()):
            fail("defined name that nothing uses in xl/workbook.xml")


def _has(node: etree._Element, locals_: set[str] | frozenset[str], with_value: bool = False
         ) -> bool:
    return any(split_tag(key)[1] in locals_ and (not with_value or value.strip())
               for key, value in node.attrib.items())

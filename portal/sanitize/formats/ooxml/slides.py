"""Presentations: the application's own records in the main parts.

Threat: presentation.xml keeps the hash of the password that guards editing;
presProps.xml and viewProps.xml hold printer, web-publishing and window
settings. These passes keep what the slides need to open and look the same
(the slide show and colour settings, how slides are shown) and drop the rest.
Workbooks have their own module (formats/ooxml/workbook.py); the identifiers and paths
that any part can carry are handled by formats/ooxml/traces.py.
"""

from __future__ import annotations

from lxml import etree

from ..zipdoc import Tally, remove_element, split_tag

_PRES_PROPS_KEPT = frozenset({"showPr", "clrMru"})
_VIEW_PROPS_KEPT = frozenset({
    "normalViewPr", "slideViewPr", "notesTextViewPr", "notesViewPr", "gridSpacing",
})


def clean_presentation(root: etree._Element, tally: Tally) -> None:
    """ppt/presentation.xml: the hash of the password that guards editing."""
    for child in list(root):
        if split_tag(child.tag)[1] == "modifyVerifier":
            tally.add("password-hash")
            remove_element(child)


def clean_presentation_properties(root: etree._Element, tally: Tally) -> None:
    """ppt/presProps.xml keeps the slide-show and recent-colour settings only."""
    for child in list(root):
        local = split_tag(child.tag)[1]
        if local in _PRES_PROPS_KEPT:
            continue
        if local == "prnPr":
            tally.add("printer-settings")
        elif local in ("webPr", "htmlPubPr"):
            tally.add("web-settings")
        remove_element(child)


def clean_view_properties(root: etree._Element) -> None:
    """ppt/viewProps.xml keeps how the slides are shown, not the outline or sorter state."""
    for child in list(root):
        if split_tag(child.tag)[1] not in _VIEW_PROPS_KEPT:
            remove_element(child)

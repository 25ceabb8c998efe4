"""Workbooks and presentations: the application's own records in the main parts.

Threat: xl/workbook.xml says which Excel build last saved the file and, when
the workbook is shared, the user name of whoever shares it; presProps.xml and
viewProps.xml hold printer, web-publishing and window settings. These passes
keep what the document needs to open and look the same (sheets, defined names,
calculation settings; the slide show and colour settings) and drop the rest.
The identifiers and paths that any part can carry are handled by ooxml_xml.
"""

from __future__ import annotations

from lxml import etree

from .zipdoc import Tally, local_attribute, remove_element, split_tag

_PRES_PROPS_KEPT = frozenset({"showPr", "clrMru"})
_VIEW_PROPS_KEPT = frozenset({
    "normalViewPr", "slideViewPr", "notesTextViewPr", "notesViewPr", "gridSpacing",
})


def clean_workbook(root: etree._Element, tally: Tally) -> None:
    """xl/workbook.xml: drop the saving application's version and the sharing user."""
    for child in list(root):
        local = split_tag(child.tag)[1]
        if local == "fileVersion":
            version = (local_attribute(child, "appName"), local_attribute(child, "lastEdited"))
            tally.add("software", " ".join(v.strip() for v in version if v.strip()))
            remove_element(child)
        elif local == "fileSharing":
            tally.add_names("author-name", [local_attribute(child, "userName").strip()])
            if any(local_attribute(child, key).strip() for key in ("hashValue", "reservationPassword")):
                tally.add("password-hash")
            remove_element(child)


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

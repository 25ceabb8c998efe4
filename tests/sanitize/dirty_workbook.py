"""A workbook that Excel shared between colleagues, with a token in each trace of them.

The builder starts from openpyxl's output and adds what "Share Workbook" and
custom views leave behind, the way Excel writes it: a revision history
(xl/revisions/ headers, a log holding an earlier value of a cell, the user
list), the relationships and content types that point at it, the sharing
record and revision lock in workbook.xml, a personal view per user in
customWorkbookViews and customSheetViews, the Z_<GUID>_.wvu.* names Excel
derives from a view, window geometry, and defined names of every sort: a print
area, a name a formula uses, a chain of names nothing uses, a hidden constant
holding a person's name, a plain reference kept for navigation, and notes
(comment, description) on names that stay.
"""

from __future__ import annotations

import io

import openpyxl
from openpyxl.workbook.defined_name import DefinedName

from .dirty_office import BODY, REL, _add_rels, _text, relationship, rezip, unzip

S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SHEET_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
VIEW_GUID = "{5EC2E7A1-0000-4000-8000-00000000C0DE}"
VIEW_NAME_PREFIX = "Z_5EC2E7A1_0000_4000_8000_00000000C0DE_.wvu."
WINDOW = 'xWindow="2871" yWindow="1337" windowWidth="28815" windowHeight="17195"'

SHARED_TOKENS = {
    "view_name": "TOKEN-viewname-1c2d", "share_user": "TOKEN-shareuser-2d3e",
    "header_user": "TOKEN-headeruser-3e4f", "log_value": "TOKEN-logvalue-4f5a",
    "user_name": "TOKEN-username-5a6b", "name_comment": "TOKEN-namecomment-6b7c",
    "name_description": "TOKEN-namedesc-7c8d", "print_comment": "TOKEN-printcomment-8d9e",
    "hidden_name": "Owner_TOKEN_hiddenname_9e0f", "hidden_value": "TOKEN-hiddenvalue-0f1a",
    "chain_top": "Top_TOKEN_chaintop_1a2b", "chain_bottom": "Bottom_TOKEN_chainbot_2b3c",
    "revisions_hash": "TOKEN-revhash-3c4d",
}


def shared_workbook() -> tuple[bytes, dict[str, str]]:
    """The workbook's bytes and the tokens planted in it."""
    t = SHARED_TOKENS
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Wages"
    sheet["A1"] = BODY
    sheet["A2"] = 12
    sheet["B2"] = "=A2*Rate"
    sheet.print_area = "A1:B2"
    book.defined_names["Rate"] = DefinedName("Rate", attr_text="Wages!$C$1")
    book.defined_names["Jump"] = DefinedName("Jump", attr_text="Wages!$A$1:$B$2")
    book.defined_names[t["hidden_name"]] = DefinedName(
        t["hidden_name"], attr_text=f'"{t["hidden_value"]}"', hidden=True)
    book.defined_names[t["chain_top"]] = DefinedName(t["chain_top"],
                                                     attr_text=f"{t['chain_bottom']}*2")
    book.defined_names[t["chain_bottom"]] = DefinedName(t["chain_bottom"], attr_text="42")
    sheet["C1"] = 1.5
    buffer = io.BytesIO()
    book.save(buffer)
    members = unzip(buffer.getvalue())

    workbook = _text(members, "xl/workbook.xml")
    workbook = workbook.replace(
        "<workbookPr/>", f'<fileSharing userName="{t["share_user"]}"/><workbookPr/>')
    workbook = workbook.replace(
        "<workbookProtection/>",
        f'<workbookProtection lockRevision="1" revisionsPassword="{t["revisions_hash"]}"/>')
    workbook = workbook.replace("<workbookView ", f"<workbookView {WINDOW} ")
    workbook = workbook.replace('<definedName name="Rate"', f'<definedName name="Rate" '
                                f'comment="{t["name_comment"]}" '
                                f'description="{t["name_description"]}"')
    workbook = workbook.replace(
        "</definedNames>",
        f'<definedName name="{VIEW_NAME_PREFIX}PrintArea" localSheetId="0" hidden="1">'
        f"Wages!$A$1:$A$2</definedName></definedNames>")
    workbook = workbook.replace(
        '<definedName name="_xlnm.Print_Area"',
        f'<definedName name="_xlnm.Print_Area" comment="{t["print_comment"]}"')
    workbook = workbook.replace(
        "<calcPr",
        f'<customWorkbookViews><customWorkbookView name="{t["view_name"]} - Personal View" '
        f'guid="{VIEW_GUID}" mergeInterval="0" personalView="1" maximized="1" '
        f'{WINDOW} activeSheetId="1"/></customWorkbookViews><calcPr')
    members["xl/workbook.xml"] = workbook

    sheet_xml = _text(members, "xl/worksheets/sheet1.xml")
    members["xl/worksheets/sheet1.xml"] = sheet_xml.replace(
        "<pageMargins",
        f'<customSheetViews><customSheetView guid="{VIEW_GUID}" showRuler="0" topLeftCell="A1">'
        '<selection activeCell="B2" sqref="B2"/><pageMargins left="0.7" right="0.7" top="0.75" '
        'bottom="0.75" header="0.3" footer="0.3"/></customSheetView></customSheetViews>'
        "<pageMargins", 1)

    revision = "{A1B2C3D4-1111-4222-8333-444455556666}"
    members["xl/revisions/revisionHeaders.xml"] = (
        f'<headers xmlns="{S}" xmlns:r="{REL}" guid="{revision}" shared="1" '
        f'diskRevisions="1" revisionId="1" version="3"><header guid="{revision}" '
        f'dateTime="2025-02-14T18:22:05" maxSheetId="2" userName="{t["header_user"]}" '
        'r:id="rId1"><sheetIdMap count="1"><sheetId val="1"/></sheetIdMap></header></headers>')
    members["xl/revisions/revisionLog1.xml"] = (
        f'<revisions xmlns="{S}" xmlns:r="{REL}"><rcc rId="1" sId="1"><oc r="A1" '
        f't="inlineStr"><is><t>{t["log_value"]}</t></is></oc><nc r="A1" t="inlineStr"><is>'
        f"<t>{BODY}</t></is></nc></rcc></revisions>")
    members["xl/revisions/userNames.xml"] = (
        f'<users xmlns="{S}" xmlns:r="{REL}" count="1"><userInfo guid="{revision}" '
        f'name="{t["user_name"]}" id="1203" dateTime="2025-02-14T18:20:00"/></users>')
    _add_rels(members, "xl/revisions/_rels/revisionHeaders.xml.rels",
              relationship("rId1", f"{REL}/revisionLog", "revisionLog1.xml"))
    _add_rels(members, "xl/_rels/workbook.xml.rels",
              relationship("rId90", f"{REL}/revisionHeaders", "revisions/revisionHeaders.xml"),
              relationship("rId91", f"{REL}/usernames", "revisions/userNames.xml"))
    members["[Content_Types].xml"] = _text(members, "[Content_Types].xml").replace(
        "</Types>",
        f'<Override PartName="/xl/revisions/revisionHeaders.xml" ContentType="{SHEET_TYPES}'
        '.revisionHeaders+xml"/><Override PartName="/xl/revisions/revisionLog1.xml" '
        f'ContentType="{SHEET_TYPES}.revisionLog+xml"/><Override PartName="/xl/revisions/'
        f'userNames.xml" ContentType="{SHEET_TYPES}.userNames+xml"/></Types>')
    return rezip(members, stored=()), dict(t)

"""A shared workbook comes out as a plain one: its users, views and stray names gone.

Excel's "Share Workbook" and custom views write the names of the people who
used a workbook into places no cell shows: personal views, the sharing record,
the revision log and its user list. Defined names can carry notes, or hold a
value nothing uses. The cleaner removes all of it and keeps what the workbook
needs to work (print area, names formulas use); the result opens in openpyxl;
and the independent verifier refuses each trace when it is planted back.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import openpyxl
import pytest

from portal.sanitize import clean_bytes
from portal.sanitize.errors import VerificationFailed
from portal.sanitize.messages import REMOVED
from portal.sanitize.report import Report
from portal.sanitize.verify import verify

from . import verify_samples as samples
from .dirty_office import BODY, unzip
from .dirty_workbook import VIEW_GUID, VIEW_NAME_PREFIX, WINDOW, shared_workbook
from .scan import find_tokens


@pytest.fixture(scope="module")
def cleaned() -> tuple[bytes, Report, dict[str, str]]:
    dirty, tokens = shared_workbook()
    out, report = clean_bytes(dirty, name_hint="工资表.xlsx")
    return out, report, tokens


def test_every_token_is_planted() -> None:
    dirty, tokens = shared_workbook()
    missing = set(tokens.values()) - {t.split(" @ ")[0] for t in find_tokens(
        dirty, list(tokens.values()), exiftool=False)}
    assert not missing


def test_no_user_view_or_stray_name_survives(cleaned: tuple[bytes, Report, dict[str, str]]
                                             ) -> None:
    out, _, tokens = cleaned
    assert find_tokens(out, list(tokens.values())) == []
    text = b"".join(v if isinstance(v, bytes) else v.encode() for v in unzip(out).values())
    assert VIEW_GUID.strip("{}").encode() not in text
    assert VIEW_NAME_PREFIX.encode() not in text
    assert b"lockRevision" not in text and b"fileSharing" not in text
    assert WINDOW.split()[0].encode() not in text


def test_the_shared_workbook_opens_as_a_plain_one(cleaned: tuple[bytes, Report, dict[str, str]]
                                                  ) -> None:
    out, _, _ = cleaned
    members = unzip(out)
    assert not [name for name in members if "revisions" in name.lower()
                or "usernames" in name.lower()]
    for name in ("[Content_Types].xml", "xl/_rels/workbook.xml.rels"):
        listing = members[name]
        assert isinstance(listing, bytes)
        assert b"revision" not in listing.lower() and b"usernames" not in listing.lower()
    book = openpyxl.load_workbook(io.BytesIO(out))
    sheet = book["Wages"]
    assert sheet["A1"].value == BODY and sheet["A2"].value == 12


def test_names_the_workbook_needs_stay_without_their_notes(
    cleaned: tuple[bytes, Report, dict[str, str]]
) -> None:
    out, _, _ = cleaned
    book = openpyxl.load_workbook(io.BytesIO(out))
    sheet = book["Wages"]
    assert sheet["B2"].value == "=A2*Rate"
    assert set(book.defined_names) == {"Rate", "Jump"}
    assert book.defined_names["Rate"].attr_text == "Wages!$C$1"
    assert book.defined_names["Rate"].comment is None
    assert sheet.print_area == "'Wages'!$A$1:$B$2"


def test_the_report_names_what_went(cleaned: tuple[bytes, Report, dict[str, str]]) -> None:
    _, report, tokens = cleaned
    found = {(f.code, f.detail) for f in report.removed}
    assert ("custom-views", f"{tokens['view_name']} - Personal View") in found
    assert ("author-name", tokens["share_user"]) in found
    assert ("defined-name-notes", tokens["name_comment"]) in found
    assert {("defined-names", tokens[key]) for key in ("hidden_name", "chain_top",
                                                        "chain_bottom")} <= found
    codes = {code for code, _ in found}
    assert {"revision-history", "window-position", "password-hash"} <= codes
    for code in ("custom-views", "defined-names", "defined-name-notes", "window-position"):
        assert "{detail}" not in REMOVED[code].editors


_NAMES = "<definedNames>{}</definedNames>"
WORKBOOK_DENIED: dict[str, tuple[Callable[[], bytes], str]] = {
    "custom workbook view": (lambda: samples.xlsx(workbook_extra=(
        f'<customWorkbookViews><customWorkbookView name="王 - Personal View" guid="{VIEW_GUID}" '
        'windowWidth="1" windowHeight="1" activeSheetId="1"/></customWorkbookViews>')),
        "custom views"),
    "custom sheet view": (lambda: samples.xlsx(sheet_extra=(
        f'<customSheetViews><customSheetView guid="{VIEW_GUID}"/></customSheetViews>')),
        "custom view"),
    "custom view name": (lambda: samples.xlsx(workbook_extra=_NAMES.format(
        f'<definedName name="{VIEW_NAME_PREFIX}Cols" hidden="1">工资!$A:$A</definedName>')),
        "custom view name"),
    "revision lock": (lambda: samples.xlsx(
        workbook_extra='<workbookProtection lockRevision="1"/>'), "revision history"),
    "window position": (lambda: samples.xlsx(
        workbook_extra=f'<bookViews><workbookView {WINDOW}/></bookViews>'), "window position"),
    "note on a name": (lambda: samples.xlsx(workbook_extra=_NAMES.format(
        '<definedName name="Total" comment="王小明 asked for this">工资!$B$1</definedName>')),
        "note on a defined name"),
    "unused constant": (lambda: samples.xlsx(workbook_extra=_NAMES.format(
        '<definedName name="Owner" hidden="1">"王小明"</definedName>')), "nothing uses"),
    "constant naming itself": (lambda: samples.xlsx(workbook_extra=_NAMES.format(
        '<definedName name="Chen">"Chen Xiaomei"</definedName>')), "nothing uses"),
    "unused external reference": (lambda: samples.xlsx(workbook_extra=_NAMES.format(
        '<definedName name="Budget">[1]Sheet1!$A$1</definedName>')), "nothing uses"),
}


@pytest.mark.parametrize("case", sorted(WORKBOOK_DENIED))
def test_verifier_refuses_each_trace_planted_back(case: str) -> None:
    build, expected = WORKBOOK_DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("xlsx", build())


_RULE = ('<conditionalFormatting sqref="B1"><cfRule type="expression" priority="1">'
         "<formula>B1&gt;Pay</formula></cfRule></conditionalFormatting>")


@pytest.mark.parametrize("names", [
    '<definedName name="_xlnm.Print_Area" localSheetId="0">工资!$A$1:$B$1</definedName>',
    '<definedName name="Jump">工资!$A$1:$B$1</definedName>',
    '<definedName name="Rate" hidden="1">20</definedName><definedName name="Pay">工资!$B$1*Rate'
    "</definedName>",
], ids=["built-in", "plain reference", "used by a rule and by another name"])
def test_verifier_accepts_names_a_workbook_needs(names: str) -> None:
    verify("xlsx", samples.xlsx(workbook_extra=_NAMES.format(names), sheet_extra=_RULE))

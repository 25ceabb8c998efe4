"""What a cleaned PDF may keep: the allow-lists and the action policy.

Each table names the keys a kind of PDF object keeps; anything else is dropped
(and reported) by `formats/pdf/__init__.py`. Actions are allowed only when they stay inside the
document or open a web or mail address the reader can see before following;
scripts, launching programs, fetching or submitting to other files never are.
"""

from __future__ import annotations

import re
from typing import Any

from pikepdf import Array, Dictionary, Name, String

TRAILER_KEEP = frozenset({"/Root", "/Size", "/ID"})
# Keys qpdf computes itself when it writes the new cross-reference section.
TRAILER_MANAGED = frozenset({"/Prev", "/XRefStm", "/Type", "/W", "/Index", "/Filter",
                             "/DecodeParms", "/Length"})
CATALOG_KEEP = frozenset({
    "/Type", "/Version", "/Extensions", "/Pages", "/PageLabels", "/Names", "/Dests",
    "/ViewerPreferences", "/PageLayout", "/PageMode", "/Outlines", "/AcroForm",
    "/StructTreeRoot", "/MarkInfo", "/OCProperties", "/OutputIntents",
})
ACROFORM_KEEP = frozenset({"/Fields", "/NeedAppearances", "/CO", "/DR", "/DA", "/Q"})
PAGE_KEEP = frozenset({
    "/Type", "/Parent", "/Resources", "/MediaBox", "/CropBox", "/BleedBox", "/TrimBox",
    "/ArtBox", "/BoxColorInfo", "/Rotate", "/Contents", "/Group", "/Annots", "/UserUnit",
    "/Tabs", "/StructParents", "/Trans", "/Dur", "/VP",
})
PAGES_NODE_KEEP = frozenset({"/Type", "/Kids", "/Count", "/Parent", "/Resources",
                             "/MediaBox", "/CropBox", "/Rotate"})
# Pictures and reusable drawings: external files (/F, /OPI, /Ref), web-capture
# ids and private keys such as pdfTeX's /PTEX.FileName (a path on the author's
# disk) and /PTEX.InfoDict (an included figure's author and software) go.
STREAM_COMMON = frozenset({"/Type", "/Subtype", "/Length", "/Filter", "/DecodeParms", "/DL",
                           "/Name", "/OC", "/StructParent", "/Measure", "/PtData"})
FORM_KEEP = STREAM_COMMON | {"/FormType", "/BBox", "/Matrix", "/Resources", "/Group",
                             "/StructParents"}
IMAGE_KEEP = STREAM_COMMON | {
    "/Width", "/Height", "/ColorSpace", "/BitsPerComponent", "/Intent", "/ImageMask",
    "/Mask", "/Decode", "/Interpolate", "/Alternates", "/SMask", "/SMaskInData", "/Matte",
}
# Annotations that are marks on the page; notes, pop-ups, sounds, movies and
# attachments are not in this list and are dropped whole.
ANNOT_SUBTYPES_KEPT = frozenset({
    "/Link", "/Widget", "/Highlight", "/Underline", "/StrikeOut", "/Squiggly", "/Square",
    "/Circle", "/Line", "/Polygon", "/PolyLine", "/Ink", "/Stamp", "/PrinterMark",
    "/TrapNet", "/Watermark",
})
ANNOT_KEEP = frozenset({
    "/Type", "/Subtype", "/Rect", "/AP", "/AS", "/F", "/Border", "/BS", "/BE", "/C", "/IC",
    "/CA", "/ca", "/Q", "/DA", "/DS", "/MK", "/P", "/StructParent", "/OC", "/QuadPoints",
    "/InkList", "/L", "/LE", "/LL", "/LLE", "/LLO", "/CP", "/Cap", "/IT", "/Vertices",
    "/Path", "/RD", "/Dest", "/A", "/PA", "/H", "/Parent", "/FT", "/Ff", "/V", "/DV",
    "/Kids", "/Opt", "/TI", "/I", "/MaxLen", "/TU", "/TM", "/DR", "/Lock", "/SV", "/Name",
    "/BM", "/FixedPrint", "/Matrix",
})
ANNOT_COMMENT_KEYS = ("/Contents", "/RC")
SAFE_ACTIONS = frozenset({"/GoTo", "/SetOCGState"})
SAFE_NAMED = frozenset({"/NextPage", "/PrevPage", "/FirstPage", "/LastPage"})
SAFE_URI = re.compile(r"(?i)^(https?|mailto):")
# Keys removed from every dictionary in the file, with the report code for each.
DENY_EVERYWHERE = {
    "/Metadata": "pdf-xmp", "/PieceInfo": "pdf-piece-info", "/LastModified": "document-dates",
    "/AA": "pdf-actions", "/JS": "pdf-javascript", "/Thumb": "pdf-thumbnails",
    "/CreatorInfo": "software", "/Creator": "software", "/SpiderInfo": "unknown-part",
}
# Page keys outside PAGE_KEEP that have a more telling report code than "unknown-part".
PAGE_KEY_CODES = {"/SeparationInfo": "printer-settings"}


def is_action(value: Any) -> bool:
    """True for an action dictionary (or a list of them); /A also names other things."""
    if isinstance(value, Dictionary):
        return "/S" in value
    if isinstance(value, Array):
        return any(isinstance(v, Dictionary) and "/S" in v for v in value)
    return False


def name_text(value: Any) -> str:
    """A PDF name as text, "" for anything else, whatever bytes the name holds.

    A name is any bytes (ISO 32000-1, 7.3.5), often GBK or Big5 in Chinese files,
    and pikepdf can only turn UTF-8 ones into str. Others come back in their
    escaped form ("/Lin#b7k"), which equals none of the ASCII names we look for.
    """
    if not isinstance(value, Name):
        return ""
    try:
        return str(value)
    except UnicodeDecodeError:
        return bytes(value.unparse()).decode("ascii", "replace")


def action_safe(action: Any) -> bool:
    """True when every action stays in the document or opens a visible web/mail address."""
    if isinstance(action, Array):
        return all(action_safe(a) for a in action)
    if not isinstance(action, Dictionary):
        return False
    kind = name_text(action.get("/S"))
    if kind in SAFE_ACTIONS:
        return True
    if kind == "/Named":
        return name_text(action.get("/N")) in SAFE_NAMED
    if kind == "/URI":
        uri = action.get("/URI")
        return isinstance(uri, String) and bool(SAFE_URI.match(str(uri).strip()))
    return False


def mentions_javascript(action: Any) -> bool:
    """True when the action (or one in the list) runs a script."""
    if isinstance(action, Array):
        return any(mentions_javascript(a) for a in action)
    return isinstance(action, Dictionary) and (
        action.get("/S") == "/JavaScript" or "/JS" in action
    )

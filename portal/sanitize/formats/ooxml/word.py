"""Word documents: accept tracked changes, drop review marks, hidden text and name fields.

Threat: a Word document remembers its own history. Tracked deletions keep the
words the author took out (w:delText), tracked changes and comments carry the
reviewer's name and the minute they worked, hidden text is invisible on screen
but not in the file, fields such as AUTHOR or FILENAME print a name or a path,
and settings.xml holds the attached template's path, mail-merge sources and
document variables. Every change is accepted, as the author would see the
document with "Accept all changes": insertions stay, deletions go with their
text; formatting changes keep the new formatting; comment anchors and hidden
runs are removed; settings keep only a short allow-list of layout options.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from lxml import etree

from ..zipdoc import (
    Tally,
    has_local_path,
    is_attached,
    local_attribute,
    remove_element,
    split_tag,
    unwrap_element,
)
from .traces import W_NAMESPACES

_OFF = frozenset({"0", "false", "off"})
_PROPERTY_HOLDERS = frozenset({"rPr", "pPr", "trPr", "tcPr", "numPr", "tblPr", "sectPr"})
_DELETED_WRAPPERS = frozenset({"del", "moveFrom", "conflictDel"})
_INSERTED_WRAPPERS = frozenset({"ins", "moveTo", "conflictIns"})
_RANGE_MARKERS = frozenset({
    "moveFromRangeStart", "moveFromRangeEnd", "moveToRangeStart", "moveToRangeEnd",
    "customXmlInsRangeStart", "customXmlInsRangeEnd", "customXmlDelRangeStart",
    "customXmlDelRangeEnd", "customXmlMoveFromRangeStart", "customXmlMoveFromRangeEnd",
    "customXmlMoveToRangeStart", "customXmlMoveToRangeEnd",
})
_FORMAT_CHANGES = frozenset({"numberingChange", "tblGridChange", "cellMerge", "cellIns"})
_COMMENT_MARKS = frozenset({"commentRangeStart", "commentRangeEnd", "commentReference",
                            "annotationRef"})
# Fields whose result is a name, a user, a file or a date the document recorded
# about itself, or which pull content from a file on the author's disk.
_NAME_FIELDS = frozenset({
    "AUTHOR", "LASTSAVEDBY", "USERNAME", "USERINITIALS", "USERADDRESS", "FILENAME",
    "TEMPLATE", "DOCPROPERTY", "DOCVARIABLE", "INFO", "INCLUDETEXT", "INCLUDEPICTURE",
    "LINK", "DDE", "DDEAUTO", "CREATEDATE", "SAVEDATE", "PRINTDATE", "EDITTIME",
})
# settings.xml: layout options that say nothing about the author or the machine.
SETTINGS_KEPT = frozenset({
    "view", "zoom", "removePersonalInformation", "removeDateAndTime", "displayBackgroundShape",
    "mirrorMargins", "alignBordersAndEdges", "bordersDoNotSurroundHeader",
    "bordersDoNotSurroundFooter", "gutterAtTop", "defaultTabStop", "autoHyphenation",
    "consecutiveHyphenLimit", "hyphenationZone", "doNotHyphenateCaps", "evenAndOddHeaders",
    "bookFoldRevPrinting", "bookFoldPrinting", "bookFoldPrintingSheets",
    "drawingGridHorizontalSpacing", "drawingGridVerticalSpacing",
    "displayHorizontalDrawingGridEvery", "displayVerticalDrawingGridEvery",
    "doNotUseMarginsForDrawingGridOrigin", "characterSpacingControl",
    "strictFirstAndLastChars", "noPunctuationKerning", "footnotePr", "endnotePr", "compat",
    "mathPr", "clrSchemeMapping", "doNotAutoCompressPictures", "shapeDefaults",
    "decimalSymbol", "listSeparator", "defaultTableStyle",
})
_MATH_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"


def _word_nodes(root: etree._Element, locals_: frozenset[str]) -> list[etree._Element]:
    """WordprocessingML elements with these local names, in document order."""
    return list(root.iter(*(f"{{{ns}}}{local}" for ns in W_NAMESPACES for local in locals_)))


def _is_change_record(tag: object) -> bool:
    return isinstance(tag, str) and tag.endswith(("PrChange", "PrExChange"))


def _w(node: etree._Element, local: str) -> str:
    """The tag name `local` in the same WordprocessingML namespace as `node`."""
    return f"{{{split_tag(node.tag)[0]}}}{local}"


def accept_tracked_changes(root: etree._Element, tally: Tally) -> None:
    """Accept every tracked change: insertions stay, deletions go with their text."""
    tracked = _DELETED_WRAPPERS | _INSERTED_WRAPPERS | _RANGE_MARKERS | _FORMAT_CHANGES
    for node in _word_nodes(root, tracked | {"cellDel"}):
        tally.add_names("tracked-change-author", [local_attribute(node, "author")])
    changes = [node for node in root.iter() if _is_change_record(node.tag)]
    for node in changes:
        tally.add_names("tracked-change-author", [local_attribute(node, "author")])
    deletions = insertions = formatting = 0
    for node in _word_nodes(root, _DELETED_WRAPPERS | _INSERTED_WRAPPERS):
        if not is_attached(node, root):
            continue
        holder = node.getparent()
        holder_local = split_tag(holder.tag)[1] if holder is not None else ""
        deleted = split_tag(node.tag)[1] in _DELETED_WRAPPERS
        if holder_local in _PROPERTY_HOLDERS:
            deletions += _apply_mark(node, holder, holder_local, deleted)
            insertions += 0 if deleted else 1
        elif deleted:
            remove_element(node)
            deletions += 1
        else:
            unwrap_element(node)
            insertions += 1
    for node in _word_nodes(root, frozenset({"cellDel"})):
        cell = next((a for a in node.iterancestors() if split_tag(a.tag)[1] == "tc"), None)
        remove_element(cell if cell is not None else node)
        deletions += 1
    for node in _word_nodes(root, frozenset({"delText", "delInstrText"})):
        if is_attached(node, root):
            run = node.getparent()
            remove_element(run if run is not None and split_tag(run.tag)[1] == "r" else node)
            deletions += 1
    for node in [*changes, *_word_nodes(root, _FORMAT_CHANGES)]:
        if is_attached(node, root):
            formatting += 1
            remove_element(node)
    for node in _word_nodes(root, _RANGE_MARKERS):
        remove_element(node)
    tally.add("tracked-insertions-accepted", count=insertions)
    tally.add("tracked-deletions-removed", count=deletions)
    tally.add("tracked-formatting-accepted", count=formatting)


def _apply_mark(node: etree._Element, holder: etree._Element, holder_local: str,
                deleted: bool) -> int:
    """A change mark inside properties: an inserted or deleted paragraph mark or row."""
    owner = holder.getparent()
    remove_element(node)
    if not deleted or owner is None:
        return 0
    owner_local = split_tag(owner.tag)[1]
    if holder_local == "trPr" and owner_local == "tr":
        remove_element(owner)  # a deleted table row
        return 1
    paragraph = owner.getparent() if owner_local == "pPr" else None
    if holder_local == "rPr" and paragraph is not None and split_tag(paragraph.tag)[1] == "p":
        following = paragraph.getnext()
        if following is not None and split_tag(following.tag)[1] == "p":
            # A deleted paragraph mark joins this paragraph to the next one.
            properties = following.find(_w(following, "pPr"))
            position = 1 if properties is not None else 0
            for child in [c for c in paragraph if split_tag(c.tag)[1] != "pPr"]:
                following.insert(position, child)
                position += 1
            remove_element(paragraph)
        return 1
    return 0


def remove_comment_marks(root: etree._Element) -> int:
    """Remove comment anchors and references; return how many comments they marked."""
    ids = set()
    for node in _word_nodes(root, _COMMENT_MARKS):
        ids.add(local_attribute(node, "id"))
        parent = node.getparent()
        if split_tag(node.tag)[1] in ("commentReference", "annotationRef") and parent is not None \
                and split_tag(parent.tag)[1] == "r" and _only_properties_besides(parent, node):
            remove_element(parent)
        elif is_attached(node, root):
            remove_element(node)
    return len(ids)


def _only_properties_besides(run: etree._Element, node: etree._Element) -> bool:
    return all(child is node or split_tag(child.tag)[1] == "rPr" for child in run)


def hidden_styles(styles_root: etree._Element) -> set[str]:
    """Ids of styles that hide their text; the vanish marks themselves are removed later."""
    hidden = set()
    for style in _word_nodes(styles_root, frozenset({"style"})):
        for mark in _word_nodes(style, frozenset({"vanish", "specVanish"})):
            if local_attribute(mark, "val").lower() not in _OFF:
                hidden.add(local_attribute(style, "styleId"))
    return hidden


def remove_hidden_text(root: etree._Element, hidden: set[str], tally: Tally) -> None:
    """Drop runs hidden directly or by their style; then every vanish mark left."""
    removed = 0
    for run in _word_nodes(root, frozenset({"r"})):
        if not is_attached(run, root):
            continue
        properties = run.find(_w(run, "rPr"))
        if _hides(properties, hidden, "rStyle") or (
            _run_state(properties) is None and _paragraph_hidden(run, hidden)
        ):
            remove_element(run)
            removed += 1
    for mark in _word_nodes(root, frozenset({"vanish", "specVanish"})):
        if is_attached(mark, root):
            remove_element(mark)
    tally.add("hidden-text", count=removed)


def _run_state(properties: etree._Element | None) -> bool | None:
    """True if the run says it is hidden, False if it says it is not, None if silent."""
    if properties is None:
        return None
    for mark in properties:
        if split_tag(mark.tag)[1] in ("vanish", "specVanish"):
            return local_attribute(mark, "val").lower() not in _OFF
    return None


def _hides(properties: etree._Element | None, hidden: set[str], style_tag: str) -> bool:
    state = _run_state(properties)
    if state is not None:
        return state
    if properties is None:
        return False
    style = properties.find(_w(properties, style_tag))
    return style is not None and local_attribute(style, "val") in hidden


def _paragraph_hidden(run: etree._Element, hidden: set[str]) -> bool:
    if not hidden:
        return False
    paragraph = next((a for a in run.iterancestors() if split_tag(a.tag)[1] == "p"), None)
    if paragraph is None:
        return False
    properties = paragraph.find(_w(paragraph, "pPr"))
    if properties is None:
        return False
    style = properties.find(_w(properties, "pStyle"))
    return style is not None and local_attribute(style, "val") in hidden


@dataclass
class _Field:
    runs: list[etree._Element] = field(default_factory=list)
    code_runs: list[etree._Element] = field(default_factory=list)
    instruction: str = ""
    separated: bool = False


def remove_name_fields(root: etree._Element, tally: Tally) -> None:
    """Fields that print a name, a path or a recorded date go; links to local files
    keep only their visible text."""
    count = 0
    for simple in _word_nodes(root, frozenset({"fldSimple"})):
        verdict = _judge(local_attribute(simple, "instr"))
        if verdict == "name" and is_attached(simple, root):
            remove_element(simple)
            count += 1
        elif verdict == "path":
            unwrap_element(simple)
            tally.add("external-link", local_attribute(simple, "instr").strip())
    for found in _complex_fields(root):
        verdict = _judge(found.instruction)
        doomed = found.runs if verdict == "name" else found.code_runs if verdict == "path" else []
        count += 1 if verdict == "name" else 0
        if verdict == "path":
            tally.add("external-link", found.instruction.strip())
        for run in doomed:
            if is_attached(run, root):
                remove_element(run)
    tally.add("name-fields", count=count)


def _judge(instruction: str) -> str:
    words = instruction.split()
    if words and words[0].upper() in _NAME_FIELDS:
        return "name"
    return "path" if has_local_path(instruction) or "\\\\" in instruction else ""


def _complex_fields(root: etree._Element) -> Iterator[_Field]:
    stack: list[_Field] = []
    for run in _word_nodes(root, frozenset({"r"})):
        char = next((c for c in run if split_tag(c.tag)[1] == "fldChar"), None)
        kind = local_attribute(char, "fldCharType") if char is not None else ""
        if kind == "begin":
            stack.append(_Field())
        for open_field in stack:
            open_field.runs.append(run)
        if not stack:
            continue
        top = stack[-1]
        if not top.separated or kind == "end":
            top.code_runs.append(run)
            top.instruction += "".join(
                c.text or "" for c in run if split_tag(c.tag)[1] == "instrText"
            )
        if kind == "separate":
            top.separated = True
        elif kind == "end":
            yield stack.pop()


def clean_settings(root: etree._Element, tally: Tally) -> None:
    """settings.xml keeps layout options only, and asks Word to keep personal data out."""
    dropped = False
    for child in list(root):
        ns, local = split_tag(child.tag)
        if (ns in W_NAMESPACES or ns == _MATH_NS) and local in SETTINGS_KEPT:
            continue
        if local == "rsids":
            tally.add("revision-ids", count=max(len(child), 1))
        elif local == "docId":
            tally.add("document-id")
        elif local == "themeFontLang":
            tally.add_names("language", [str(v) for v in child.attrib.values()])
        elif local not in ("proofState", "trackRevisions", "doNotTrackMoves",
                           "doNotTrackFormatting", "chartTrackingRefBased"):
            dropped = True
        root.remove(child)
    if dropped:
        tally.add("settings")
    ns = split_tag(root.tag)[0]
    if ns in W_NAMESPACES:
        position = sum(1 for c in root if split_tag(c.tag)[1] in ("view", "zoom"))
        for local in ("removeDateAndTime", "removePersonalInformation"):
            if root.find(f"{{{ns}}}{local}") is None:
                root.insert(position, etree.Element(f"{{{ns}}}{local}"))


def remove_list_ids(root: etree._Element, tally: Tally) -> None:
    """numbering.xml: the random ids Word gives each list and its template."""
    for node in _word_nodes(root, frozenset({"nsid", "tmpl"})):
        remove_element(node)
        tally.add("document-id")


def remove_bindings_and_marks(root: etree._Element) -> None:
    """Content bound to the dropped custom XML, and the "last edit here" bookmark."""
    for node in [n for n in root.iter() if isinstance(n.tag, str)
                 and n.tag.endswith("}dataBinding")]:
        remove_element(node)
    go_back = set()
    for node in _word_nodes(root, frozenset({"bookmarkStart"})):
        if local_attribute(node, "name") == "_GoBack":
            go_back.add(local_attribute(node, "id"))
            remove_element(node)
    for node in _word_nodes(root, frozenset({"bookmarkEnd"})):
        if local_attribute(node, "id") in go_back:
            remove_element(node)


def clean_word_part(root: etree._Element, hidden: set[str], tally: Tally) -> int:
    """Every Word-specific pass over one part; returns the comments its marks referred to."""
    accept_tracked_changes(root, tally)
    comments = remove_comment_marks(root)
    remove_hidden_text(root, hidden, tally)
    remove_name_fields(root, tally)
    remove_bindings_and_marks(root)
    return comments

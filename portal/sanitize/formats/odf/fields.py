"""OpenDocument fields that keep values nobody sees: user fields, variables, hidden text.

Threat: a text document can declare user fields (`text:user-field-decl`, with
an office:string-value such as the author's name or address, often set once by
a template) and variables (`text:variable-set` with `text:display="none"`) that
carry a value whether or not any field shows it; conditional text keeps both of
its alternatives and hidden text keeps what it hides; a paragraph or section
can be hidden whole. None of it is on the page, all of it is in the file.

The promise: the declarations go; every field that shows a user field or a
variable, and every expression or number sequence computed from one, becomes
the plain text it showed (so the page reads the same and nothing recomputes
from a value that is gone); a variable set without being shown, hidden text, a
hidden paragraph and a hidden section go with their content; conditional text
keeps only the alternative it showed, and a section shown by a condition stays
shown without it. Declared values are reported to the
author by name and value; everything else by count.
"""

from __future__ import annotations

from lxml import etree

from ..zipdoc import Tally, is_attached, remove_element, split_tag, unwrap_element

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"

_DECLARATIONS = frozenset({"user-field-decls", "variable-decls"})
_SHOWN_VALUES = frozenset({
    "user-field-get", "user-field-input", "variable-get", "variable-set", "variable-input",
    "conditional-text",
})
_COMPUTED = frozenset({"expression", "sequence"})
_VALUE_ATTRIBUTES = ("string-value", "value", "date-value", "time-value", "boolean-value")


def resolve_fields(root: etree._Element, tally: Tally) -> None:
    """Turn stored-value fields into the text they showed; drop what was hidden."""
    names = _drop_declarations(root, tally)
    frozen = hidden = 0
    for node in list(root.iter(f"{{{TEXT}}}*")):
        if not is_attached(node, root):
            continue
        local = split_tag(node.tag)[1]
        if local in _SHOWN_VALUES or (local in _COMPUTED and _mentions(node, names)):
            if _attribute(node, TEXT, "display") == "none":
                _report_value(node, tally)
                remove_element(node)
            else:
                unwrap_element(node)
                frozen += 1
        elif local == "hidden-text":
            if _is_hidden(node):
                remove_element(node)
                hidden += 1
            else:
                unwrap_element(node)
                frozen += 1
        elif local == "hidden-paragraph":
            hidden += _drop_hidden_paragraph(node, root)
        elif local == "section" and _attribute(node, TEXT, "display") in ("none", "condition"):
            if _attribute(node, TEXT, "display") == "none" or _is_hidden(node):
                remove_element(node)
                hidden += 1
            else:  # shown now: it stays shown, whatever its condition would say later
                for key in ("display", "condition", "is-hidden"):
                    node.attrib.pop(f"{{{TEXT}}}{key}", None)
                frozen += 1
    tally.add("frozen-fields", count=frozen)
    tally.add("hidden-text", count=hidden)


def _drop_declarations(root: etree._Element, tally: Tally) -> set[str]:
    """Remove user-field and variable declarations; return the names they declared."""
    names: set[str] = set()
    for holder in [n for n in root.iter(f"{{{TEXT}}}*")
                   if split_tag(n.tag)[1] in _DECLARATIONS]:
        for declaration in holder:
            name = _attribute(declaration, TEXT, "name").strip()
            if name:
                names.add(name)
            _report_value(declaration, tally)
        if is_attached(holder, root):
            remove_element(holder)
    return names


def _report_value(node: etree._Element, tally: Tally) -> None:
    """A stored value, for the author's page as "name: value"."""
    value = next((str(v).strip() for k, v in node.attrib.items()
                  if split_tag(k)[1] in _VALUE_ATTRIBUTES and str(v).strip()), "")
    value = value or "".join(node.itertext()).strip()
    formula = _attribute(node, TEXT, "formula").strip()
    if value or formula:
        name = _attribute(node, TEXT, "name").strip()
        tally.add("user-fields", f"{name}: {value or formula}" if name else value or formula)


def _mentions(node: etree._Element, names: set[str]) -> bool:
    """An expression, sequence or input whose formula uses a dropped declaration."""
    formula = _attribute(node, TEXT, "formula")
    return bool(formula) and any(name in formula for name in names)


def _drop_hidden_paragraph(marker: etree._Element, root: etree._Element) -> int:
    """A hidden-paragraph field hides the paragraph holding it, when its flag says so."""
    paragraph = next((a for a in marker.iterancestors()
                      if split_tag(a.tag) in ((TEXT, "p"), (TEXT, "h"))), None)
    if _is_hidden(marker) and paragraph is not None and is_attached(paragraph, root):
        remove_element(paragraph)
        return 1
    remove_element(marker)
    return 0


def _is_hidden(node: etree._Element) -> bool:
    return _attribute(node, TEXT, "is-hidden").lower() in ("true", "1")


def _attribute(node: etree._Element, ns: str, local: str) -> str:
    return str(node.get(f"{{{ns}}}{local}", ""))

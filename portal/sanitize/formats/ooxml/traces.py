"""The identifying attributes and elements any XML part of an OOXML package can carry.

Threat: beyond the obvious properties, Office scatters traces through every part:
revision-session ids (rsids) that match a document to the other documents
edited in the same session on the same machine, paragraph and document ids,
the language the author types in, author and user names on leftover review
marks, password hashes, the folder the file was saved in (x15ac:absPath), and
pictures labelled with their original file name (which often holds a date and
a phone model). This pass runs on every XML part that stays, after the
format-specific passes, and removes all of them.
"""

from __future__ import annotations

from lxml import etree

from ..zipdoc import (
    Tally,
    has_local_path,
    is_attached,
    looks_like_image_file_name,
    remove_element,
    split_tag,
)
from .rels import MC, remove_empty_lists

W_NAMESPACES = frozenset({
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",
})
MS_NS = "http://schemas.microsoft.com/office/"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# Random ids Office gives paragraphs, drawings, rows and documents: each one is
# a fingerprint shared with every other copy and version of the file.
_MS_ID_ATTRS = frozenset({
    "paraId", "textId", "docId", "durableId", "dateUtc", "uid", "creationId",
    "revIDLastSave", "documentId", "anchorId", "editId",
})
_MS_ELEMENTS = {
    "docId": "document-id", "creationId": "document-id", "revisionPtr": "document-id",
    "absPath": "file-path", "person": "people", "commentEx": "comments",
    "presenceInfo": "people",
}
_NAME_ATTRS = frozenset({"author", "userName", "createdBy", "lastModifiedBy", "refreshedBy"})
_PERSON_ATTRS = _NAME_ATTRS | {"initials", "userId", "providerId", "personId"}
_LANG_ATTRS = frozenset({"lang", "altLang"})
_LANG_ELEMENTS = frozenset({"lang", "themeFontLang"})
_SECRET_ATTRS = frozenset({
    "hash", "salt", "hashValue", "saltValue", "password", "workbookPassword",
    "revisionsPassword", "workbookHashValue", "workbookSaltValue", "revisionsHashValue",
    "revisionsSaltValue", "hashData", "saltData", "cryptProviderTypeExtSource",
})
_LABEL_ATTRS = frozenset({"name", "descr", "title"})


def scrub_ooxml_part(root: etree._Element, tally: Tally) -> None:
    """Remove every attribute and element on the lists above from one part."""
    doomed: list[tuple[etree._Element, str]] = []
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        ns, local = split_tag(node.tag)
        if local in _LANG_ELEMENTS and _has_values(node):
            tally.add_names("language", _values(node))
            doomed.append((node, ""))
            continue
        if ns in W_NAMESPACES and local in ("rsids", "rsid", "rsidRoot"):
            tally.add("revision-ids", count=max(len(node), 1))
            doomed.append((node, ""))
            continue
        if ns.startswith(MS_NS) and local in _MS_ELEMENTS:
            code = _MS_ELEMENTS[local]
            tally.add(code, _path_of(node) if code == "file-path" else "")
            doomed.append((node, code))
            continue
        _scrub_attributes(node, tally)
    for node, _code in doomed:
        if is_attached(node, root):
            _remove_with_wrapper(node)
    remove_empty_lists(root)


def _scrub_attributes(node: etree._Element, tally: Tally) -> None:
    for key in list(node.attrib):
        value = str(node.attrib[key])
        ns, local = split_tag(key)
        if ns in W_NAMESPACES and local.startswith("rsid"):
            tally.add("revision-ids")
        elif ns.startswith(MS_NS) and local in _MS_ID_ATTRS:
            tally.add("document-id")
        elif ns in W_NAMESPACES and local == "date":
            if value.strip():
                tally.add("document-dates")
        elif local in _PERSON_ATTRS and value.strip():
            if local in _NAME_ATTRS:
                tally.add("author-name", value)
        elif (local in _LANG_ATTRS or (ns, local) == (XML_NS, "lang")) and value.strip():
            tally.add("language", value)
        elif local in _SECRET_ATTRS and value.strip():
            tally.add("password-hash")
        elif local in _LABEL_ATTRS and looks_like_image_file_name(value):
            tally.add("image-file-name", value)
            if local == "name":
                node.set(key, "")  # a drawing's name is required; its value is not
                continue
        elif has_local_path(value):
            tally.add("file-path", value)
        else:
            continue
        del node.attrib[key]


def _has_values(node: etree._Element) -> bool:
    return any(str(v).strip() for v in node.attrib.values()) or bool((node.text or "").strip())


def _values(node: etree._Element) -> list[str]:
    values = [str(v) for v in node.attrib.values()]
    return [*values, node.text or ""]


def _path_of(node: etree._Element) -> str:
    for key, value in node.attrib.items():
        if split_tag(key)[1] in ("url", "val"):
            return str(value)
    return ""


def _remove_with_wrapper(node: etree._Element) -> None:
    """Remove an element together with the compatibility wrapper that exists only for it."""
    parent = node.getparent()
    if parent is not None and split_tag(parent.tag) == (MC, "Choice"):
        wrapper = parent.getparent()
        if wrapper is not None and len(parent) == 1:
            remove_element(wrapper)
            return
    if parent is not None and split_tag(parent.tag)[1] == "ext" and len(parent) == 1:
        remove_element(parent)
        return
    remove_element(node)

"""Word's imported documents (w:altChunk): keep their text, never their metadata.

Threat: a `w:altChunk` points to a part holding a whole other document (HTML,
MHT, RTF, plain text or DOCX) that Word merges in when it opens the file. That
part brings its own traces: an HTML page's <title> and <meta name="author">,
its comments and hidden elements, an MHT's mail headers (a sender, a date, the
folder it was saved from), a nested DOCX's properties, comments and tracked
changes. Dropping the part would lose the author's text without a word.

The promise: plain text and HTML (alone or inside an MHT) become ordinary Word
paragraphs holding their visible text only (no scripts, styles, head, hidden
elements, pictures or links); a nested DOCX is cleaned and verified by the DOCX
cleaner like any embedded document, and its paragraphs' text is merged the same
way. An imported RTF, a text that is not UTF-8, or any other kind is refused
with a reason ("altchunk"): never dropped silently, never passed on as it was.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from email.message import EmailMessage

from lxml import etree
from lxml import html as lxml_html

from ...core import Context
from ...errors import CleaningRefused
from ...limits import Limits
from ...report import Report
from ...sniff import HEAD_BYTES, refine, sniff
from ..zipdoc import Tally, parse_xml, read_package, split_tag, try_parse_xml
from .rels import read_relationships, rels_name_for, resolve_target, source_of
from .traces import W_NAMESPACES

_AFCHUNK = "/aFChunk"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_R_ID = frozenset({
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
})
# Characters XML 1.0 cannot hold; an imported text may contain them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# HTML that is never visible text, and the elements that start a new paragraph.
_INVISIBLE = frozenset({"head", "title", "script", "style", "template", "noscript", "object",
                        "embed", "iframe", "svg", "math", "select", "textarea", "button"})
_BLOCKS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre",
    "tr", "table", "ul", "ol", "dl", "section", "article", "header", "footer", "aside",
    "nav", "figure", "figcaption", "address", "hr", "center", "caption", "main", "body",
})
# A line break inside a paragraph (<br>), kept apart from the whitespace HTML folds.
_BREAK = "\x00"
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
# Names for the kinds of imported document, as the report and refusals show them: file
# type labels, the same in every language (the sentence around them is translated).
_LABELS = {"html": "HTML", "mht": "MHT", "text": "TXT", "docx": "DOCX", "rtf": "RTF"}


def find_alt_chunks(members: dict[str, bytes], limits: Limits) -> dict[str, dict[str, str]]:
    """{Word part: {relationship id: imported part}} for every altChunk relationship."""
    found: dict[str, dict[str, str]] = {}
    for name, data in members.items():
        source = source_of(name)
        if source is None or not source.startswith("word/") or b"aFChunk" not in data:
            continue
        for rel in read_relationships(data, name, limits):
            target = None if rel.external else resolve_target(source, rel.target, set(members))
            if rel.type.endswith(_AFCHUNK) and target is not None:
                found.setdefault(source, {})[rel.id] = target
    return found


def merge_alt_chunks(
    trees: dict[str, etree._Element], chunks: dict[str, dict[str, str]],
    members: dict[str, bytes], report: Report, tally: Tally, ctx: Context,
) -> None:
    """Replace every altChunk in the kept Word parts by the paragraphs of its text."""
    types = _declared_types(members, ctx.limits)
    for source, targets in chunks.items():
        root = trees.get(source)
        if root is None:
            continue
        for chunk in [n for n in root.iter() if split_tag(n.tag) in _ALT_CHUNK_TAGS]:
            target = next((targets.get(v) for k, v in chunk.attrib.items() if k in _R_ID), None)
            if target is None:
                continue  # no part to import: the dangling reference is dropped later
            kind = _kind_of(members[target], types.get(target, ""))
            texts = _paragraphs(kind, members[target], target, report, ctx)
            tally.add("imported-document", _LABELS[kind])
            _replace(chunk, texts)


_ALT_CHUNK_TAGS = frozenset((ns, "altChunk") for ns in W_NAMESPACES)


def _declared_types(members: dict[str, bytes], limits: Limits) -> dict[str, str]:
    """The content type [Content_Types].xml gives each part (a hint; bytes decide too)."""
    root = try_parse_xml(members.get("[Content_Types].xml", b""), "[Content_Types].xml",
                         limits)
    if root is None:
        return {}
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for node in root:
        local = split_tag(node.tag)[1]
        if local == "Default":
            defaults[node.get("Extension", "").lower()] = node.get("ContentType", "").lower()
        elif local == "Override":
            overrides[node.get("PartName", "").lstrip("/")] = node.get("ContentType", "").lower()
    return {name: overrides.get(name) or defaults.get(name.rsplit(".", 1)[-1].lower(), "")
            for name in members}


def _kind_of(data: bytes, declared: str) -> str:
    """html, mht, text, docx or rtf; anything else is refused.

    Markup counts as HTML only when it says so: a Flat OPC or WordprocessingML
    2003 document is XML too, and read as HTML it would give up its deleted text
    and properties with the rest.
    """
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    lowered = head.lower()
    if data.startswith(b"PK"):
        try:
            if refine(sniff(data[:HEAD_BYTES]), data) == "docx":
                return "docx"
        except CleaningRefused:
            pass
        raise CleaningRefused("altchunk", "ZIP")
    if head.startswith(b"{\\rtf") or "rtf" in declared:
        return "rtf"
    if "rfc822" in declared or "multipart" in declared or lowered.startswith(
        (b"mime-version:", b"content-type: multipart")
    ):
        return "mht"
    if "html" in declared or b"<html" in lowered:
        return "html"
    if "text/plain" in declared or (not declared and not lowered.startswith(b"<")):
        return "text"
    raise CleaningRefused("altchunk", "XML" if lowered.startswith(b"<") else "?")


def _paragraphs(kind: str, data: bytes, name: str, report: Report, ctx: Context) -> list[str]:
    if kind == "text":
        return _text_lines(data)
    if kind == "html":
        return _html_paragraphs(data)
    if kind == "mht":
        return _mht_paragraphs(data)
    if kind == "docx":
        return _docx_paragraphs(ctx.clean_embedded(data, name, report), ctx.limits)
    raise CleaningRefused("altchunk", _LABELS.get(kind, kind))


def _text_lines(data: bytes) -> list[str]:
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                          (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            data, chosen = data[len(bom):], encoding
            break
    else:
        chosen = "utf-8"
    try:
        text = data.decode(chosen)
    except UnicodeDecodeError as exc:
        raise CleaningRefused("altchunk", "TXT") from exc
    return [line.strip() for line in text.splitlines()]


def _html_paragraphs(data: bytes | str) -> list[str]:
    text = data if isinstance(data, str) else _decoded_html(data)
    text = _XML_DECLARATION.sub("", text, count=1)  # lxml refuses str with one
    if not text.strip():
        return []
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, no_network=True)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except etree.ParserError:
        return []  # nothing but markup: no text to keep
    except ValueError as exc:
        raise CleaningRefused("altchunk", "HTML") from exc
    paragraphs: list[str] = []
    current: list[str] = []
    for piece in [*_visible_pieces(root), None]:
        if piece is None:  # a paragraph ends
            lines = "".join(current).split(_BREAK)
            text = "\n".join(" ".join(line.split()) for line in lines).strip("\n")
            if text:
                paragraphs.append(text)
            current = []
        else:
            current.append(piece)
    return paragraphs


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]{1,40})""", re.I)


def _decoded_html(data: bytes) -> str:
    """HTML bytes as text: by their byte-order mark, their declared charset, or UTF-8."""
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"),
                          (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, "replace")
    declared = _META_CHARSET.search(data[:4096])
    try:
        return data.decode(declared.group(1).decode("ascii") if declared else "utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise CleaningRefused("altchunk", "HTML") from exc


def _visible_pieces(node: etree._Element) -> Iterator[str | None]:
    """The text an HTML reader would see, with None wherever a paragraph ends."""
    tag = node.tag.lower() if isinstance(node.tag, str) else ""
    if not tag or tag in _INVISIBLE or node.get("hidden") is not None or _HIDDEN_STYLE.search(
        node.get("style", "")
    ):
        return
    if tag == "br":
        yield _BREAK
        return
    block = tag in _BLOCKS
    if block:
        yield None
    if node.text:
        yield node.text
    for child in node:
        yield from _visible_pieces(child)
        if child.tail:
            yield child.tail
    if block:
        yield None


def _mht_paragraphs(data: bytes) -> list[str]:
    """A web archive (MHT): the text of its page; headers, pictures and files are left."""
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage):
        raise CleaningRefused("altchunk", "MHT")
    for wanted in ("text/html", "text/plain"):
        for part in message.walk():
            if part.get_content_type() == wanted and not part.is_multipart():
                try:
                    content = part.get_content()
                except (LookupError, ValueError) as exc:  # an unknown charset, bad encoding
                    raise CleaningRefused("altchunk", "MHT") from exc
                if not isinstance(content, str):
                    continue
                return _html_paragraphs(content) if wanted == "text/html" else [
                    line.strip() for line in content.splitlines()]
    raise CleaningRefused("altchunk", "MHT")


def _docx_paragraphs(cleaned: bytes, limits: Limits) -> list[str]:
    """The text of each paragraph of a DOCX the cleaner has already cleaned and verified."""
    members = read_package(cleaned, limits)
    root = parse_xml(members.get("word/document.xml", b""), "word/document.xml", limits)
    lines: list[str] = []
    for paragraph in root.iter(*(f"{{{ns}}}p" for ns in W_NAMESPACES)):
        if any(split_tag(a.tag)[1] == "p" for a in paragraph.iterancestors()):
            continue  # a text box's paragraph inside another: read with its holder
        parts: list[str] = []
        for node in paragraph.iter():
            local = split_tag(node.tag)[1]
            if local == "t" and node.text:
                parts.append(node.text)
            elif local == "tab":
                parts.append("\t")
            elif local in ("br", "cr"):
                parts.append("\n")
        lines.append("".join(parts))
    return lines


def _replace(chunk: etree._Element, texts: list[str]) -> None:
    """Put Word paragraphs holding `texts` where the altChunk was (one, empty, at least)."""
    parent = chunk.getparent()
    if parent is None:
        return
    ns = split_tag(chunk.tag)[0]
    index = parent.index(chunk)
    for offset, text in enumerate(texts or [""]):
        paragraph = etree.Element(f"{{{ns}}}p")
        lines = _NOT_XML.sub("", text).split("\n")
        if any(lines):
            run = etree.SubElement(paragraph, f"{{{ns}}}r")
            for number, line in enumerate(lines):
                if number:
                    etree.SubElement(run, f"{{{ns}}}br")
                for cell, piece in enumerate(line.split("\t")):
                    if cell:
                        etree.SubElement(run, f"{{{ns}}}tab")
                    if piece:
                        t = etree.SubElement(run, f"{{{ns}}}t")
                        t.text = piece
                        t.set(_XML_SPACE, "preserve")
        parent.insert(index + offset, paragraph)
    parent.remove(chunk)


def imported_parts(chunks: dict[str, dict[str, str]]) -> set[str]:
    """The parts an altChunk imports, with their own relationships: consumed, not dropped."""
    parts = {target for targets in chunks.values() for target in targets.values()}
    return parts | {rels_name_for(part) for part in parts}

"""PDF drawing instructions: remove the comments left inside them, nothing else.

Threat: the instructions that draw a page are text, and `%` starts a comment
that runs to the end of the line. PDF producers write their name, version and
build paths there; people who edit PDFs by hand or with scripts leave notes;
some tools stamp a job id or the user name. No viewer shows them, every text
extractor skips them, and they travel with the file.

The promise: every content stream (a page's contents, form and pattern
drawings, Type 3 glyphs, annotation appearances) that holds a comment is
rewritten by qpdf's own tokenizer with the comment tokens left out and every
other token passed on byte for byte, so what is drawn does not change. A `%`
inside a string or inline image data is not a comment and stays.
"""

from __future__ import annotations

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, TokenFilter, TokenType

from ...report import Report

# Direct (not by reference) nesting is walked this deep; real files nest a few levels.
MAX_DIRECT_DEPTH = 100


class _WithoutComments(TokenFilter):
    """Passes every token on unchanged except comments, which it counts and drops."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def handle_token(self, token: pikepdf.Token) -> pikepdf.Token | None:
        if token.type_ == TokenType.comment:
            self.dropped += 1
            return None
        return token


def remove_content_comments(pdf: pikepdf.Pdf, report: Report) -> None:
    dropped = 0
    for stream in _content_streams(pdf):
        try:
            data = bytes(stream.read_bytes())
        except pikepdf.PdfError:
            continue  # undecodable: the verifier refuses the file
        if b"%" not in data:
            continue
        # qpdf filters content through a form XObject; a copy of the stream is
        # used so that patterns and glyphs, which are not forms, are filtered too.
        holder = pdf.make_stream(data)
        holder.Type, holder.Subtype = Name.XObject, Name.Form
        comments = _WithoutComments()
        filtered = pikepdf.Page(holder).get_filtered_contents(comments)
        if comments.dropped:
            stream.write(filtered)
            dropped += comments.dropped
    if dropped:
        report.remove("pdf-content-comments", count=dropped)


def _content_streams(pdf: pikepdf.Pdf) -> list[Stream]:
    """Each content stream once: page contents, forms, patterns, glyphs, appearances.

    Fonts and annotations are often written inside another object (a page's
    resources), so every object's direct contents are walked too.
    """
    found: dict[tuple[int, int], Stream] = {}

    def add(value: object, levels: int = 2) -> None:
        """A stream, or the streams in an array or (two levels of) dictionaries:
        glyphs by name, appearances by kind and state (/N << /On s /Off t >>)."""
        if isinstance(value, Stream):
            found.setdefault(value.objgen, value)
        elif levels and isinstance(value, Array):
            for item in value:
                add(item, 0)
        elif levels and isinstance(value, Dictionary):
            for _, item in value.items():
                add(item, levels - 1)

    for top in pdf.objects:
        stack: list[tuple[object, int]] = [(top, 0)]
        while stack:
            obj, depth = stack.pop()
            if isinstance(obj, Stream) and (obj.get("/Subtype") == Name.Form
                                            or obj.get("/PatternType") == 1):
                add(obj)
            if isinstance(obj, (Dictionary, Stream)):
                if obj.get("/Type") == Name.Page:
                    add(obj.get("/Contents"))
                add(obj.get("/CharProcs"))
                add(obj.get("/AP"))
                children = [value for _, value in obj.items()]
            elif isinstance(obj, Array):
                children = list(obj)
            else:
                continue
            if depth < MAX_DIRECT_DEPTH:
                stack.extend((child, depth + 1) for child in children
                             if isinstance(child, (Dictionary, Array)) and not child.is_indirect)
    return list(found.values())

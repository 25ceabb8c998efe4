"""PDF: keep the pages, their text and drawings; drop everything that names or calls out.

Threat: a PDF carries its author and software in the Info dictionary and in XMP,
reviewers' names and notes in annotations, attached files, scripts and actions
that run or call home when it is opened, page thumbnails that can show an earlier
draft, editing software's private data (/PieceInfo), digital signatures naming
the signer, camera data inside embedded photographs, and, after an incremental
save, whole earlier versions appended one after another.

The promise: the output is a full rewrite from allow-lists for the trailer, the
catalog, page-tree nodes, annotations and actions, so only objects reachable from
the cleaned catalog survive and earlier revisions are gone. Text and vector
content are kept as they are, never rasterised, without the comments inside
them (formats/pdf/content.py); embedded JPEG and JPEG 2000 images lose their metadata
losslessly; colour profiles and output intents keep their colours and lose
their words (formats/pdf/colour.py). The document /ID is fresh and random. Encrypted
documents are refused, since we cannot see inside them.
"""

from __future__ import annotations

import io
import re
import secrets
from typing import Any, BinaryIO

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream, String

from ...core import Context
from ...errors import CleaningRefused, LimitExceeded
from ...report import Report
from .colour import clean_output_intents, neutralise_profiles
from .content import remove_content_comments
from .images import check_image_size, strip_image_metadata
from .policy import (
    ACROFORM_KEEP,
    ANNOT_COMMENT_KEYS,
    ANNOT_KEEP,
    ANNOT_SUBTYPES_KEPT,
    CATALOG_KEEP,
    DENY_EVERYWHERE,
    FORM_KEEP,
    IMAGE_KEEP,
    PAGE_KEEP,
    PAGE_KEY_CODES,
    PAGES_NODE_KEEP,
    TRAILER_KEEP,
    TRAILER_MANAGED,
    action_safe,
    is_action,
    mentions_javascript,
    name_text,
)

# Direct (not by reference) nesting; real documents stay under ten levels.
MAX_DIRECT_DEPTH = 100
# How qpdf says a file is damaged: mostly PdfError, but some repairs that fail (a page
# tree whose /Count cannot be made right) surface as QpdfRuntimeError instead.
DAMAGED_PDF = (pikepdf.PdfError, pikepdf.QpdfRuntimeError)


def clean_pdf(src: BinaryIO, dst: BinaryIO, report: Report, ctx: Context) -> None:
    """Rewrite the PDF in src into dst, keeping only allow-listed structure."""
    data = src.read()
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise CleaningRefused("encrypted-document") from exc
    except (*DAMAGED_PDF, ValueError) as exc:  # ValueError: a number past 64 bits (startxref)
        raise CleaningRefused("malformed", _short(exc)) from exc
    with pdf:
        if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
            raise CleaningRefused("encrypted-document")
        try:
            _PdfCleaner(pdf, report, ctx).run()
            out = _save_with_random_id(pdf)
        except DAMAGED_PDF as exc:
            raise CleaningRefused("malformed", _short(exc)) from exc
    revisions = _revision_count(data)
    if revisions > 1:
        report.remove("pdf-previous-revisions", count=revisions - 1)
    dst.write(out)


class _PdfCleaner:
    def __init__(self, pdf: pikepdf.Pdf, report: Report, ctx: Context) -> None:
        self.pdf = pdf
        self.report = report
        self.ctx = ctx

    def run(self) -> None:
        limits = self.ctx.limits
        page_count = len(self.pdf.pages)
        if page_count > limits.max_pdf_pages:
            raise LimitExceeded(f"more than {limits.max_pdf_pages} pages")
        if page_count == 0:
            raise CleaningRefused("malformed", "no pages")
        if len(self.pdf.objects) > limits.max_pdf_objects:
            raise LimitExceeded(f"more than {limits.max_pdf_objects} PDF objects")
        info = self._clean_trailer()
        # Every object first (its own deny-list, actions, attachments, images),
        # then the allow-lists of the catalog and of each page's annotations.
        for obj in self.pdf.objects:
            if isinstance(obj, (Dictionary, Stream, Array)) and obj.objgen != info:
                self._clean_tree(obj)
        root = self.pdf.Root
        if not isinstance(root, Dictionary):
            raise CleaningRefused("malformed", "no document catalog")
        self._clean_catalog(root)
        for page in self.pdf.pages:
            self._clean_annotations(page.obj)
        neutralise_profiles(self.pdf, self.report)
        remove_content_comments(self.pdf, self.report)

    # -- document level -------------------------------------------------------

    def _clean_trailer(self) -> tuple[int, int]:
        """Drop the Info dictionary and unknown trailer keys; return Info's object id."""
        trailer = self.pdf.trailer
        info = trailer.get("/Info")
        info_id = (0, 0)
        if isinstance(info, Dictionary):
            self._report_info(info)
            info_id = info.objgen
        for key in list(trailer.keys()):
            if key not in TRAILER_KEEP and key not in TRAILER_MANAGED:
                del trailer[key]
        return info_id

    def _report_info(self, info: Dictionary) -> None:
        keys = sorted(k.lstrip("/") for k in info.keys())
        if not keys:
            return
        self.report.remove("pdf-info", ", ".join(keys))
        author = info.get("/Author")
        if isinstance(author, String) and str(author).strip():
            self.report.remove("author-name", str(author))
        for key in ("/Creator", "/Producer"):
            value = info.get(key)
            if isinstance(value, String) and str(value).strip():
                self.report.remove("software", str(value))
        if "/CreationDate" in info or "/ModDate" in info:
            self.report.remove("document-dates")

    def _clean_catalog(self, root: Dictionary) -> None:
        if "/OpenAction" in root:
            self.report.remove("pdf-actions")
        if "/Lang" in root:
            self.report.remove("language", _text(root.get("/Lang")))
        for key in list(root.keys()):
            if key not in CATALOG_KEEP:
                self._report_dropped_key(key, root)
                del root[key]
        names = root.get("/Names")
        if isinstance(names, Dictionary):
            for key in list(names.keys()):
                if key == "/Dests":
                    continue
                if key == "/JavaScript":
                    self.report.remove("pdf-javascript")
                elif key != "/EmbeddedFiles":  # attachments are named from their /EF below
                    self.report.remove("unknown-part", key.lstrip("/"))
                del names[key]
        clean_output_intents(root, self.report)
        form = root.get("/AcroForm")
        if isinstance(form, Dictionary):
            for key in list(form.keys()):
                if key not in ACROFORM_KEEP:
                    if key == "/XFA":
                        self.report.remove("unknown-part", "XFA")
                    del form[key]

    def _report_dropped_key(self, key: str, holder: Any) -> None:
        if key in DENY_EVERYWHERE:
            self._report_denied(key, holder.get(key))
        elif key in ("/OpenAction", "/Lang", "/AF"):
            return  # reported where it is handled
        elif key == "/PTEX.InfoDict" and isinstance(holder.get(key), Dictionary):
            self._report_info(holder.get(key))
        elif key in ("/PTEX.FileName", "/F", "/OPI", "/Ref"):
            self.report.remove("external-link", _file_name(holder.get(key)) or key.lstrip("/"))
        elif key in ("/Perms", "/DSS"):
            self.report.remove("pdf-signatures")
        elif key == "/Collection":
            self.report.remove("pdf-attachments", "portfolio")
        else:
            self.report.remove(PAGE_KEY_CODES.get(key, "unknown-part"), key.lstrip("/"))

    # -- annotations ----------------------------------------------------------

    def _clean_annotations(self, page: Dictionary) -> None:
        annots = page.get("/Annots")
        if annots is None:
            return
        if not isinstance(annots, Array):
            del page["/Annots"]
            return
        kept = []
        for annot in annots:
            if not isinstance(annot, Dictionary):
                continue
            subtype = name_text(annot.get("/Subtype"))
            author = annot.get("/T")
            if subtype != "/Widget" and isinstance(author, String):
                self.report.remove("pdf-annotation-authors")
            if not self._annotation_kept(annot, subtype):
                if subtype != "/Popup":  # a pop-up is part of the note it belongs to
                    self.report.remove("annotations")
                continue
            if any(annot.get(k) for k in ANNOT_COMMENT_KEYS) and subtype != "/Widget":
                self.report.remove("comments")
            for key in list(annot.keys()):
                if key not in ANNOT_KEEP and not (key == "/T" and subtype == "/Widget"):
                    del annot[key]
            kept.append(annot)
        if kept:
            page["/Annots"] = Array(kept)
        else:
            del page["/Annots"]

    @staticmethod
    def _annotation_kept(annot: Dictionary, subtype: str) -> bool:
        if subtype == "/FreeText":  # typewriter text is page content; callouts are notes
            return name_text(annot.get("/IT")) == "/FreeTextTypeWriter"
        return subtype in ANNOT_SUBTYPES_KEPT

    # -- every object -------------------------------------------------------

    def _clean_tree(self, top: Dictionary | Stream | Array) -> None:
        """Clean one indirect object and the direct objects nested inside it.

        Indirect objects are each visited once from `pdf.objects`, so references
        are never followed here and a reference loop cannot make this loop.
        """
        stack: list[tuple[Any, int]] = [(top, 0)]
        while stack:
            obj, depth = stack.pop()
            if depth > MAX_DIRECT_DEPTH:
                raise LimitExceeded("PDF objects nested too deeply")
            if isinstance(obj, (Dictionary, Stream)):
                self._clean_dictionary(obj)
                # items(), not get(key): a key that is not UTF-8 cannot be looked up by name
                children = [value for _, value in obj.items()]
            elif isinstance(obj, Array):
                children = list(obj)
            else:
                continue
            for child in children:
                if isinstance(child, (Dictionary, Stream, Array)) and not child.is_indirect:
                    stack.append((child, depth + 1))

    def _clean_dictionary(self, obj: Dictionary | Stream) -> None:
        for key in DENY_EVERYWHERE:
            if key in obj:
                self._report_denied(key, obj.get(key))
                del obj[key]
        if "/EF" in obj:
            self.report.remove("pdf-attachments", _file_name(obj))
            del obj["/EF"]
        if "/AF" in obj:
            del obj["/AF"]  # associated files: their file specs lose /EF above
        for key in ("/A", "/PA", "/Next"):
            if key in obj and is_action(obj.get(key)) and not action_safe(obj.get(key)):
                if mentions_javascript(obj.get(key)):
                    self.report.remove("pdf-javascript")
                self.report.remove("pdf-actions")
                del obj[key]
        value = obj.get("/V")
        if isinstance(value, Dictionary) and ("/ByteRange" in value or value.get("/Type") == "/Sig"):
            self.report.remove("pdf-signatures")
            del obj["/V"]
        usage = obj.get("/Usage")
        if isinstance(usage, Dictionary) and "/User" in usage:
            self.report.remove("people")
            del usage["/User"]
        kind = obj.get("/Type")
        if kind in ("/Page", "/Pages") and isinstance(obj, Stream):
            # Pages and page-tree nodes are dictionaries (ISO 32000-1, 7.7.3): a stream that
            # claims to be one cannot be cut down to their allow-list without losing /Length.
            raise CleaningRefused("malformed", f"a stream that claims to be {kind}")
        if kind == "/Page":
            self._filter_keys(obj, PAGE_KEEP)
        elif kind == "/Pages":
            self._filter_keys(obj, PAGES_NODE_KEEP)
        if isinstance(obj, Stream):
            subtype = obj.get("/Subtype")
            if subtype == "/Image":
                self._filter_keys(obj, IMAGE_KEEP)
                check_image_size(obj, self.ctx.limits)
                self._clean_image_stream(obj)
            elif subtype == "/Form":
                self._filter_keys(obj, FORM_KEEP)

    def _report_denied(self, key: str, value: Any) -> None:
        count = len(value.keys()) if key == "/AA" and isinstance(value, Dictionary) else 1
        detail = str(value) if key == "/Creator" and isinstance(value, String) else ""
        self.report.remove(DENY_EVERYWHERE[key], detail, count)

    def _filter_keys(self, obj: Dictionary | Stream, keep: frozenset[str]) -> None:
        for key in list(obj.keys()):
            if key not in keep:
                self._report_dropped_key(key, obj)
                del obj[key]

    def _clean_image_stream(self, image: Stream) -> None:
        filters = image.get("/Filter")
        filter_list = list(filters) if isinstance(filters, Array) else [filters]
        names = [name_text(f) for f in filter_list]
        last = names[-1] if names else ""
        if last not in ("/DCTDecode", "/JPXDecode"):
            return
        parms = image.get("/DecodeParms")
        own_parms = parms[-1] if isinstance(parms, Array) and len(parms) else parms
        if len(names) == 1:
            encoded = image.read_raw_bytes()
        else:  # e.g. a JPEG compressed again with Flate: undo only the outer filters
            outer = Stream(self.pdf, image.read_raw_bytes())
            outer.Filter = Array(filter_list[:-1])
            if isinstance(parms, Array):
                outer.DecodeParms = Array(list(parms)[:-1])
            encoded = outer.read_bytes()
        cleaned, found = strip_image_metadata(encoded, last == "/DCTDecode", self.ctx.limits)
        for code in found:
            self.report.remove(code)
        if cleaned != encoded or len(names) > 1:
            decode_parms = own_parms if isinstance(own_parms, Dictionary) else None
            image.write(cleaned, filter=Name(last), decode_parms=decode_parms)


# -- helpers ------------------------------------------------------------------


def _text(value: Any) -> str:
    """A string or name as report text (a /Lang written as a name is still a language)."""
    return str(value) if isinstance(value, String) else name_text(value).lstrip("/")


def _file_name(spec: Any) -> str:
    if isinstance(spec, String):
        return str(spec)
    if isinstance(spec, Dictionary):
        for key in ("/UF", "/F", "/DOS", "/Unix", "/Mac"):
            value = spec.get(key)
            if isinstance(value, String):
                return str(value)
    return ""


def _save_with_random_id(pdf: pikepdf.Pdf) -> bytes:
    """Write the whole document anew with a fresh /ID drawn from `secrets`.

    Both halves get the same random value, as in a newly created file: a first
    half that differs from the second says "kept from an original", and the
    verifier refuses that. qpdf keeps the first half it is given and, with
    static_id, writes a fixed second half; that placeholder, which follows our
    random first half, is then replaced in place (same length, no offset moves).
    """
    fresh = secrets.token_bytes(16)
    pdf.trailer.ID = Array([String(fresh), String(fresh)])
    out = io.BytesIO()
    pdf.save(
        out, static_id=True, preserve_pdfa=False, fix_metadata_version=False,
        object_stream_mode=pikepdf.ObjectStreamMode.generate, linearize=False,
        compress_streams=True,
    )
    data = out.getvalue()
    first = b"<" + fresh.hex().encode() + b">"
    placeholder = first + b"<31415926535897932384626433832795>"
    if data.count(placeholder) != 1:
        raise CleaningRefused("malformed", "could not set a fresh document ID")
    data = data.replace(placeholder, first + first)
    with pikepdf.open(io.BytesIO(data)) as check:
        if [bytes(half) for half in check.trailer.ID] != [fresh, fresh]:
            raise CleaningRefused("malformed", "could not set a fresh document ID")
    return data


def _revision_count(data: bytes) -> int:
    """How many saved versions the file holds: one cross-reference section each.

    A linearized file has a second, first-page section that is not a revision.
    """
    sections = data.count(b"startxref")
    if b"/Linearized" in data[:1024]:
        sections -= 1
    return max(sections, 1)


def _short(exc: Exception) -> str:
    """qpdf's message without its prefix, which names an in-memory stream object."""
    text = " ".join(str(exc).split())
    text = re.sub(r"^(stream )?<[^>]*>( \(object [^)]*\))?(, offset \d+)?:\s*", "", text)
    return text[:120]

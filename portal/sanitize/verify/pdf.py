"""Verify a cleaned PDF: re-read every object and every decoded stream.

The promise: a PDF passes only if pikepdf opens it without repairs, unencrypted
and within the page and object limits, and nothing on this deny-list remains in
the file's raw bytes, in any object, or in any stream once decoded:

* raw bytes: anything before %PDF-, more than one %%EOF or startxref (an
  incremental update keeps the old revision readable), data after %%EOF, an
  XMP packet;
* trailer: a non-empty /Info dictionary, a /Prev (older revision), a document
  /ID whose two halves differ (the first half is the original file's permanent
  id, which links the cleaned copy to the draft on the author's disk; a fresh
  id has both halves equal);
* any dictionary: /Metadata (catalog, pages, images, fonts), /EmbeddedFiles,
  /AF, /JavaScript, /JS, /OpenAction, /AA, /Thumb, /PieceInfo, /LastModified,
  /CreationDate, /ModDate, /Lang, /XFA, /Perms, /Collection; Filespec and
  EmbeddedFile objects; signatures; Launch, GoToR, GoToE, SubmitForm,
  ImportData, JavaScript, Rendition, Sound and Movie actions;
* annotations: FileAttachment, Sound, Movie, RichMedia, 3D, Screen, Popup and
  Text annotations; a date (/M) on any annotation, an author (/T) on any
  annotation but a form widget (where /T is the field's name) or a link;
* images: a DCTDecode stream whose JPEG has any APPn segment but JFIF/Adobe or
  a COM segment (the JPEG verifier from verify_media); a JPXDecode stream with
  metadata boxes or a COM segment;
* every decoded stream: an XMP packet; every non-image stream and every
  string: a local user path;
* colour profiles and output intents that still carry words or device data
  (verify/pdf_colour.py); comments in drawing instructions (verify/pdf_content.py).

Decoding is bounded: each stream's expansion is measured or bounded before it
is decoded, against `Limits.max_xml_bytes` per stream and
`Limits.max_zip_expanded_bytes` for the whole file.
"""

from __future__ import annotations

import io
import zlib
from typing import Any

import pikepdf

from ..errors import LimitExceeded
from ..limits import Limits
from .common import EmbeddedCheck, check_local_paths_bytes, check_local_paths_text, fail
from .pdf_colour import check_icc_profile, check_output_intent, is_icc_profile
from .pdf_content import content_stream_ids, has_comment

_DENIED_KEYS = {
    "/Metadata": "XMP metadata", "/EmbeddedFiles": "embedded file",
    "/AF": "associated file", "/JavaScript": "JavaScript", "/JS": "JavaScript",
    "/OpenAction": "open action", "/AA": "automatic action", "/Thumb": "page thumbnail",
    "/PieceInfo": "application data (PieceInfo)", "/LastModified": "modification date",
    "/CreationDate": "creation date", "/ModDate": "modification date",
    "/Lang": "language tag", "/XFA": "XFA form data", "/Perms": "signature permissions",
    "/Collection": "PDF portfolio",
}
_DENIED_ACTIONS = frozenset({
    "/Launch", "/GoToR", "/GoToE", "/SubmitForm", "/ImportData", "/JavaScript",
    "/Rendition", "/Sound", "/Movie",
})
_MEDIA_ANNOTATIONS = frozenset({"/FileAttachment", "/Sound", "/Movie", "/RichMedia", "/3D",
                                "/Screen"})
_COMMENT_ANNOTATIONS = frozenset({"/Popup", "/Text"})
_UNAUTHORED_ANNOTATIONS = frozenset({"/Widget", "/Link"})
_IMAGE_FILTERS = frozenset({"/DCTDecode", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode"})
# Worst-case expansion of the filters whose output size cannot be measured cheaply.
_EXPANSION = {"/ASCIIHexDecode": 1, "/ASCII85Decode": 1, "/RunLengthDecode": 128,
              "/LZWDecode": 2800, "/FlateDecode": 1032}
_XMP_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("xmpmeta", "xpacket", "adobe:ns:meta")
    for encoding in ("ascii", "utf-16-le", "utf-16-be")
)
# Direct objects nest a few levels in real files; qpdf itself stops at 500.
MAX_NESTING = 100


def verify_pdf(kind: str, data: bytes, limits: Limits, embedded: EmbeddedCheck) -> None:
    """Raise VerificationFailed if this PDF still carries identifying data.

    `embedded` is the verifiers' common signature; a PDF may hold no file (an
    attachment is itself a refusal) and its pictures are read here.
    """
    _check_raw(data)
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        fail("encrypted PDF")
    except (pikepdf.PdfError, pikepdf.QpdfRuntimeError, ValueError, OSError):
        fail("unreadable PDF")
    with pdf:
        if pdf.is_encrypted:
            fail("encrypted PDF")
        try:
            _check_document(pdf, limits)
        except (pikepdf.PdfError, pikepdf.QpdfRuntimeError, UnicodeDecodeError, TypeError, ValueError):
            # Names that are not UTF-8, keys qpdf cannot look up: not a file we can vouch for.
            fail("unreadable PDF")
        if pdf.get_warnings():
            fail("damaged PDF (repaired on reading)")


def _check_raw(data: bytes) -> None:
    if not data.startswith(b"%PDF-"):
        fail("data before the PDF header")
    if data.count(b"%%EOF") != 1 or data.count(b"startxref") != 1:
        fail("incremental update (older revision kept)")
    if data[data.rindex(b"%%EOF") + 5 :].strip(b"\r\n"):
        fail("data after the end of the PDF")
    _check_xmp(data, "PDF")


def _check_xmp(data: bytes, where: str) -> None:
    if any(marker in data for marker in _XMP_MARKERS):
        fail(f"XMP packet in {where}")


def _check_document(pdf: pikepdf.Pdf, limits: Limits) -> None:
    trailer = pdf.trailer
    size = trailer.get("/Size")
    if not isinstance(size, int) or size > limits.max_pdf_objects + 1:
        raise LimitExceeded("too many PDF objects")
    if len(pdf.pages) > limits.max_pdf_pages:
        raise LimitExceeded("too many PDF pages")
    info = trailer.get("/Info")
    if isinstance(info, pikepdf.Dictionary) and len(info.keys()):
        fail("document information (author, dates, producer)")
    if "/Prev" in trailer:
        fail("incremental update (older revision kept)")
    ids = trailer.get("/ID")
    if isinstance(ids, pikepdf.Array) and len(ids) == 2 and bytes(ids[0]) != bytes(ids[1]):
        fail("document ID kept from the original file")
    _check_dictionary(trailer, _Budget(limits), 0)
    budget = _Budget(limits)
    budget.content_streams = content_stream_ids(pdf)
    for obj in pdf.objects:
        _check_value(obj, budget, 0)


class _Budget:
    """Decoded bytes: per stream and for the whole file."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.per_stream = limits.max_xml_bytes
        self.left = limits.max_zip_expanded_bytes
        # The streams holding drawing instructions, whose decoded text is read again.
        self.content_streams: set[tuple[int, int]] = set()

    def spend(self, amount: int) -> None:
        if amount > self.per_stream:
            raise LimitExceeded("PDF stream expands beyond the size limit")
        self.left -= amount
        if self.left < 0:
            raise LimitExceeded("PDF streams expand beyond the size limit")


def _check_value(obj: Any, budget: _Budget, depth: int) -> None:
    if depth > MAX_NESTING:
        fail("PDF objects nested too deeply")
    if isinstance(obj, pikepdf.Stream):
        _check_dictionary(obj, budget, depth)
        _check_stream(obj, budget)
    elif isinstance(obj, pikepdf.Dictionary):
        _check_dictionary(obj, budget, depth)
    elif isinstance(obj, pikepdf.Array):
        for item in obj:
            if not _is_reference(item):
                _check_value(item, budget, depth + 1)
    elif isinstance(obj, pikepdf.String):
        raw = bytes(obj)
        check_local_paths_bytes(raw, "a PDF string")
        check_local_paths_text(str(obj), "a PDF string")
        _check_xmp(raw, "a PDF string")


def _is_reference(obj: Any) -> bool:
    # Indirect objects are checked once each, from the object table, so loops
    # of references cannot make the walk go round.
    return isinstance(obj, pikepdf.Object) and obj.is_indirect


def _check_dictionary(obj: pikepdf.Object, budget: _Budget, depth: int) -> None:
    keys = set(obj.keys())
    for key in keys & _DENIED_KEYS.keys():
        fail(f"{_DENIED_KEYS[key]} in PDF")
    kind, subtype = _name(obj.get("/Type")), _name(obj.get("/Subtype"))
    if _name(obj.get("/S")) in _DENIED_ACTIONS:
        fail("action opening a file, program or form submission in PDF")
    if kind in ("/Filespec", "/EmbeddedFile"):
        fail("embedded or linked file in PDF")
    if kind == "/Sig" or _name(obj.get("/FT")) == "/Sig" or "/ByteRange" in keys:
        fail("digital signature in PDF")
    if kind == "/OutputIntent" or "/OutputConditionIdentifier" in keys:
        identifier = obj.get("/OutputConditionIdentifier")
        check_output_intent(keys, str(identifier) if isinstance(identifier, pikepdf.String)
                            else "")
    if kind == "/Annot" or (subtype and "/Rect" in keys):
        if subtype in _MEDIA_ANNOTATIONS:
            fail("embedded file or media annotation in PDF")
        if subtype in _COMMENT_ANNOTATIONS:
            fail("comment annotation in PDF")
        if "/M" in keys or "/CreationDate" in keys:
            fail("annotation date in PDF")
        if "/T" in keys and subtype not in _UNAUTHORED_ANNOTATIONS:
            fail("annotation author in PDF")
    for _, value in obj.items():  # not get(key): a key that is not UTF-8 cannot be looked up
        if not _is_reference(value):
            _check_value(value, budget, depth + 1)


def _name(value: Any) -> str:
    """A name as text; one that is not UTF-8 (GBK font names are) in its escaped form."""
    if not isinstance(value, pikepdf.Name):
        return ""
    try:
        return str(value)
    except UnicodeDecodeError:
        return bytes(value.unparse()).decode("ascii", "replace")


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Name):
        return [_name(value)]
    if isinstance(value, pikepdf.Array) and all(isinstance(v, pikepdf.Name) for v in value):
        return [_name(v) for v in value]
    fail("malformed stream filter in PDF")


def _check_stream(stream: pikepdf.Stream, budget: _Budget) -> None:
    filters = _filters(stream)
    is_image = _name(stream.get("/Subtype")) == "/Image"
    raw = stream.read_raw_bytes()
    if filters and filters[-1] in _IMAGE_FILTERS:
        if len(filters) > 1:
            fail("image behind other filters in PDF")
        if filters[0] == "/DCTDecode":
            from .media import check_jpeg

            check_jpeg(raw, budget.limits)
        elif filters[0] == "/JPXDecode":
            from .isobmff import check_jpx

            check_jpx(raw)
        _check_xmp(raw, "a PDF image")
        return
    if is_image:
        _check_declared_image(stream, budget.limits)
    decoded = _decode(stream, raw, filters, budget)
    _check_xmp(decoded, "a PDF stream")
    if not is_image:
        check_local_paths_bytes(decoded, "a PDF stream")
    if "/N" in stream and is_icc_profile(decoded):
        check_icc_profile(decoded, "a PDF colour profile")
    if stream.objgen in budget.content_streams and has_comment(decoded):
        fail("comment in the drawing instructions of a PDF page")


def _check_declared_image(stream: pikepdf.Stream, limits: Limits) -> None:
    """Before an image is decoded: its declared size, at one colour component (never
    more than the cleaner counted), within the picture budget."""
    try:
        width, height = int(stream.get("/Width", 0)), int(stream.get("/Height", 0))
        bits = 1 if stream.get("/ImageMask") is True else int(stream.get("/BitsPerComponent", 8))
    except (TypeError, ValueError):
        fail("malformed image dictionary in PDF")
    if width * height * max(bits, 1) // 8 > limits.max_image_bytes:
        raise LimitExceeded("PDF image too large once decoded")


def _decode(stream: pikepdf.Stream, raw: bytes, filters: list[str], budget: _Budget) -> bytes:
    """Decode a stream, never past the per-stream budget."""
    if not filters:
        budget.spend(len(raw))
        return raw
    for name in filters:
        if name not in _EXPANSION:
            fail("unknown stream filter in PDF")
    if filters[0] == "/FlateDecode":
        inflater = zlib.decompressobj()
        try:
            first = inflater.decompress(raw, budget.per_stream + 1)
        except zlib.error:
            fail("damaged compressed stream in PDF")
        bound = len(first)
        if bound > budget.per_stream:
            raise LimitExceeded("PDF stream expands beyond the size limit")
        if filters == ["/FlateDecode"] and "/DecodeParms" not in stream:
            budget.spend(len(first))
            return first
        rest = filters[1:]
    else:
        bound, rest = len(raw), filters
    for name in rest:
        bound *= _EXPANSION[name]
    budget.spend(bound)
    try:
        return bytes(stream.read_bytes())
    except pikepdf.PdfError:
        fail("undecodable stream in PDF")

"""The verifier refuses a PDF while any identifying object, stream or revision remains."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

import pikepdf
import pytest

from portal.sanitize.errors import CleaningRefused, LimitExceeded, VerificationFailed
from portal.sanitize.limits import Limits
from portal.sanitize.verify import verify

from . import verify_samples as samples

XMP = (b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
       b"<dc:creator>Wang</dc:creator></x:xmpmeta><?xpacket end=\"w\"?>")


def test_clean_pdf_passes() -> None:
    verify("pdf", samples.pdf())


def test_clean_pdf_with_object_streams_passes() -> None:
    verify("pdf", samples.pdf(object_stream_mode=pikepdf.ObjectStreamMode.generate))


def test_empty_info_dictionary_passes() -> None:
    verify("pdf", samples.pdf(lambda pdf: setattr(
        pdf.trailer, "Info", pdf.make_indirect(pikepdf.Dictionary()))))


def test_form_field_name_is_not_an_author() -> None:
    def add_widget(pdf: pikepdf.Pdf) -> None:
        widget = pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Widget, Rect=[0, 0, 10, 10],
            FT=pikepdf.Name.Tx, T=pikepdf.String("name")))
        pdf.pages[0].Annots.append(widget)
        pdf.Root.AcroForm = pikepdf.Dictionary(Fields=[widget])

    verify("pdf", samples.pdf(add_widget))


def _page(pdf: pikepdf.Pdf) -> pikepdf.Page:
    return pdf.pages[0]


def _image(pdf: pikepdf.Pdf) -> Any:
    return _page(pdf).Resources.XObject.Im0


def _annotation(pdf: pikepdf.Pdf, subtype: str, **extra: Any) -> None:
    _page(pdf).Annots.append(pdf.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name(subtype), Rect=[0, 0, 10, 10], **extra)))


def _link_action(action: str) -> Callable[[pikepdf.Pdf], None]:
    def mutate(pdf: pikepdf.Pdf) -> None:
        _annotation(pdf, "/Link", A=pikepdf.Dictionary(
            S=pikepdf.Name(action), F=pikepdf.String("x.pdf")))
    return mutate


def _attach(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["notes.txt"] = pikepdf.AttachedFileSpec(pdf, b"secret", mime_type="text/plain")


def _replace_jpeg(**save: object) -> Callable[[pikepdf.Pdf], None]:
    def mutate(pdf: pikepdf.Pdf) -> None:
        _image(pdf).write(samples.jpeg_bytes(**save), filter=pikepdf.Name.DCTDecode)
    return mutate


def _content(text: bytes) -> Callable[[pikepdf.Pdf], None]:
    def mutate(pdf: pikepdf.Pdf) -> None:
        _page(pdf).Contents = pdf.make_stream(text)
    return mutate


def _set(target: Callable[[pikepdf.Pdf], Any], key: str,
         value: Callable[[pikepdf.Pdf], object]) -> Callable[[pikepdf.Pdf], None]:
    def mutate(pdf: pikepdf.Pdf) -> None:
        target(pdf)[key] = value(pdf)
    return mutate


def _root(pdf: pikepdf.Pdf) -> pikepdf.Object:
    return pdf.Root


def _stream(data: bytes) -> Callable[[pikepdf.Pdf], object]:
    return lambda pdf: pdf.make_stream(data)


def _text(value: str) -> Callable[[pikepdf.Pdf], object]:
    return lambda pdf: pikepdf.String(value)


DENIED: dict[str, tuple[Callable[[pikepdf.Pdf], None], str]] = {
    "info author": (lambda pdf: pdf.docinfo.__setitem__("/Author", "王小明"),
                    "document information"),
    "info producer": (lambda pdf: pdf.docinfo.__setitem__("/Producer", "Word"),
                      "document information"),
    "catalog XMP": (_set(_root, "/Metadata", _stream(XMP)), "XMP"),
    "page metadata": (_set(_page, "/Metadata", _stream(b"hello")), "XMP metadata"),
    "image metadata": (_set(_image, "/Metadata", _stream(b"hello")), "XMP metadata"),
    "XMP in a compressed stream": (_set(_root, "/Private", _stream(XMP)), "XMP packet"),
    "embedded file": (_attach, "embedded file|associated file"),
    "file attachment annotation": (lambda pdf: _annotation(pdf, "/FileAttachment"),
                                   "embedded file"),
    "associated file": (_set(_root, "/AF", lambda pdf: pikepdf.Array()), "associated file"),
    "document JavaScript": (_set(_root, "/Names", lambda pdf: pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=[]))), "JavaScript"),
    "JS action": (_set(_root, "/OpenAction", lambda pdf: pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)"))), "open action|JavaScript"),
    "open action": (_set(_root, "/OpenAction", lambda pdf: pikepdf.Array([0])), "open action"),
    "page additional actions": (_set(_page, "/AA", lambda pdf: pikepdf.Dictionary()),
                                "automatic action"),
    "launch": (_link_action("/Launch"), "action"),
    "GoToR": (_link_action("/GoToR"), "action"),
    "SubmitForm": (_link_action("/SubmitForm"), "action"),
    "ImportData": (_link_action("/ImportData"), "action"),
    "thumbnail": (_set(_page, "/Thumb", _stream(b"\0")), "thumbnail"),
    "PieceInfo": (_set(_page, "/PieceInfo", lambda pdf: pikepdf.Dictionary()), "PieceInfo"),
    "LastModified": (_set(_page, "/LastModified", _text("D:20240301")), "modification date"),
    "language": (_set(_root, "/Lang", _text("zh-HK")), "language"),
    "sticky note": (lambda pdf: _annotation(pdf, "/Text", Contents=pikepdf.String("hi")),
                    "comment annotation"),
    "popup": (lambda pdf: _annotation(pdf, "/Popup"), "comment annotation"),
    "highlight with author": (lambda pdf: _annotation(pdf, "/Highlight", T=pikepdf.String("王")),
                              "annotation author"),
    "annotation date": (lambda pdf: _annotation(pdf, "/Square", M=pikepdf.String("D:2024")),
                        "annotation date"),
    "JPEG with Exif": (_replace_jpeg(exif=b"Exif\0\0MM\0*\0\0\0\x08\0\0"), "Exif"),
    "JPEG with comment": (_replace_jpeg(comment=b"Shenzhen"), "comment"),
    "JPEG with ICC": (_replace_jpeg(icc_profile=b"\0" * 128), "ICC"),
    "local path in a link": (lambda pdf: _annotation(pdf, "/Link", A=pikepdf.Dictionary(
        S=pikepdf.Name.URI, URI=pikepdf.String("file:///C:/Users/wang/a.pdf"))), "local file path"),
    "local path in page text": (_content(b"BT (C:\\\\Users\\\\wang\\\\a.docx) Tj ET"),
                                "local file path"),
    "signature": (_set(_root, "/Sig", lambda pdf: pikepdf.Dictionary(
        Type=pikepdf.Name.Sig, Name=pikepdf.String("Wang"))), "signature"),
}


@pytest.mark.parametrize("case", sorted(DENIED))
def test_pdf_with_identifying_data_is_refused(case: str) -> None:
    mutate, expected = DENIED[case]
    with pytest.raises(VerificationFailed, match=expected):
        verify("pdf", samples.pdf(mutate))


def test_document_id_inherited_from_the_original_is_refused() -> None:
    word_id = pikepdf.String(bytes.fromhex("9f2c61d0b7a34e58a1c2d3e4f5061728"))

    def as_if_written_by_word(pdf: pikepdf.Pdf) -> None:
        pdf.trailer.ID = pikepdf.Array([word_id, word_id])

    resaved = samples.pdf(as_if_written_by_word)  # qpdf keeps the first half of the old /ID
    with pytest.raises(VerificationFailed, match="document ID"):
        verify("pdf", resaved)
    original = pikepdf.open(io.BytesIO(resaved))
    del original.trailer.ID  # what a cleaner does: then a fresh id is written
    buffer = io.BytesIO()
    original.save(buffer)
    verify("pdf", buffer.getvalue())


def test_incremental_update_is_refused() -> None:
    data = samples.pdf()
    update = (b"\n5 0 obj\n<< /Author (Wang) >>\nendobj\nxref\n5 1\n%010d 00000 n \n"
              b"trailer\n<< /Size 6 /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n")
    start = data.rindex(b"startxref")
    offset = len(data) + 1
    data += update % (offset, int(data[start + 10 :].split()[0]), offset + 40)
    with pytest.raises(VerificationFailed, match="incremental update"):
        verify("pdf", data)


@pytest.mark.parametrize("change", [
    lambda data: b"junk\n" + data, lambda data: data + b"trailing words",
])
def test_data_outside_the_pdf_is_refused(change: Callable[[bytes], bytes]) -> None:
    with pytest.raises(VerificationFailed):
        verify("pdf", change(samples.pdf()))


def test_encrypted_pdf_is_refused() -> None:
    data = samples.pdf(encryption=pikepdf.Encryption(owner="owner", user=""))
    with pytest.raises(VerificationFailed, match="encrypted"):
        verify("pdf", data)


def test_page_tree_loop_is_refused_fast() -> None:
    def loop(pdf: pikepdf.Pdf) -> None:
        pdf.Root.Pages.Kids.append(pdf.Root.Pages)

    started = time.monotonic()
    with pytest.raises(CleaningRefused):
        verify("pdf", samples.pdf(loop))
    assert time.monotonic() - started < 5


def test_reference_cycle_between_objects_does_not_hang() -> None:
    def cycle(pdf: pikepdf.Pdf) -> None:
        first = pdf.make_indirect(pikepdf.Dictionary())
        second = pdf.make_indirect(pikepdf.Dictionary(Next=first))
        first.Next = second
        pdf.Root.Chain = first

    verify("pdf", samples.pdf(cycle))


def test_page_and_object_limits_are_enforced() -> None:
    two_pages = samples.pdf(lambda pdf: pdf.add_blank_page())
    with pytest.raises(LimitExceeded):
        verify("pdf", two_pages, Limits(max_pdf_pages=1))
    with pytest.raises(LimitExceeded):
        verify("pdf", two_pages, Limits(max_pdf_objects=3))


def test_stream_that_expands_past_the_limit_is_refused() -> None:
    big = samples.pdf(_content(b"0 0 m " * 20_000))
    with pytest.raises(LimitExceeded):
        verify("pdf", big, Limits(max_xml_bytes=10_000))

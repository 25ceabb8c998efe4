"""Minimal files for the verifier's tests: clean ones, and builders for dirty ones.

Everything is built in memory, by hand or with the real libraries (zipfile,
pikepdf, Pillow, mutagen), so each test says exactly which identifying field
it plants. The clean samples are what a cleaner is expected to produce.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable, Sequence

import pikepdf
from PIL import Image

EPOCH = (1980, 1, 1, 0, 0, 0)
XML_DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def make_zip(members: Sequence[tuple[str, bytes | str]], stored: Sequence[str] = ("mimetype",)
             ) -> bytes:
    """A zip as a careful writer makes it: epoch timestamps, no comments, no extras."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(info, content.encode() if isinstance(content, str) else content)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (4, 4), **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG", **save)
    return buffer.getvalue()


def jpeg_bytes(**save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 30)).save(buffer, "JPEG", **save)
    return buffer.getvalue()


# ---- OOXML ------------------------------------------------------------------

def _relationships(entries: Sequence[tuple[str, str, str, str]]) -> str:
    rows = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="{target}"{mode}/>'
        for rid, kind, target, mode in entries
    )
    return f'{XML_DECL}<Relationships xmlns="{PKG_RELS}">{rows}</Relationships>'


CORE_CLEAN = (
    f'{XML_DECL}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
    'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>工人的夜晚</dc:title>{extra}</cp:coreProperties>"
)
APP_CLEAN = (
    f'{XML_DECL}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties" xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/'
    'docPropsVTypes"><Pages>1</Pages><Words>3</Words>{extra}</Properties>'
)
DRAWING = (
    '<w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
    'wordprocessingDrawing"><wp:extent cx="9525" cy="9525"/>'
    '<wp:docPr id="1" name="{name}"/><a:graphic xmlns:a="http://schemas.openxmlformats.org/'
    'drawingml/2006/main"><a:graphicData uri="http://schemas.openxmlformats.org/drawingml/'
    '2006/picture"><pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/'
    'picture"><pic:nvPicPr><pic:cNvPr id="0" name="{name}"/><pic:cNvPicPr/></pic:nvPicPr>'
    '<pic:blipFill><a:blip r:embed="rIdImg"/></pic:blipFill><pic:spPr/></pic:pic>'
    "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>"
)
BODY_CLEAN = (
    '<w:p><w:pPr><w:pStyle w:val="Normal"/></w:pPr><w:r><w:t xml:space="preserve">'
    "姐妹们，明天见。 </w:t></w:r>"
    '<w:hyperlink r:id="rIdLink"><w:r><w:t>link</w:t></w:r></w:hyperlink></w:p>'
    "<w:p>" + DRAWING.format(name="Picture 1") + "</w:p>"
)


def docx(
    body: str = BODY_CLEAN,
    *,
    core: str = "",
    app: str = "",
    doc_rels: Sequence[tuple[str, str, str, str]] = (),
    parts: Sequence[tuple[str, bytes | str]] = (),
    settings: str | None = None,
    image: bytes | None = None,
    media: bool = True,
) -> bytes:
    """A minimal Word document; each argument plants one thing in it."""
    rels = [
        ("rIdLink", f"{REL}/hyperlink", "https://example.org/report", ' TargetMode="External"'),
        *doc_rels,
    ]
    if media:
        rels.append(("rIdImg", f"{REL}/image", "media/image1.png", ""))
    else:
        body = body.replace(DRAWING.format(name="Picture 1"), "")
    members: list[tuple[str, bytes | str]] = [
        ("[Content_Types].xml", _content_types("word/document.xml", "wordprocessingml.document")),
        ("_rels/.rels", _root_rels("word/document.xml")),
        ("docProps/core.xml", CORE_CLEAN.format(extra=core)),
        ("docProps/app.xml", APP_CLEAN.format(extra=app)),
        ("word/document.xml",
         f'{XML_DECL}<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body>{body}<w:sectPr/>'
         "</w:body></w:document>"),
        ("word/_rels/document.xml.rels", _relationships(rels)),
    ]
    if media:
        members.append(("word/media/image1.png", image if image is not None else png_bytes()))
    if settings is not None:
        members.append(("word/settings.xml",
                        f'{XML_DECL}<w:settings xmlns:w="{W}">{settings}</w:settings>'))
    members.extend(parts)
    return make_zip(members)


def _content_types(main: str, main_type: str) -> str:
    return (
        f'{XML_DECL}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="png" ContentType="image/png"/>'
        f'<Override PartName="/{main}" ContentType="application/vnd.openxmlformats-'
        f'officedocument.{main_type}.main+xml"/>'
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-'
        'package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.extended-properties+xml"/></Types>'
    )


def _root_rels(main: str) -> str:
    return _relationships([
        ("rId1", f"{REL}/officeDocument", main, ""),
        ("rId2", f"{PKG_RELS}/metadata/core-properties", "docProps/core.xml", ""),
        ("rId3", f"{REL}/extended-properties", "docProps/app.xml", ""),
    ])


S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def xlsx(sheet_extra: str = "", workbook_extra: str = "",
         parts: Sequence[tuple[str, bytes | str]] = ()) -> bytes:
    ct = _content_types("xl/workbook.xml", "spreadsheetml.sheet").replace(
        "</Types>",
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    )
    return make_zip([
        ("[Content_Types].xml", ct),
        ("_rels/.rels", _root_rels("xl/workbook.xml")),
        ("docProps/core.xml", CORE_CLEAN.format(extra="")),
        ("xl/workbook.xml",
         f'{XML_DECL}<workbook xmlns="{S}" xmlns:r="{R}">{workbook_extra}<sheets>'
         '<sheet name="工资" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels", _relationships(
            [("rId1", f"{REL}/worksheet", "worksheets/sheet1.xml", "")])),
        ("xl/worksheets/sheet1.xml",
         f'{XML_DECL}<worksheet xmlns="{S}" xmlns:r="{R}"><sheetData><row r="1">'
         '<c r="A1" t="inlineStr"><is><t>加班</t></is></c><c r="B1"><v>12</v></c></row>'
         f"</sheetData>{sheet_extra}</worksheet>"),
        *parts,
    ])


P = "http://schemas.openxmlformats.org/presentationml/2006/main"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"


def pptx(run_attrs: str = "", slide_extra: str = "",
         parts: Sequence[tuple[str, bytes | str]] = ()) -> bytes:
    ct = _content_types("ppt/presentation.xml", "presentationml.presentation")
    return make_zip([
        ("[Content_Types].xml", ct),
        ("_rels/.rels", _root_rels("ppt/presentation.xml")),
        ("ppt/presentation.xml",
         f'{XML_DECL}<p:presentation xmlns:p="{P}" xmlns:r="{R}"><p:sldIdLst>'
         '<p:sldId id="256" r:id="rId2"/></p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/>'
         "</p:presentation>"),
        ("ppt/_rels/presentation.xml.rels", _relationships(
            [("rId2", f"{REL}/slide", "slides/slide1.xml", "")])),
        ("ppt/slides/slide1.xml",
         f'{XML_DECL}<p:sld xmlns:p="{P}" xmlns:a="{A}" xmlns:r="{R}"><p:cSld><p:spTree>'
         '<p:sp><p:txBody><a:bodyPr/><a:p><a:r><a:rPr' + run_attrs + '/><a:t>罢工</a:t>'
         f"</a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld>{slide_extra}</p:sld>"),
        *parts,
    ])


# ---- ODF --------------------------------------------------------------------

ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:xlink="http://www.w3.org/1999/xlink" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:config="urn:oasis:names:tc:opendocument:xmlns:config:1.0" '
    'xmlns:officeooo="http://openoffice.org/2009/office" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'office:version="1.3"'
)
ODF_TEXT_CLEAN = (
    '<text:p text:style-name="P1">她们的声音</text:p>'
    '<text:p><text:a xlink:type="simple" xlink:href="https://example.org/">link</text:a></text:p>'
    '<text:p><draw:frame draw:name="Image1" svg:width="1cm" svg:height="1cm">'
    '<draw:image xlink:href="Pictures/image1.png" xlink:type="simple"/></draw:frame></text:p>'
)
MIMETYPES = {
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "odg": "application/vnd.oasis.opendocument.graphics",
}
BODIES = {"odt": "text", "ods": "spreadsheet", "odp": "presentation", "odg": "drawing"}


def odf(
    kind: str = "odt",
    body: str = ODF_TEXT_CLEAN,
    *,
    meta: str = "<dc:title>标题</dc:title>",
    styles: str = "",
    settings: str | None = None,
    parts: Sequence[tuple[str, bytes | str]] = (),
    manifest_extra: str = "",
    unlisted: Sequence[str] = (),
) -> bytes:
    """A minimal OpenDocument package; each argument plants one thing in it."""
    if kind != "odt":
        body = "" if body == ODF_TEXT_CLEAN else body
    members: list[tuple[str, bytes | str]] = [
        ("mimetype", MIMETYPES[kind]),
        ("content.xml",
         f"{XML_DECL}<office:document-content {ODF_NS}><office:body><office:{BODIES[kind]}>"
         f"{body}</office:{BODIES[kind]}></office:body></office:document-content>"),
        ("styles.xml",
         f"{XML_DECL}<office:document-styles {ODF_NS}><office:styles>{styles}"
         "</office:styles></office:document-styles>"),
        ("meta.xml",
         f"{XML_DECL}<office:document-meta {ODF_NS}><office:meta>{meta}</office:meta>"
         "</office:document-meta>"),
    ]
    if kind == "odt":
        members.append(("Pictures/image1.png", png_bytes()))
    if settings is not None:
        members.append(("settings.xml",
                        f"{XML_DECL}<office:document-settings {ODF_NS}><office:settings>"
                        f"{settings}</office:settings></office:document-settings>"))
    members.extend(parts)
    entries = "".join(
        f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type=""/>'
        for name, _ in members[1:] if name not in unlisted
    )
    manifest = (
        f'{XML_DECL}<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
        'manifest:1.0" manifest:version="1.3"><manifest:file-entry manifest:full-path="/" '
        f'manifest:media-type="{MIMETYPES[kind]}"/>{entries}{manifest_extra}</manifest:manifest>'
    )
    members.insert(1, ("META-INF/manifest.xml", manifest))
    return make_zip(members)


# ---- PDF --------------------------------------------------------------------

def pdf(mutate: Callable[[pikepdf.Pdf], object] | None = None, **save: object) -> bytes:
    """A one-page PDF with text, a JPEG image and a web link, as pikepdf saves it."""
    document = pikepdf.new()
    document.add_blank_page(page_size=(200, 200))
    page = document.pages[0]
    image = pikepdf.Stream(document, jpeg_bytes())
    image.update({"/Type": pikepdf.Name.XObject, "/Subtype": pikepdf.Name.Image,
                  "/Width": 8, "/Height": 8, "/ColorSpace": pikepdf.Name.DeviceRGB,
                  "/BitsPerComponent": 8, "/Filter": pikepdf.Name.DCTDecode})
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    page.Resources = pikepdf.Dictionary(
        XObject=pikepdf.Dictionary(Im0=document.make_indirect(image)),
        Font=pikepdf.Dictionary(F1=font),
    )
    page.Contents = document.make_stream(
        b"BT /F1 12 Tf 20 150 Td (Workers' night school) Tj ET q 50 0 0 50 20 20 cm /Im0 Do Q"
    )
    link = pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[20, 140, 120, 160],
        A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI=pikepdf.String("https://example.org/")),
    )
    page.Annots = document.make_indirect(pikepdf.Array([document.make_indirect(link)]))
    if mutate is not None:
        mutate(document)
    buffer = io.BytesIO()
    document.save(buffer, **save)  # type: ignore[arg-type]
    return buffer.getvalue()


# ---- audio --------------------------------------------------------------------

def mp3_frames(count: int = 8) -> bytes:
    """MPEG-1 Layer III frames of silence: 128 kbit/s, 44.1 kHz, 417 bytes each."""
    frame = b"\xff\xfb\x90\x00" + bytes(413)
    return frame * count


def flac_bytes() -> bytes:
    """STREAMINFO (last block) and a frame header: all mutagen and the verifier read."""
    info = struct.pack(">HH", 4096, 4096) + b"\x00\x00\x00\x00\x00\x00"
    # 44100 Hz, mono, 16 bits, 4410 samples, zero MD5.
    packed = (44100 << 44) | (0 << 41) | (15 << 36) | 4410
    info += packed.to_bytes(8, "big") + bytes(16)
    return b"fLaC" + b"\x80" + len(info).to_bytes(3, "big") + info + b"\xff\xf8\x69\x08" + bytes(64)


def ogg_opus_bytes(comments: Sequence[tuple[str, str]] = ()) -> bytes:
    from mutagen.ogg import OggPage

    head = b"OpusHead" + bytes([1, 1]) + struct.pack("<HIhB", 312, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 4) + b"test" + struct.pack("<I", len(comments))
    for key, value in comments:
        entry = f"{key}={value}".encode()
        tags += struct.pack("<I", len(entry)) + entry
    pages = []
    for sequence, packet in enumerate((head, tags, b"\xf8\xff\xfe")):
        page = OggPage()
        page.serial, page.sequence, page.packets = 7, sequence, [packet]
        page.first = sequence == 0
        page.last = sequence == 2
        page.position = 0 if sequence < 2 else 960
        pages.append(page.write())
    return b"".join(pages)


def _box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


def m4a_bytes(*, created: int = 0, language: int = 0x55C4, udta: bytes = b"",
              extra_top: bytes = b"") -> bytes:
    """A one-track AAC movie with the boxes mutagen reads; times zero, language "und"."""
    mvhd = _box(b"mvhd", struct.pack(">IIIII", 0, created, 0, 1000, 300) + bytes(80))
    tkhd = _box(b"tkhd", struct.pack(">IIIII", 7, created, 0, 1, 0) + bytes(64))
    mdhd = _box(b"mdhd", struct.pack(">IIIIIHH", 0, created, 0, 44100, 13230, language, 0))
    hdlr = _box(b"hdlr", bytes(8) + b"soun" + bytes(12) + b"SoundHandler\x00")
    esds = _box(b"esds", bytes(4) + bytes.fromhex("03190000000411401500000000000000000000000502"
                                                  "1208060102"))
    mp4a = _box(b"mp4a", bytes(6) + struct.pack(">H", 1) + bytes(8)
                + struct.pack(">HHHHI", 1, 16, 0, 0, 44100 << 16) + esds)
    stsd = _box(b"stsd", struct.pack(">II", 0, 1) + mp4a)
    stbl = _box(b"stbl", stsd + _box(b"stts", bytes(8)) + _box(b"stsc", bytes(8))
                + _box(b"stsz", bytes(12)) + _box(b"stco", bytes(8)))
    dinf = _box(b"dinf", _box(b"dref", struct.pack(">II", 0, 1) + _box(b"url ", b"\x00\x00\x00\x01")))
    minf = _box(b"minf", _box(b"smhd", bytes(8)) + dinf + stbl)
    trak = _box(b"trak", tkhd + _box(b"mdia", mdhd + hdlr + minf))
    moov = _box(b"moov", mvhd + trak + udta)
    ftyp = _box(b"ftyp", b"M4A \x00\x00\x02\x00M4A isomiso2")
    return ftyp + moov + extra_top + _box(b"mdat", bytes(32))

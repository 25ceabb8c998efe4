"""Build dirty documents and pictures in memory, each with a unique token in every
identifying place (recordings are built in `dirty_audio.py`).

No external tool is needed: PDFs come from pikepdf (and, for incremental updates
and hostile structures, from hand-written PDF syntax), pictures from Pillow.
Every dirty_* builder returns (bytes, tokens).
The end of the module holds the checks the media tests share: the mat2 corpus,
exiftool's view of identifying tags, and the isolated path that skips while the
verifier does not yet know a kind.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import subprocess
import zlib

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, Stream, String
from PIL import Image, ImageCms
from PIL.PngImagePlugin import PngInfo

from tests.sanitize.corpus import CORPUS

BODY_TEXT = "The quick body text"


def tokens_for(prefix: str, *places: str) -> dict[str, str]:
    """One searchable token per identifying place, e.g. {"author": "ZQPDFAUTHORTOKEN"}."""
    return {place: f"ZQ{prefix}{place.upper().replace('-', '')}TOKEN" for place in places}


# -- PDF ----------------------------------------------------------------------


def small_jpeg(exif_artist: str = "", comment: str = "", size: tuple[int, int] = (16, 16)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    if exif_artist:
        exif[0x013B] = exif_artist
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=comment.encode() if comment else None)
    return out.getvalue()


def dirty_pdf() -> tuple[bytes, dict[str, str]]:
    t = tokens_for("PDF", "author", "creator", "producer", "custom", "xmp", "annot-author",
                   "annot-text", "highlight-author", "highlight-text", "attach-name",
                   "attach-data", "fileannot-data", "javascript", "openaction", "page-aa",
                   "pieceinfo", "thumb", "image-exif", "image-comment", "image-xmp",
                   "launch", "ptex-path")
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0].obj
    jpeg = small_jpeg(t["image-exif"], t["image-comment"])
    image = Stream(pdf, jpeg, Type=Name.XObject, Subtype=Name.Image, Width=16, Height=16,
                   ColorSpace=Name.DeviceRGB, BitsPerComponent=8, Filter=Name.DCTDecode)
    image.Metadata = Stream(pdf, f"<x:xmpmeta>{t['image-xmp']}</x:xmpmeta>".encode())
    form = Stream(pdf, b"0 0 m 10 10 l S", Type=Name.XObject, Subtype=Name.Form,
                  BBox=Array([0, 0, 10, 10]))
    form["/PTEX.FileName"] = String(f"/home/{t['ptex-path']}/figure.pdf")
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page.Resources = Dictionary(Font=Dictionary(F1=font),
                                XObject=Dictionary(Im1=image, Fm1=form))
    page.Contents = Stream(pdf, f"BT /F1 24 Tf 72 720 Td ({BODY_TEXT}) Tj ET "
                           "q 100 0 0 100 72 500 cm /Im1 Do Q /Fm1 Do".encode())
    page.Thumb = Stream(pdf, t["thumb"].encode(), Width=1, Height=1)
    page.PieceInfo = Dictionary(Illustrator=Dictionary(Private=String(t["pieceinfo"])))
    page.AA = Dictionary(O=Dictionary(S=Name.JavaScript, JS=String(t["page-aa"])))
    popup = pdf.make_indirect(Dictionary(Type=Name.Annot, Subtype=Name.Popup,
                                         Rect=Array([0, 0, 10, 10])))
    note = pdf.make_indirect(Dictionary(
        Type=Name.Annot, Subtype=Name.Text, Rect=Array([10, 10, 30, 30]),
        T=String(t["annot-author"]), Contents=String(t["annot-text"]), Popup=popup))
    highlight = Dictionary(
        Type=Name.Annot, Subtype=Name.Highlight, Rect=Array([72, 715, 300, 745]),
        QuadPoints=Array([72, 745, 300, 745, 72, 715, 300, 715]),
        T=String(t["highlight-author"]), Contents=String(t["highlight-text"]))
    embedded = Stream(pdf, t["fileannot-data"].encode(), Type=Name.EmbeddedFile)
    file_annot = Dictionary(
        Type=Name.Annot, Subtype=Name.FileAttachment, Rect=Array([40, 40, 50, 50]),
        FS=Dictionary(Type=Name.Filespec, F=String("notes.txt"),
                      EF=Dictionary(F=embedded)))
    launch = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([0, 0, 5, 5]),
                        A=Dictionary(S=Name.Launch, F=String(t["launch"])))
    web = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([5, 5, 9, 9]),
                     A=Dictionary(S=Name.URI, URI=String("https://example.org/")))
    page.Annots = Array([note, popup, highlight, file_annot, launch, web])
    pdf.attachments[f"{t['attach-name']}.txt"] = pikepdf.AttachedFileSpec(
        pdf, t["attach-data"].encode())
    pdf.Root.Names.JavaScript = Dictionary(Names=Array([
        String("hello"), Dictionary(S=Name.JavaScript, JS=String(f"app.alert('{t['javascript']}')"))
    ]))
    pdf.Root.OpenAction = Dictionary(S=Name.JavaScript, JS=String(t["openaction"]))
    pdf.Root.Metadata = Stream(pdf, _xmp(t["xmp"]), Type=Name.Metadata, Subtype=Name.XML)
    pdf.Root.Lang = String("zh-CN")
    pdf.docinfo["/Author"] = t["author"]
    pdf.docinfo["/Creator"] = t["creator"]
    pdf.docinfo["/Producer"] = t["producer"]
    pdf.docinfo["/Company"] = t["custom"]
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue(), t


def _xmp(token: str) -> bytes:
    return (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:creator><rdf:Seq><rdf:li>{token}</rdf:li></rdf:Seq></dc:creator>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def incremental_pdf() -> tuple[bytes, dict[str, str]]:
    """A PDF saved twice: the first revision's author and text are superseded, not gone."""
    t = tokens_for("REV", "old-author", "old-text")
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0].obj
    font = Dictionary(Type=Name.Font, Subtype=Name.Type1, BaseFont=Name.Helvetica)
    page.Resources = Dictionary(Font=Dictionary(F1=font))
    page.Contents = pdf.make_indirect(Stream(
        pdf, f"BT /F1 18 Tf 72 720 Td ({BODY_TEXT} {t['old-text']}) Tj ET".encode()))
    pdf.docinfo["/Author"] = t["old-author"]
    first = io.BytesIO()
    pdf.save(first, object_stream_mode=pikepdf.ObjectStreamMode.disable,
             compress_streams=False)
    base = first.getvalue()
    with pikepdf.open(io.BytesIO(base)) as old:
        content_num = old.pages[0].obj.Contents.objgen[0]
        info_num = old.trailer.Info.objgen[0]
        root_num = old.Root.objgen[0]
        size = int(old.trailer.Size)
    prev = int(re.findall(rb"startxref\s+(\d+)", base)[-1])
    text = f"BT /F1 18 Tf 72 720 Td ({BODY_TEXT}) Tj ET".encode()
    update = bytearray(base)
    offsets = {}
    offsets[content_num] = len(update) + 1
    update += (f"\n{content_num} 0 obj\n<< /Length {len(text)} >>\nstream\n".encode() + text
               + b"\nendstream\nendobj\n")
    offsets[info_num] = len(update)
    update += f"{info_num} 0 obj\n<< /Title (Second draft) >>\nendobj\n".encode()
    xref_at = len(update)
    update += b"xref\n0 1\n0000000000 65535 f \n"
    for num in sorted(offsets):
        update += f"{num} 1\n{offsets[num]:010d} 00000 n \n".encode()
    update += (f"trailer\n<< /Size {size} /Root {root_num} 0 R /Info {info_num} 0 R "
               f"/Prev {prev} >>\nstartxref\n{xref_at}\n%%EOF\n").encode()
    return bytes(update), t


def assemble_pdf(objects: list[bytes], root: int = 1) -> bytes:
    """A classic PDF from numbered object bodies (object n is objects[n - 1])."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\n"
            f"startxref\n{xref_at}\n%%EOF\n").encode()
    return bytes(out)


def looping_pdf(page_tree_loop: bool = True) -> bytes:
    """Objects that refer to themselves and, optionally, a page tree that contains itself."""
    content = f"BT /F1 12 Tf 72 720 Td ({BODY_TEXT}) Tj ET".encode()
    kids = b"[2 0 R 3 0 R] /Count 2 /Parent 2 0 R" if page_tree_loop else b"[3 0 R] /Count 1"
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids " + kids + b" >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 6 0 R >> >> /Loop 5 0 R >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Self 5 0 R /Next [5 0 R << /Deep << /Again 5 0 R >> >>] >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


def many_pages_pdf(pages: int) -> bytes:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def encrypted_pdf(user_password: str) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner-secret", user=user_password))
    return out.getvalue()


# -- Pictures -----------------------------------------------------------------


def gradient(size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    image.putdata([((x * 255) // width, (y * 255) // height, 128)
                   for y in range(height) for x in range(width)])
    return image.convert(mode)


def dirty_exif(t: dict[str, str], orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x013B] = t["artist"]
    exif[0x010F] = t["make"]
    exif[0x0110] = t["model"]
    exif[0x0131] = t["software"]
    if orientation != 1:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (30.0, 15.0, 7.0)
    gps[0x1B] = b"ASCII\x00\x00\x00" + t["gps"].encode()
    return exif


def icc_profile_with(token: str) -> bytes:
    """A real sRGB profile followed by a token, the way a tool might append its notes."""
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return profile + token.encode()


def insert_jpeg_segment(data: bytes, marker: int, body: bytes) -> bytes:
    segment = bytes((0xFF, marker)) + (len(body) + 2).to_bytes(2, "big") + body
    return data[:2] + segment + data[2:]


def dirty_jpeg(orientation: int = 1, size: tuple[int, int] = (64, 48)) -> tuple[bytes, dict[str, str]]:
    t = tokens_for("JPG", "artist", "make", "model", "software", "gps", "xmp", "icc",
                   "comment", "iptc")
    out = io.BytesIO()
    gradient(size).save(out, "JPEG", quality=85, exif=dirty_exif(t, orientation),
                        xmp=_xmp(t["xmp"]), icc_profile=icc_profile_with(t["icc"]),
                        comment=t["comment"].encode())
    iptc = b"Photoshop 3.0\x008BIM\x04\x04\x00\x00" + struct.pack(">I", 30) + (
        b"\x1c\x02\x50" + struct.pack(">H", len(t["iptc"])) + t["iptc"].encode()).ljust(30, b"\0")
    return insert_jpeg_segment(out.getvalue(), 0xED, iptc), t


def dirty_png(orientation: int = 1) -> tuple[bytes, dict[str, str]]:
    t = tokens_for("PNG", "artist", "make", "model", "software", "gps", "text", "ztext",
                   "itext", "icc")
    info = PngInfo()
    info.add_text("Author", t["text"])
    info.add_text("Comment", t["ztext"], zip=True)
    info.add_itxt("Description", t["itext"], lang="en", tkey="Beschreibung")
    out = io.BytesIO()
    gradient().save(out, "PNG", pnginfo=info, exif=dirty_exif(t, orientation),
                    icc_profile=icc_profile_with(t["icc"]))
    return out.getvalue(), t


def dirty_webp() -> tuple[bytes, dict[str, str]]:
    t = tokens_for("WEBP", "artist", "make", "model", "software", "gps", "xmp", "icc")
    out = io.BytesIO()
    gradient().save(out, "WEBP", quality=80, exif=dirty_exif(t), xmp=_xmp(t["xmp"]),
                    icc_profile=icc_profile_with(t["icc"]))
    return out.getvalue(), t


def dirty_tiff() -> tuple[bytes, dict[str, str]]:
    """Two pages, each with its own identifying tags."""
    t = tokens_for("TIFF", "artist", "description", "make", "software", "page2artist")
    first = {315: t["artist"], 270: t["description"], 271: t["make"], 305: t["software"]}
    second = Image.new("L", (20, 10), 90)
    second.encoderinfo = {"tiffinfo": {315: t["page2artist"]}}
    out = io.BytesIO()
    gradient().save(out, "TIFF", tiffinfo=first, save_all=True, append_images=[second])
    return out.getvalue(), t


def dirty_gif() -> tuple[bytes, dict[str, str]]:
    t = tokens_for("GIF", "comment")
    frames = [Image.new("P", (30, 20), i) for i in range(3)]
    for i, frame in enumerate(frames):
        frame.putpalette([255, 0, 0, 0, 255, 0, 0, 0, 255] + [0, 0, 0] * 253)
        frame.paste(2 - i, (5 * i, 0, 5 * i + 5, 5))
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:],
                   duration=[100, 200, 300], loop=0, comment=t["comment"].encode())
    return out.getvalue(), t


def dirty_heic() -> tuple[bytes, dict[str, str]]:
    """A HEIC picture with camera data (needs pillow-heif, a core dependency)."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    tokens = tokens_for("HEIC", "artist", "make", "model", "software", "gps")
    out = io.BytesIO()
    gradient().save(out, "HEIF", exif=dirty_exif(tokens).tobytes(), quality=90)
    return out.getvalue(), tokens


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ten gigapixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


# -- shared checks ------------------------------------------------------------------

_IDENTIFYING_GROUPS = ("XMP", "ICC", "IPTC", "Photoshop", "ExifIFD", "GPS", "ID3", "APE",
                       "IFD1", "MakerNotes", "Lyrics3", "ItemList", "UserData", "Keys")
_IDENTIFYING_TAGS = frozenset({
    "Author", "Artist", "Creator", "Producer", "Comment", "Comments", "Title", "Album",
    "Genre", "Make", "Model", "Software", "ImageDescription", "UserComment", "Description",
    "Copyright", "Keywords", "Subject", "CreateDate", "ModifyDate", "DateTimeOriginal",
    "DateCreated", "Date", "Year", "Track", "TrackNumber", "Product", "Application",
    "PTEX_Fullbanner", "Vendor", "Picture", "PictureDescription", "CoverArt", "GPSPosition",
    "GPSLatitude", "GPSLongitude", "Location", "IAmA", "ProfileDescription", "DeviceModel",
    "DocumentID", "InstanceID", "MetadataDate", "HostComputer", "Trapped",
})


def corpus_file(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"mat2 corpus file {name} is not available")
    return path.read_bytes()


def identifying_tags(data: bytes) -> dict[str, str]:
    """Tags exiftool reads that name a person, place, device, program or time."""
    if shutil.which("exiftool") is None:
        pytest.skip("exiftool is not installed")
    result = subprocess.run(["exiftool", "-j", "-a", "-u", "-ee", "-G1", "-"], input=data,
                            capture_output=True, timeout=60, check=False)
    found = {}
    for key, value in json.loads(result.stdout or b"[{}]")[0].items():
        group, _, tag = key.rpartition(":")
        text = str(value).strip()
        if not text or re.fullmatch(r"[0:\s]*", text) or group in ("System", "ExifTool"):
            continue
        if group.startswith(_IDENTIFYING_GROUPS) or tag in _IDENTIFYING_TAGS:
            found[key] = text
    return found


def clean_isolated_bytes(data: bytes, name: str, **kwargs: object) -> tuple[bytes, object]:
    """Clean through the confined child process; a kind without a verifier fails."""
    from portal.sanitize import clean_isolated

    out = io.BytesIO()
    report = clean_isolated(io.BytesIO(data), out, name_hint=name, **kwargs)  # type: ignore[arg-type]
    return out.getvalue(), report

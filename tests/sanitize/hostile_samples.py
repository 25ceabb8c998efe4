"""Build hostile files in memory: bombs, loops, polyglots and truncations.

Each builder answers one line of the threat model's "hostile upload" row: a
document is a program for a parser, and these are the programs that try to take
the server's memory, CPU or time, or to smuggle one file inside another. All of
them are small and quick to build (the 1 GiB zip bomb is about 1 MiB and takes a
fraction of a second), so the tests can afford to build them every run.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from tests.sanitize import verify_samples
from tests.sanitize.dirty_media import BODY_TEXT, assemble_pdf

GiB = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024
# The zip epoch (1980-01-01 00:00:00) as DOS time and date fields.
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1

# A token the tests look for in a cleaned polyglot: it lives only in the zip half.
POLYGLOT_ZIP_TOKEN = "ZQPOLYGLOTZIPHALFTOKEN"
# What an external entity would pull in, if a parser ever resolved one.
PASSWD_MARKER = "root:x:0:0"


@dataclass(frozen=True)
class Member:
    """One zip member as it is written: already compressed, with its true CRC and size."""

    name: str
    payload: bytes
    crc: int
    size: int
    method: int = 8  # deflate; 0 is stored

    @classmethod
    def stored(cls, name: str, data: bytes) -> Member:
        """A member kept as it is (method 0)."""
        return cls(name, data, zlib.crc32(data), len(data), 0)

    @classmethod
    def deflated(cls, name: str, data: bytes) -> Member:
        """A member compressed with raw deflate (method 8)."""
        squeezer = zlib.compressobj(6, zlib.DEFLATED, -15)
        return cls(name, squeezer.compress(data) + squeezer.flush(), zlib.crc32(data), len(data))


def build_zip(members: Sequence[Member], *, declared_sizes: dict[str, int] | None = None) -> bytes:
    """Write a zip by hand, so a member can hold pre-compressed (or lying) data.

    `declared_sizes` overrides the uncompressed size the headers claim for a
    member: a bomb that says "1 KiB" and expands to a gigabyte.
    """
    declared_sizes = declared_sizes or {}
    out = bytearray()
    central = bytearray()
    for member in members:
        name = member.name.encode("utf-8")
        size = declared_sizes.get(member.name, member.size)
        offset = len(out)
        fields = struct.pack("<HHHHHIII", 20, 0x800, member.method, _DOS_TIME, _DOS_DATE,
                             member.crc, len(member.payload), size)
        out += b"PK\x03\x04" + fields + struct.pack("<HH", len(name), 0) + name + member.payload
        central += (b"PK\x01\x02" + struct.pack("<H", 20) + fields
                    + struct.pack("<HHHHHII", len(name), 0, 0, 0, 0, 0, offset) + name)
    start = len(out)
    out += central
    out += b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, len(members), len(members),
                                       len(central), start, 0)
    return bytes(out)


@cache
def deflated_zeros(size: int = GiB) -> tuple[bytes, int]:
    """Raw deflate of `size` zero bytes (a multiple of 1 MiB) and their CRC-32.

    After a full flush the compressor's state no longer depends on what came
    before, so every further mebibyte of zeros compresses to the same bytes: one
    block is computed and repeated, which makes a 1 GiB bomb in milliseconds.
    """
    if size % _CHUNK:
        raise ValueError("size must be a whole number of MiB")
    zeros = bytes(_CHUNK)
    squeezer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = squeezer.compress(zeros) + squeezer.flush(zlib.Z_FULL_FLUSH)
    steady = squeezer.compress(zeros) + squeezer.flush(zlib.Z_FULL_FLUSH)
    again = squeezer.compress(zeros) + squeezer.flush(zlib.Z_FULL_FLUSH)
    assert steady == again, "deflate did not reach a steady state"
    final = squeezer.flush()
    count = size // _CHUNK
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    return first + steady * (count - 1) + final, crc


# -- office-shaped zips ----------------------------------------------------------


def _docx_members(document: bytes, extra: Sequence[Member] = (), *,
                  embedded: Sequence[str] = ()) -> list[Member]:
    """The parts of a minimal Word document around a given word/document.xml."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Default Extension="docx" ContentType="application/vnd.openxmlformats-'
        'officedocument.wordprocessingml.document"/>'
        '<Override PartName="/word/document.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
    )
    root_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    rels = "".join(
        f'<Relationship Id="rIdE{i}" Type="http://schemas.openxmlformats.org/officeDocument/'
        f'2006/relationships/package" Target="embeddings/{name}"/>'
        for i, name in enumerate(embedded)
    )
    doc_rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        f'openxmlformats.org/package/2006/relationships">{rels}</Relationships>'
    )
    return [
        Member.deflated("[Content_Types].xml", content_types.encode()),
        Member.deflated("_rels/.rels", root_rels.encode()),
        Member.deflated("word/_rels/document.xml.rels", doc_rels.encode()),
        *([Member.deflated("word/document.xml", document)] if document else []),
        *extra,
    ]


def word_document(paragraph: str = BODY_TEXT, *, doctype: str = "") -> bytes:
    """word/document.xml with one paragraph, optionally behind a DOCTYPE."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        f'<w:document xmlns:w="{verify_samples.W}"><w:body><w:p><w:r><w:t>{paragraph}'
        "</w:t></w:r></w:p><w:sectPr/></w:body></w:document>"
    ).encode()


def zip_bomb_docx(expanded: int = GiB, *, lie_about_size: bool = False) -> bytes:
    """A DOCX whose word/document.xml inflates to `expanded` bytes of zeros.

    With `lie_about_size` the headers declare the member to be 1 KiB, so only a
    reader that bounds what it actually inflates is safe.
    """
    bomb, crc = deflated_zeros(expanded)
    members = _docx_members(b"")
    members.append(Member("word/document.xml", bomb, crc, expanded))
    declared = {"word/document.xml": 1024} if lie_about_size else None
    return build_zip(members, declared_sizes=declared)


def zip_bomb_odt(expanded: int = GiB) -> bytes:
    """An ODF text document whose content.xml inflates to `expanded` bytes of zeros."""
    bomb, crc = deflated_zeros(expanded)
    mimetype = verify_samples.MIMETYPES["odt"].encode()
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
        'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="'
        f'{mimetype.decode()}"/><manifest:file-entry manifest:full-path="content.xml" '
        'manifest:media-type="text/xml"/></manifest:manifest>'
    ).encode()
    return build_zip([
        Member.stored("mimetype", mimetype),
        Member.deflated("META-INF/manifest.xml", manifest),
        Member("content.xml", bomb, crc, expanded),
    ])


def many_members_docx(count: int = 20_000) -> bytes:
    """A DOCX with more (empty) members than any real document has."""
    members = _docx_members(word_document())
    members += [Member.stored(f"word/media/empty{i}.bin", b"") for i in range(count)]
    return build_zip(members)


def nested_docx(depth: int, innermost: bytes | None = None) -> bytes:
    """A DOCX embedding a DOCX embedding a DOCX ... `depth` levels down.

    The innermost document is `innermost` (for instance a zip bomb) or a plain
    one. Inner documents are stored uncompressed, as Word stores them.
    """
    document = innermost if innermost is not None else build_zip(_docx_members(word_document()))
    for level in range(depth):
        name = f"Microsoft_Word_Document{level}.docx"
        document = build_zip(_docx_members(
            word_document(f"{BODY_TEXT} level {level}"),
            [Member.stored(f"word/embeddings/{name}", document)], embedded=[name],
        ))
    return document


# -- XML bombs -------------------------------------------------------------------


def billion_laughs_doctype(root: str, levels: int = 10) -> str:
    """The classic entity bomb: ten levels of ten references, 10^10 "lol"s."""
    lines = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        refs = f"&lol{level - 1};" * 10
        lines.append(f'<!ENTITY lol{level} "{refs}">')
    return f"<!DOCTYPE {root} [{''.join(lines)}]>"


def billion_laughs_docx() -> bytes:
    """A DOCX whose word/document.xml expands the entity bomb in its only paragraph."""
    document = word_document("&lol9;", doctype=billion_laughs_doctype("w:document"))
    return build_zip(_docx_members(document))


def external_entity_docx() -> bytes:
    """A DOCX whose text is an external entity naming /etc/passwd (XXE)."""
    doctype = '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return build_zip(_docx_members(word_document("&xxe;", doctype=doctype)))


def billion_laughs_odt() -> bytes:
    """An ODF text document whose content.xml expands the entity bomb."""
    doctype = billion_laughs_doctype("office:document-content")
    clean = verify_samples.odf("odt", body="<text:p>&lol9;</text:p>")
    return replace_member(clean, "content.xml", lambda xml: xml.replace(
        b"?>\n<office:document-content", b"?>\n" + doctype.encode() + b"<office:document-content", 1))


def restamp(archive: bytes) -> bytes:
    """The same zip rewritten with every member dated at the zip epoch: the same bytes
    every run, whenever the library that wrote it (python-docx, openpyxl) ran."""
    return replace_member(archive, "", lambda data: data)


def replace_member(archive: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """Rewrite one member of a zip (the rest are copied), dated at the zip epoch."""
    members = []
    with zipfile.ZipFile(io.BytesIO(archive)) as source:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == name:
                data = change(data)
            members.append(Member.stored(info.filename, data) if info.compress_type == 0
                           else Member.deflated(info.filename, data))
    return build_zip(members)


# -- PDF loops -------------------------------------------------------------------


def _page(parent: int, contents: int, font: int) -> bytes:
    """A page object with one content stream and one font."""
    return (f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 612 792] "
            f"/Contents {contents} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>").encode()


def _content_stream() -> bytes:
    """A content stream that writes the body text."""
    content = f"BT /F1 12 Tf 72 720 Td ({BODY_TEXT}) Tj ET".encode()
    return f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_kids_cycle() -> bytes:
    """Two page-tree nodes that are each other's parent and child."""
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 2 /Parent 3 0 R >>",
        b"<< /Type /Pages /Kids [2 0 R 4 0 R] /Count 2 /Parent 2 0 R >>",
        _page(3, 5, 6),
        _content_stream(),
        _FONT,
    ])


def pdf_page_is_own_parent() -> bytes:
    """A page whose /Parent is itself and whose /Kids lists itself."""
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 3 0 R /Kids [3 0 R] /MediaBox [0 0 612 792] "
         b"/Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"),
        _content_stream(),
        _FONT,
    ])


def pdf_object_stream_loop(loop: bool = True) -> bytes:
    """A PDF 1.5 whose object stream contains itself and /Extends itself.

    The cross-reference stream says object 5 (the object stream) is stored inside
    object stream 5, and the stream's /Extends points back at it. With `loop`
    false the same file is well formed, which shows the loop is the only fault.
    """
    inner = [_page(2, 4, 6), _FONT]
    numbers = [3, 6]
    if loop:
        inner.insert(1, b"<< /Type /ObjStm /Self 5 0 R >>")
        numbers.insert(1, 5)
    bodies, offsets, position = [], [], 0
    for body in inner:
        offsets.append(position)
        bodies.append(body + b"\n")
        position += len(body) + 1
    header = " ".join(f"{n} {o}" for n, o in zip(numbers, offsets, strict=True)).encode() + b"\n"
    payload = header + b"".join(bodies)
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    where: dict[int, int] = {}

    def put(number: int, body: bytes) -> None:
        """Append one numbered object and remember where it starts."""
        where[number] = len(out)
        out.extend(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")

    put(1, b"<< /Type /Catalog /Pages 2 0 R >>")
    put(2, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
    put(4, _content_stream())
    extends = b"/Extends 5 0 R " if loop else b""
    put(5, f"<< /Type /ObjStm /N {len(inner)} /First {len(header)} ".encode() + extends
        + f"/Length {len(payload)} >>\nstream\n".encode() + payload + b"\nendstream")
    rows = [b"\x00" + struct.pack(">I", 0) + b"\xff\xff"]
    for number in range(1, 8):
        if number in numbers:  # compressed: type 2, in stream 5, at this index
            rows.append(b"\x02" + struct.pack(">I", 5) + struct.pack(">H", numbers.index(number)))
        elif number == 7:
            rows.append(b"\x01" + struct.pack(">I", len(out)) + b"\x00\x00")
        else:
            rows.append(b"\x01" + struct.pack(">I", where[number]) + b"\x00\x00")
    table = b"".join(rows)
    xref_at = len(out)
    out += (f"7 0 obj\n<< /Type /XRef /Size 8 /W [1 4 2] /Root 1 0 R /Length {len(table)} >>\n"
            "stream\n").encode() + table + b"\nendstream\nendobj\n"
    out += f"startxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)



# Found by the coverage-guided fuzzer (test_fuzz.py): damage qpdf reports otherwise than
# as PdfError, which the cleaner let escape until it named them.


def pdf_pages_without_count() -> bytes:
    """A page-tree node without /Count whose second kid is null: qpdf's repair of the
    tree fails with QpdfRuntimeError ("/Count is wrong after flattening pages tree")."""
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] >>",
        _page(2, 5, 6),
        b"null",
        _content_stream(),
        _FONT,
    ])


def pdf_startxref_past_64_bits() -> bytes:
    """A well-formed page whose startxref is a 23-digit offset: pikepdf raises ValueError
    ("overflow/underflow converting ... to 64-bit integer") while opening it."""
    sound = assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        _page(2, 4, 5),
        _content_stream(),
        _FONT,
    ])
    head, _, _ = sound.rpartition(b"startxref\n")
    return head + b"startxref\n14300000000000000000000\n%%EOF\n"


def pdf_image_claiming_to_be_pages() -> bytes:
    """A page whose picture, an image stream, says /Type /Pages: a page-tree node's
    allow-list would take the stream's /Length away, which pikepdf refuses (KeyError)."""
    return assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
         b"/Resources << /XObject << /Im0 5 0 R >> >> >>"),
        b"<< /Length 30 >>\nstream\nq 100 0 0 100 72 600 cm /Im0 Do Q\nendstream",
        (b"<< /Type /Pages /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
         b"/BitsPerComponent 8 /Length 1 >>\nstream\n\x80\nendstream"),
    ])


# -- decompression-bomb pictures ------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims ten gigapixels (1 KB of real data)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _png_chunk(b"IEND", b""))


@cache
def large_png(width: int, height: int) -> bytes:
    """A real, valid black PNG of width x height: small on disk, expensive to re-encode.

    Under the pixel limit, so the cleaner decodes it: the slow path the time,
    CPU and memory limits are for. Built row by row, never as an image in memory.
    """
    row = b"\x00" + bytes(3 * width)
    squeezer = zlib.compressobj(1)
    rows_per_call = max(1, _CHUNK // len(row))
    parts, done = [], 0
    while done < height:
        step = min(rows_per_call, height - done)
        parts.append(squeezer.compress(row * step))
        done += step
    parts.append(squeezer.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b""))


def small_heic() -> bytes:
    """A 64 x 48 HEIC picture, made with pillow-heif (libheif and x265)."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 30)).save(out, "HEIF")
    return out.getvalue()


def bomb_jpeg(width: int = 65_000, height: int = 65_000) -> bytes:
    """A JPEG whose frame header claims over four gigapixels."""
    good = verify_samples.jpeg_bytes()
    sof = good.index(b"\xff\xc0")
    patched = bytearray(good)
    patched[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(patched)


def bomb_gif(width: int = 65_535, height: int = 65_535) -> bytes:
    """A GIF whose one frame claims four gigapixels of LZW-compressed zeros."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0)
    palette = b"\x00\x00\x00\xff\xff\xff"
    image = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0)
    return b"GIF89a" + screen + palette + image + b"\x02\x02\x4c\x01\x00" + b"\x3b"


# -- polyglots -------------------------------------------------------------------


def _token_docx() -> bytes:
    """A DOCX whose text and one extra member are the polyglot token, stored (not deflated)
    so that the token can be seen in the polyglot's raw bytes."""
    members = [Member.stored(m.name, zlib.decompress(m.payload, -15)) if m.method else m
               for m in _docx_members(word_document(POLYGLOT_ZIP_TOKEN))]
    return build_zip([*members, Member.stored("secret.txt", POLYGLOT_ZIP_TOKEN.encode())])


def pdf_zip_polyglot() -> bytes:
    """A valid PDF followed by a valid DOCX: PDF readers and zip readers both open it."""
    return verify_samples.pdf() + _token_docx()


def zip_pdf_polyglot() -> bytes:
    """A zip whose first (stored) member is a PDF: "%PDF-" sits in the first kilobyte."""
    members = [Member.stored("a.pdf", verify_samples.pdf()),
               Member.stored("secret.txt", POLYGLOT_ZIP_TOKEN.encode())]
    return build_zip(members)


# -- truncations -----------------------------------------------------------------


def truncations(data: bytes) -> list[tuple[str, bytes]]:
    """The same file cut at a few telling places: in the header, the middle, the end."""
    return [
        ("first-16-bytes", data[:16]),
        ("first-third", data[: len(data) // 3]),
        ("all-but-last-byte", data[:-1]),
        ("missing-last-tenth", data[: len(data) - max(1, len(data) // 10)]),
    ]

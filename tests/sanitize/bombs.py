"""Build the decompression-bomb family in memory: small files that decode to far more.

Each builder is one way a picture's decoded size escapes a per-frame pixel count
(Pillow's own guard): huge dimensions in a tiny file, 16-bit depth, many frames
of an animation, many pages of a TIFF, an image in a PDF that the cleaner never
decodes but every reader will, and many medium pictures in one document. All
are valid files a decoder would really expand; none takes more than a few
seconds to build.
"""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

import pikepdf
from PIL import Image


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def zero_png(width: int, height: int, depth: int = 8, colour: int = 2, level: int = 6) -> bytes:
    """A valid all-black PNG, compressed row by row: never the picture in memory.

    `colour` is the PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey and alpha,
    6 RGBA) and `depth` its bits per sample.
    """
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour]
    row = b"\x00" + bytes((width * channels * depth + 7) // 8)
    rows_per_block = max(1, (4 << 20) // len(row))
    block = row * rows_per_block
    squeezer = zlib.compressobj(level)
    parts, done = [], 0
    while done < height:
        count = min(rows_per_block, height - done)
        parts.append(squeezer.compress(block if count == rows_per_block else row * count))
        done += count
    parts.append(squeezer.flush())
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    palette = _chunk(b"PLTE", bytes(3)) if colour == 3 else b""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + palette
            + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b""))


@cache
def black_and_white_giant() -> bytes:
    """30,000 × 30,000 at one bit a pixel: 106 KiB, 900 megapixels."""
    return zero_png(30_000, 30_000, depth=1, colour=0)


@cache
def deep_rgba() -> bytes:
    """10,500 × 10,500 RGBA at 16 bits a sample: under 1 MiB, 441 MB once decoded."""
    return zero_png(10_500, 10_500, depth=16, colour=6, level=1)


def _frames(count: int, size: tuple[int, int], mode: str) -> list[Image.Image]:
    """Frames that differ from the one before (encoders merge identical neighbours)."""
    return [Image.new(mode, size, (i % 2) * 255 if mode in ("L", "P") else ((i % 2) * 255,) * 3)
            for i in range(count)]


def many_frames(kind: str, count: int = 1_100, size: tuple[int, int] = (1, 1)) -> bytes:
    """An animated PNG or GIF, or a multi-page TIFF, of `count` tiny frames."""
    pil_format = {"apng": "PNG", "gif": "GIF", "tiff": "TIFF"}[kind]
    frames = _frames(count, size, "L" if kind == "gif" else "RGB")
    out = io.BytesIO()
    frames[0].save(out, pil_format, save_all=True, append_images=frames[1:])
    return out.getvalue()


def pdf_with_image(width: int, height: int, *, space: str = "/DeviceRGB", bits: int = 8,
                   data: bytes | None = None, jpeg: bytes | None = None) -> bytes:
    """A one-page PDF drawing one image XObject of the declared size.

    Without `data` the image's bytes are a small deflated run of zeros (a reader
    that believes the dictionary allocates width × height × components first);
    with `jpeg` the image is that JPEG (DCTDecode) under the declared size.
    """
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(200, 200))
    if jpeg is not None:
        image = pikepdf.Stream(pdf, jpeg)
        image.Filter = pikepdf.Name.DCTDecode
    else:
        image = pikepdf.Stream(pdf, zlib.compress(data if data is not None else bytes(1 << 16)))
        image.Filter = pikepdf.Name.FlateDecode
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, bits
    image.ColorSpace = pikepdf.Name(space)
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.Contents = pikepdf.Stream(pdf, b"q 200 0 0 200 0 0 cm /Im0 Do Q")
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def docx_with_pictures(pictures: list[bytes]) -> bytes:
    """A Word document showing each picture once, in the order given."""
    import docx
    from docx.shared import Inches

    document = docx.Document()
    for number, picture in enumerate(pictures):
        document.add_paragraph(f"Picture {number}")
        document.add_picture(io.BytesIO(picture), width=Inches(2))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def jpeg(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert(mode).save(out, "JPEG", quality=75)
    return out.getvalue()


def many_medium_pictures_docx(count: int = 50, side: int = 3_400) -> bytes:
    """A Word document with `count` pictures of side × side: each well under the picture
    budget, together (50 × 92 MB to clean) over the file's."""
    picture = jpeg((side, side))
    # Each a different file: a one-byte comment after the JFIF header tells them apart.
    header = 4 + int.from_bytes(picture[4:6], "big")
    return docx_with_pictures([picture[:header] + b"\xff\xfe\x00\x03" + bytes([n])
                               + picture[header:] for n in range(count)])

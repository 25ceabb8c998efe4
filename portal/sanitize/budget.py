"""What a picture costs to clean, charged before a single pixel is decoded.

Threat: a decompression bomb, a small file that decodes to gigabytes. Pillow's
own guard (`Image.MAX_IMAGE_PIXELS`) counts the pixels of one frame as it is
opened: not the bytes each pixel takes once decoded (four for colour or 16-bit
colour, two for 16-bit grey), not the copies its decoder and encoder make, not
the frames of an animation or the pages of a TIFF after the first, and not the
pictures of a document, each of which may sit just under it. A 409 KiB PNG
under the former limit (10,000 × 10,000 RGBA) made the cleaner hold 1.17 GiB.

Promise: every frame a cleaner is about to decode is charged first: width ×
height × the bytes Pillow keeps per pixel in its mode × the copies its format
holds while it is decoded and re-encoded (COPIES). The charge goes to its
picture's budget (`Limits.max_image_bytes`, all frames together, at most
`max_image_frames` frames) and to the file's (`max_file_image_bytes`, every
picture of one upload, embedded ones included). A charge over either is a
refusal ("limit") before the decoder runs; one over the file's is
`FileBudgetExceeded`, which a document never swallows by dropping the picture
and carrying on. Pictures the cleaner does not decode (the images of a PDF) are
held to the picture budget by their declared size, so no reader is handed a
bomb either.

The same numbers size the cleaner: `cleaner_memory_needed` is the address space
a cleaning process needs for a picture at the budget, and the server refuses a
configuration that gives a cleaner less (portal.settings).
"""

from __future__ import annotations

from .errors import LimitExceeded
from .limits import Limits

MiB = 1024 * 1024

# Bytes Pillow's image memory holds per pixel, by mode: one-byte modes, 16-bit
# grey, and everything else (RGB is stored padded to four bytes, like RGBA, CMYK,
# LA, 32-bit integer and float).
_ONE_BYTE = frozenset({"1", "L", "P"})
_TWO_BYTES = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
WIDEST_PIXEL = 4

# What decoding and re-encoding one frame holds at its peak, in copies of its
# decoded size (measured, SECURITY.md "Memory"): the frame, and the frame turned
# upright or the encoder's buffers (a progressive JPEG keeps its coefficients).
# WebP's decoder keeps two canvases and hands over a third copy; libheif and
# x265 hold about six. A picture's charge is its decoded size times these.
COPIES = {"WEBP": 4, "HEIF": 6}
DEFAULT_COPIES = 2

# A cleaning process forked from the zygote, with every parser mapped (~90 MiB of
# address space) and room for the Python objects of a large document.
CLEANER_BASE_BYTES = 256 * MiB


class FileBudgetExceeded(LimitExceeded):
    """The pictures of one file together are over its budget: the whole file is refused."""


def bytes_per_pixel(mode: str) -> int:
    if mode in _ONE_BYTE:
        return 1
    if mode in _TWO_BYTES:
        return 2
    return WIDEST_PIXEL


def frame_charge(width: int, height: int, mode: str, image_format: str) -> int:
    """What decoding and re-encoding one frame of this size, mode and format holds."""
    copies = COPIES.get(image_format, DEFAULT_COPIES)
    return max(width, 0) * max(height, 0) * bytes_per_pixel(mode) * copies


def cleaner_memory_needed(limits: Limits) -> int:
    """The address space a cleaning process needs to clean a picture at the budget:
    itself, the picture's charge, and the file in and the file out."""
    return CLEANER_BASE_BYTES + limits.max_image_bytes + 2 * limits.max_input_bytes


def check_declared_picture(width: int, height: int, bits_per_pixel: int, limits: Limits) -> None:
    """A picture someone else decodes (a PDF reader, the safe-copy renderer): refuse it
    as "limit" when its declared size, charged like a picture the cleaner decodes, is
    over the picture budget."""
    if width <= 0 or height <= 0:
        return
    size = height * ((width * max(bits_per_pixel, 1) + 7) // 8) * DEFAULT_COPIES
    if size > limits.max_image_bytes:
        raise LimitExceeded(_over(limits.max_image_bytes, "one picture"))


class DecodeBudget:
    """The pictures of one file: each gets a PictureBudget, all draw on one total."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.file_left = limits.max_file_image_bytes

    def picture(self, image_format: str) -> PictureBudget:
        return PictureBudget(self, image_format)

    def _spend(self, size: int) -> None:
        if size > self.file_left:
            raise FileBudgetExceeded(_over(self.limits.max_file_image_bytes,
                                           "the pictures of one file"))
        self.file_left -= size


class PictureBudget:
    """One picture (a Pillow format name): charge each frame before it is decoded."""

    def __init__(self, owner: DecodeBudget, image_format: str) -> None:
        self._owner = owner
        self._format = image_format
        self._left = owner.limits.max_image_bytes
        self.frames = 0

    def frame(self, width: int, height: int, mode: str) -> None:
        """Charge one frame; raise LimitExceeded when over a budget."""
        limits = self._owner.limits
        self.frames += 1
        if self.frames > limits.max_image_frames:
            raise LimitExceeded(f"more than {limits.max_image_frames} frames or pages")
        size = frame_charge(width, height, mode, self._format)
        if size > self._left:
            raise self.refusal()
        self._left -= size
        self._owner._spend(size)

    def refusal(self) -> LimitExceeded:
        return LimitExceeded(_over(self._owner.limits.max_image_bytes, "one picture"))


def _over(limit: int, what: str) -> str:
    return f"{what} would take over {limit // MiB} MiB to clean"

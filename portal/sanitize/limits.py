"""Every bound the cleaner puts on hostile input, in one place, with its reason.

A document is a program for a parser. These limits keep a hostile one from
taking the server's memory, CPU or disk, or from hiding data in nesting the
verifier would not reach. The child process enforces the resource limits; the
cleaners and the verifier enforce the structural ones.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # Largest file a cleaner reads into memory; matches the default upload cap.
    max_input_bytes: int = 200 * MiB
    # A cleaned file is rarely larger than its input; images re-encoded from a
    # well-compressed GIF are the exception, hence the slack.
    max_output_bytes: int = 400 * MiB
    # Zip bombs: member count, total expanded size and per-member compression ratio.
    max_zip_members: int = 5_000
    max_zip_expanded_bytes: int = 1024 * MiB
    max_zip_ratio: int = 200
    # XML bombs are stopped by defusedxml; this bounds a single XML part's size.
    max_xml_bytes: int = 256 * MiB
    # Decompression bombs (budget.py): the memory one picture may take while it is
    # decoded and re-encoded, all its frames or pages together: width × height × the
    # bytes each pixel takes decoded (four for colour, one for grey, palette and
    # black-and-white) × the copies its format's decoder and encoder hold (two; WebP
    # four, HEIC six). 768 MiB: a 96-megapixel colour photo, a 24-megapixel HEIC.
    max_image_bytes: int = 768 * MiB
    # Frames of an animation or pages of a TIFF: each costs a decode and an encode.
    max_image_frames: int = 1_000
    # Every picture of one file together (a document's pictures, each under the
    # limit above): about forty 12-megapixel photos. Bounds the time a slot is held.
    max_file_image_bytes: int = 4096 * MiB
    # Progressive JPEG scans: each one is a pass over the whole picture; cameras and
    # encoders write at most a few dozen.
    max_jpeg_scans: int = 100
    # PDFs: pages and objects bound the work of a full rewrite.
    max_pdf_pages: int = 3_000
    max_pdf_objects: int = 1_000_000
    # Embedded documents inside embedded documents: deeper than this is refused.
    max_depth: int = 3
    # Chained Ogg recordings are cleaned one part at a time; a file of thousands of
    # tiny parts is not a recording someone made, and would cost a parse each.
    max_ogg_links: int = 1_000
    # The child process: address space, CPU seconds and wall-clock seconds. The server
    # sets memory_bytes to its share of PORTAL_CLEANING_MEMORY_MB; it must hold a
    # picture at max_image_bytes while it is re-encoded (`budget.cleaner_memory_needed`).
    memory_bytes: int = 1536 * MiB
    cpu_seconds: int = 180
    wall_seconds: int = 300

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Limits:
        return cls(**{k: int(v) for k, v in json.loads(text).items()})


DEFAULT_LIMITS = Limits()

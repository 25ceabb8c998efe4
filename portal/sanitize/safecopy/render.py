"""Inside the renderer's sandbox: turn one document into page pixels and words.

Started by `safecopy/__init__.py` only, as `python -I -B` running this module
from the parent's own portal (`sandbox/command.py`), inside
`sandbox.launch(renderer=True)`: no network, an empty read-only root with the
system, the fonts and a scratch /tmp in memory. Arguments arrive in
PORTAL_RENDER_ARGS, the document on stdin.

The document is converted to PDF by LibreOffice (office documents, text, and
each chapter of an e-book, which is web pages in a ZIP), taken as it is (PDF),
or decoded by Pillow (pictures); poppler's pdftoppm
renders each page to pixels and pdftotext gives the words on it with their
boxes. A page with no usable words is read by Tesseract (Simplified and
Traditional Chinese and English), within its own page and time budget.

Output on stdout, for the server to check and rebuild (it trusts none of it):
one JSON line per page, {"width", "height" (pixels), "page_width",
"page_height" (points), "text": "document" | "ocr" | "none", "words":
[[x0, y0, x1, y1, text], ...] (points, from the top left)}, followed by exactly
width × height × 3 bytes of RGB; then {"done": true}. A document that cannot
be rendered within the bounds ends with {"problem": CODE} instead.

Promise: nothing this process writes leaves it except through stdout; nothing
it reads comes from outside the sandbox but the document on stdin.
"""

from __future__ import annotations

import html
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import IO, Any

from .. import kinds
from ..sandbox.confine import undumpable

SCRATCH = Path("/tmp")  # noqa: S108 - the sandbox's own tmpfs, private to this process
# What can be drawn, and the file name extension LibreOffice's import filters
# expect for each kind it reads: the kinds table.
IMAGE_KINDS = kinds.IMAGES
OFFICE_EXTENSIONS = kinds.OFFICE_EXTENSIONS
RENDERABLE = kinds.RENDERABLE
# An e-book's bounds: chapters laid out, members unpacked, bytes unpacked.
EPUB_MAX_CHAPTERS = 500
EPUB_MAX_MEMBERS = 10_000
EPUB_MAX_BYTES = 256 * 1024 * 1024

OCR_LANGUAGES = "chi_sim+chi_tra+eng"
PAGE_POINTS_MAX = 14_400.0  # the largest page a PDF may have (200 inches)
PICTURE_DPI = 150


class Problem(Exception):
    """The document cannot become a safe copy; the code says why (see safecopy.PROBLEMS)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _run(argv: list[str], deadline: float, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Problem("time")
    try:
        return subprocess.run(argv, capture_output=True, timeout=remaining,
                              check=False, **kwargs)
    except subprocess.TimeoutExpired:
        raise Problem("time") from None
    except FileNotFoundError:  # poppler-utils or Tesseract not installed on the server
        raise Problem("unavailable") from None


def to_pdf(document: Path, kind: str, deadline: float) -> list[Path]:
    """The document as PDFs: LibreOffice for office files, text and each chapter of an
    e-book, the file itself for a PDF."""
    if kind == "pdf":
        return [document]
    soffice = shutil.which("soffice")
    if soffice is None:
        raise Problem("unavailable")
    argv = [soffice, "--headless", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
            f"-env:UserInstallation=file://{SCRATCH}/profile"]
    if kind == "epub":
        sources = epub_chapters(document, deadline)
        argv.append("--infilter=HTML (StarWriter)")
    else:
        sources = [document.with_suffix("." + OFFICE_EXTENSIONS[kind])]
        document.rename(sources[0])
    if kind in ("text", "markdown"):
        argv.append("--infilter=Text (encoded):UTF8,LF,,,")
    argv += ["--convert-to", "pdf:writer_pdf_Export", "--outdir", str(SCRATCH / "out"),
             *map(str, sources)]
    _run(argv, deadline, env={**os.environ, "HOME": str(SCRATCH), "SAL_USE_VCLPLUGIN": "svp"})
    converted = [SCRATCH / "out" / (source.stem + ".pdf") for source in sources]
    converted = [path for path in converted if path.is_file()]
    if not converted:
        raise Problem("failed")
    return converted


def epub_chapters(book: Path, deadline: float) -> list[Path]:
    """The book's chapters in reading order, unpacked beside it as .html files with
    their pictures, for LibreOffice to lay out (an e-book is web pages in a ZIP)."""
    import posixpath
    import zipfile

    from defusedxml import ElementTree

    folder = SCRATCH / "book"
    with zipfile.ZipFile(book) as archive:
        infos = archive.infolist()
        if len(infos) > EPUB_MAX_MEMBERS or sum(i.file_size for i in infos) > EPUB_MAX_BYTES:
            raise Problem("failed")
        container = ElementTree.fromstring(archive.read("META-INF/container.xml"))
        rootfile = next(el.get("full-path", "") for el in container.iter()
                        if el.tag.endswith("rootfile"))
        package = ElementTree.fromstring(archive.read(rootfile))
        base = posixpath.dirname(rootfile)
        items = {el.get("id"): el.get("href", "") for el in package.iter()
                 if el.tag.endswith("}item")}
        spine = [items.get(el.get("idref")) for el in package.iter()
                 if el.tag.endswith("}itemref")]
        names = set(archive.namelist())
        for info in infos:  # every member, under names that cannot leave the folder
            target = _inside(folder, info.filename)
            if target is None or info.is_dir():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
        chapters: list[Path] = []
        for href in spine[:EPUB_MAX_CHAPTERS]:
            name = posixpath.normpath(posixpath.join(base, href or ""))
            source = _inside(folder, name)
            if not href or name not in names or source is None or not source.is_file():
                continue
            page = source.with_name(f"{source.stem}.penname-{len(chapters):04d}.html")
            source.rename(page)
            chapters.append(page)
        if time.monotonic() > deadline:
            raise Problem("time")
    if not chapters:
        raise Problem("failed")
    return chapters


def _inside(folder: Path, name: str) -> Path | None:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return folder.joinpath(*parts)


def page_count(pdf: Path, deadline: float) -> int:
    info = _run(["pdfinfo", str(pdf)], deadline)
    match = re.search(rb"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    if info.returncode != 0 or match is None:
        raise Problem("failed")
    return int(match.group(1))


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a binary PPM (P6, 8 bits) as pdftoppm writes it."""
    data = path.read_bytes()
    match = re.match(rb"P6\s+(\d+)\s+(\d+)\s+255\s", data)
    if match is None:
        raise Problem("failed")
    width, height = int(match.group(1)), int(match.group(2))
    pixels = data[match.end():match.end() + width * height * 3]
    if len(pixels) != width * height * 3:
        raise Problem("failed")
    return width, height, pixels


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                   r"(.*?)</word>", re.DOTALL)
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">')


def document_words(pdf: Path, number: int, deadline: float) -> tuple[float, float, list[list[Any]]]:
    """The page's size in points and its words with boxes, from the PDF's own text."""
    out = _run(["pdftotext", "-bbox", "-enc", "UTF-8", "-f", str(number), "-l", str(number),
                str(pdf), "-"], deadline)
    text = out.stdout.decode("utf-8", "replace")
    page = _PAGE.search(text)
    if out.returncode != 0 or page is None:
        raise Problem("failed")
    words = [[float(x0), float(y0), float(x1), float(y1), html.unescape(word)]
             for x0, y0, x1, y1, word in _WORD.findall(text)]
    return float(page.group(1)), float(page.group(2)), words


def usable(words: list[list[Any]]) -> bool:
    """Whether a page's own text is real text, not the garbage of a font without a
    Unicode table (replacement characters, private-use codes, controls)."""
    text = "".join(str(w[4]) for w in words)
    if not any(ch.isalnum() for ch in text):
        return False
    bad = sum(1 for ch in text if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cs"))
    return bad <= len(text) * 0.1


def ocr_words(image: Path, scale: float, deadline: float) -> list[list[Any]]:
    """Words Tesseract reads on the page image, their boxes in points (pixels × scale)."""
    tesseract = shutil.which("tesseract")
    if tesseract is None:
        return []
    out = _run([tesseract, str(image), "stdout", "-l", OCR_LANGUAGES, "--psm", "3", "tsv"],
               deadline, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    words = []
    for line in out.stdout.decode("utf-8", "replace").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) != 12 or fields[0] != "5" or not fields[11].strip():
            continue
        left, top, width, height = (int(v) for v in fields[6:10])
        words.append([left * scale, top * scale, (left + width) * scale,
                      (top + height) * scale, fields[11].strip()])
    return words


class Renderer:
    def __init__(self, args: dict[str, Any], out: IO[bytes]) -> None:
        self.out = out
        self.ocr_left = 0
        self.max_pages = int(args["max_pages"])
        self.max_side = int(args["max_side"])
        self.ocr_pages = int(args["ocr_pages"])
        self.deadline = time.monotonic() + float(args["seconds"])

    def emit(self, header: dict[str, Any], pixels: bytes = b"") -> None:
        self.out.write(json.dumps(header, ensure_ascii=False).encode("utf-8") + b"\n")
        self.out.write(pixels)
        self.out.flush()

    def page(self, width: int, height: int, pixels: bytes, page_width: float,
             page_height: float, words: list[list[Any]], text: str) -> None:
        self.emit({"width": width, "height": height, "page_width": page_width,
                   "page_height": page_height, "text": text if words else "none",
                   "words": words}, pixels)

    def picture(self, document: Path) -> None:
        from PIL import Image, ImageOps

        from ..formats.images import _register_heif

        _register_heif()
        Image.MAX_IMAGE_PIXELS = 100_000_000
        with Image.open(document) as opened:
            picture = ImageOps.exif_transpose(opened).convert("RGB")
        picture.thumbnail((self.max_side, self.max_side))
        width, height = picture.size
        ppm = SCRATCH / "picture.ppm"
        picture.save(ppm)
        scale = 72 / PICTURE_DPI
        words = ocr_words(ppm, scale, self.deadline) if self.ocr_pages > 0 else []
        self.page(width, height, picture.tobytes(), width * scale, height * scale, words, "ocr")

    def pdfs(self, pdfs: list[Path]) -> None:
        counts = [page_count(pdf, self.deadline) for pdf in pdfs]
        if sum(counts) > self.max_pages:
            raise Problem("pages")
        if sum(counts) == 0:
            raise Problem("failed")
        self.ocr_left = self.ocr_pages
        for pdf, pages in zip(pdfs, counts, strict=True):
            self.pdf(pdf, pages)

    def pdf(self, pdf: Path, pages: int) -> None:
        for number in range(1, pages + 1):
            page_width, page_height, words = document_words(pdf, number, self.deadline)
            if not (0 < page_width <= PAGE_POINTS_MAX and 0 < page_height <= PAGE_POINTS_MAX):
                raise Problem("failed")
            root = SCRATCH / "page"
            _run(["pdftoppm", "-f", str(number), "-l", str(number), "-singlefile",
                  "-scale-to", str(self.max_side), str(pdf), str(root)], self.deadline)
            image = root.with_suffix(".ppm")
            if not image.is_file():
                raise Problem("failed")
            width, height, pixels = read_ppm(image)
            text = "document"
            if not usable(words):
                words, text = [], "none"
                if self.ocr_left > 0:
                    self.ocr_left -= 1
                    words, text = ocr_words(image, page_width / width, self.deadline), "ocr"
            image.unlink()
            self.page(width, height, pixels, page_width, page_height, words, text)

    def run(self, source: IO[bytes], kind: str, max_bytes: int) -> None:
        folder = SCRATCH / "in"
        folder.mkdir()
        document = folder / "document"
        with open(document, "wb") as sink:
            copied = 0
            while chunk := source.read(1024 * 1024):
                copied += len(chunk)
                if copied > max_bytes:
                    raise Problem("failed")
                sink.write(chunk)
        if kind in IMAGE_KINDS:
            self.picture(document)
        else:
            self.pdfs(to_pdf(document, kind, self.deadline))
        self.emit({"done": True})


def main() -> int:
    args = json.loads(os.environ["PORTAL_RENDER_ARGS"])
    undumpable()
    memory = int(args["memory_bytes"])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(args["file_bytes"]), int(args["file_bytes"])))
    renderer = Renderer(args, sys.stdout.buffer)
    kind = str(args["kind"])
    try:
        if kind not in RENDERABLE:
            raise Problem("kind")
        renderer.run(sys.stdin.buffer, kind, int(args["max_input_bytes"]))
    except Problem as problem:
        renderer.emit({"problem": problem.code})
    except MemoryError:
        renderer.emit({"problem": "pixels"})
    except Exception:  # a hostile document's parse error is a failed copy, never a crash
        renderer.emit({"problem": "failed"})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What a safe copy costs, against the raw conversion of the same bytes, and how faithful
its text layer is: the document's own text against OCR.

For a 20-page DOCX and a 50-page PDF (Simplified and Traditional Chinese and
English), in one run on one machine:

- safe copy: `make_safe_copy()`, the whole path the portal takes (the renderer's
  sandbox, LibreOffice, pdftoppm and pdftotext per page, the checked stream,
  the PDF rebuilt with pikepdf);
- baseline: the raw conversion unconfined, `soffice --convert-to pdf` for the
  DOCX, `pdftoppm` of every page at the same size for the PDF (what
  Dangerzone's first stage does, without its container).

Each is run in a process of its own; the figures are wall-clock seconds
(median of --runs) and the peak of the resident memory of that process and
all its descendants together (sampled every 50 ms from /proc: the sandbox's
processes are not reaped by us, so their getrusage figures never reach us).

Then the text layer: the share of the body's characters (not spaces) found by
`pdftotext` in the copy (text from the document), and found by Tesseract
(chi_sim+chi_tra+eng, one thread) on the first --ocr-pages page images, with
its seconds per page.

Usage: .venv/bin/python bench/safecopy.py [--runs 3] [--ocr-pages 3]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.sanitize.safe_copies import BODY, pdftotext, share

PARAGRAPHS_PER_PAGE = 7

_ONE = """
import io, json, os, subprocess, sys, threading, time
from pathlib import Path
from portal.sanitize.sandbox.confine import descendants
how, source, kind, scratch = sys.argv[1:5]
peak = [0]

def rss(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0

def sample():
    while True:
        peak[0] = max(peak[0], sum(rss(p) for p in [os.getpid(), *descendants(os.getpid())]))
        time.sleep(0.05)

threading.Thread(target=sample, daemon=True).start()
started = time.monotonic()
if how == "safe":
    from portal.sanitize.safecopy import make_safe_copy
    with open(source, "rb") as src, open(Path(scratch) / "safe.pdf", "wb") as sink:
        pages = make_safe_copy(src, sink, kind=kind).pages
elif kind == "docx":
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation=file://{scratch}/profile", "--convert-to", "pdf",
                    "--outdir", scratch, source], check=True, capture_output=True)
    pages = 0
else:
    subprocess.run(["pdftoppm", "-scale-to", "1700", source, f"{scratch}/page"], check=True)
    pages = len(list(Path(scratch).glob("page-*")))
seconds = time.monotonic() - started
print(json.dumps({"seconds": seconds, "peak_mib": peak[0] / 1024, "pages": pages}))
"""


def documents(folder: Path) -> dict[str, Path]:
    import docx

    document = docx.Document()
    for page in range(20):
        for _ in range(PARAGRAPHS_PER_PAGE):
            document.add_paragraph(" ".join(BODY))
        if page < 19:
            document.add_page_break()
    word = folder / "twenty.docx"
    document.save(str(word))
    long = docx.Document()
    for page in range(50):
        for _ in range(PARAGRAPHS_PER_PAGE):
            long.add_paragraph(" ".join(BODY))
        if page < 49:
            long.add_page_break()
    long_docx = folder / "fifty.docx"
    long.save(str(long_docx))
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation=file://{folder}/profile", "--convert-to", "pdf",
                    "--outdir", str(folder), str(long_docx)], check=True, capture_output=True)
    return {"docx": word, "pdf": folder / "fifty.pdf"}


def measure(how: str, source: Path, kind: str, runs: int) -> dict[str, float]:
    figures = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as scratch:
            ran = subprocess.run([sys.executable, "-c", _ONE, how, str(source), kind, scratch],
                                 capture_output=True, check=True, text=True,
                                 cwd=Path(__file__).resolve().parent.parent)
            figures.append(json.loads(ran.stdout))
    return {"seconds": statistics.median(f["seconds"] for f in figures),
            "peak_mib": max(f["peak_mib"] for f in figures), "pages": figures[0]["pages"]}


def text_faithfulness(source: Path, ocr_pages: int) -> dict[str, float]:
    from portal.sanitize.safecopy import make_safe_copy

    out = io.BytesIO()
    with open(source, "rb") as src:
        make_safe_copy(src, out, kind="pdf")
    truth = "".join(BODY) * PARAGRAPHS_PER_PAGE
    layer = pdftotext(out.getvalue())
    document_share = share(truth * 50, layer)
    shares, seconds = [], []
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(["pdftoppm", "-f", "1", "-l", str(ocr_pages), "-scale-to", "1700",
                        str(source), f"{scratch}/page"], check=True)
        for image in sorted(Path(scratch).glob("page-*")):
            started = time.monotonic()
            read = subprocess.run(["tesseract", str(image), "stdout", "-l", "chi_sim+chi_tra+eng"],
                                  capture_output=True, check=True, text=True,
                                  env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"}).stdout
            seconds.append(time.monotonic() - started)
            shares.append(share(truth, read))
    return {"document": document_share, "ocr": statistics.mean(shares),
            "ocr_seconds_per_page": statistics.mean(seconds),
            "ocr_worst_script": min(share(body * PARAGRAPHS_PER_PAGE, read) for body in BODY)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ocr-pages", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        sources = documents(Path(folder))
        print(f"{'':44}{'seconds':>9}{'peak MiB':>10}")
        for kind, label in (("docx", "20-page DOCX"), ("pdf", "50-page PDF")):
            raw = measure("raw", sources[kind], kind, args.runs)
            safe = measure("safe", sources[kind], kind, args.runs)
            baseline = "soffice --convert-to pdf" if kind == "docx" else "pdftoppm, every page"
            for name, figures in ((f"{label}, {baseline}", raw),
                                  (f"{label}, safe copy ({safe['pages']} pages)", safe)):
                print(f"{name:<44}{figures['seconds']:9.2f}{figures['peak_mib']:10.0f}")
        faith = text_faithfulness(sources["pdf"], args.ocr_pages)
        print(f"text layer, share of the body's characters: from the document "
              f"{faith['document']:.1%}; OCR {faith['ocr']:.1%} (worst script on the last page "
              f"{faith['ocr_worst_script']:.1%}), {faith['ocr_seconds_per_page']:.1f} s per page")


if __name__ == "__main__":
    main()

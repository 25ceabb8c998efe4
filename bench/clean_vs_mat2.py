"""Our cleaner against Debian's mat2, on the same files, in the same run.

For every file of a dirty corpus (the test generators' documents, pictures and
recordings, each with a token planted in every identifying place, plus the mat2
test corpus when ../shared/corpus/mat2 is present) it measures:

* time: our `clean_isolated()` (the confined child process the portal uses, warm
  zygote included) and `mat2 --inplace` on a fresh copy; best of three each;
* identifying tokens left in each output (`tests/sanitize/scan.find_tokens`: raw,
  UTF-16, base64, every zip member, decoded PDF streams, PNG chunks, exiftool);
* for PDFs, whether the text is kept (`pdftotext` finds at least 90% of the input's
  words in the output).

and prints one row per format. Targets: zero tokens left on every file we
accept, text kept in every PDF, faster than mat2 on every format both handle.
It installs mat2 with apt-get when it is not on PATH (saying so), and writes
nothing but temporary files it removes. Usage:

    .venv/bin/python bench/clean_vs_mat2.py [--per-file] [--runs 3]
"""

from __future__ import annotations

import argparse
import functools
import io
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.sanitize import CleaningRefused, clean_isolated  # noqa: E402
from portal.sanitize.sniff import HEAD_BYTES, sniff, sniff_zip  # noqa: E402
from tests.sanitize import dirty_audio, dirty_media  # noqa: E402
from tests.sanitize.corpus import CORPUS  # noqa: E402
from tests.sanitize.scan import find_tokens  # noqa: E402

TEXT_KEPT_RATIO = 0.9


@dataclass
class Sample:
    """One file of the benchmark corpus and the tokens that must not survive cleaning."""

    name: str
    data: bytes
    tokens: list[str]
    kind: str = ""


@dataclass
class Result:
    """What one tool did with one sample."""

    seconds: float | None = None  # best of the runs; None when refused or failed
    output: bytes = b""
    kind: str = ""
    refused: str = ""
    refused_detail: str = ""
    tokens_left: int = 0
    text_kept: bool | None = None


@dataclass
class Row:
    """The aggregate for one format."""

    files: int = 0
    ours: list[float] = field(default_factory=list)  # every file we cleaned
    theirs: list[float] = field(default_factory=list)  # every file mat2 cleaned
    both: list[tuple[float, float]] = field(default_factory=list)  # files both cleaned
    ours_left: int = 0
    theirs_left: int = 0
    ours_text: list[bool] = field(default_factory=list)
    theirs_text: list[bool] = field(default_factory=list)
    ours_refused: int = 0
    theirs_refused: int = 0


# -- setting up ---------------------------------------------------------------------


def ensure_mat2() -> str:
    """The mat2 command, installed from Debian's archive if it is not there yet."""
    found = shutil.which("mat2")
    if found:
        return found
    print("mat2 is not installed: running `apt-get install -y mat2`", flush=True)
    install = ["apt-get", "install", "-y", "--no-install-recommends", "mat2"]
    result = subprocess.run(install, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        print("apt-get install failed; running `apt-get update` first, then again", flush=True)
        subprocess.run(["apt-get", "update"], capture_output=True, check=False)
        result = subprocess.run(install, capture_output=True, text=True, check=False)
    found = shutil.which("mat2")
    if found is None:
        sys.exit(f"could not install mat2:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    print(f"installed {version.stdout.strip() or 'mat2'}", flush=True)
    return found


def generated_samples() -> Iterator[Sample]:
    """The test generators' dirty files, office ones included when their modules exist."""
    builders: list[tuple[str, Callable[[], tuple[bytes, dict[str, str]]]]] = [
        ("dirty.pdf", dirty_media.dirty_pdf),
        ("incremental.pdf", dirty_media.incremental_pdf),
        ("dirty.jpg", dirty_media.dirty_jpeg),
        ("dirty.png", dirty_media.dirty_png),
        ("dirty.webp", dirty_media.dirty_webp),
        ("dirty.tiff", dirty_media.dirty_tiff),
        ("dirty.gif", dirty_media.dirty_gif),
        ("dirty.mp3", dirty_audio.dirty_mp3),
        ("dirty.flac", dirty_audio.dirty_flac),
        ("dirty.opus", dirty_audio.dirty_opus),
        ("dirty.m4a", dirty_audio.dirty_m4a),
        ("dirty.wav", dirty_audio.dirty_wav),
    ]
    try:
        from tests.sanitize import dirty_office

        builders += [("dirty.docx", dirty_office.dirty_docx), ("dirty.xlsx", dirty_office.dirty_xlsx)]
    except ImportError:
        print("(tests/sanitize/dirty_office.py is not there yet: no generated DOCX/XLSX)")
    try:
        from tests.sanitize import dirty_pptx

        builders.append(("dirty.pptx", dirty_pptx.dirty_pptx))
    except ImportError:
        pass
    try:
        from tests.sanitize import dirty_odf

        for kind in ("odt", "ods", "odp", "odg"):
            builders.append((f"dirty.{kind}", functools.partial(dirty_odf.dirty_odf, kind)))
    except ImportError:
        pass
    for name, build in builders:
        data, tokens = build()
        yield Sample(f"gen/{name}", data, sorted(set(tokens.values())))


def corpus_samples() -> Iterator[Sample]:
    """The mat2 corpus, with the identifying values exiftool reads in each file as tokens."""
    if not CORPUS.is_dir() or shutil.which("exiftool") is None:
        return
    # The corpus test owns the rules for what counts as identifying; one place for them.
    from tests.sanitize.test_mat2_corpus import tokens_of

    for path in sorted(CORPUS.iterdir()):
        if path.is_file():
            yield Sample(f"mat2/{path.name}", path.read_bytes(), list(tokens_of(path.name)))


def kind_of(sample: Sample, ours: Result) -> str:
    """The format: what we cleaned it as, or why we refused it, or what the bytes say."""
    if ours.kind:
        return ours.kind
    if ours.refused == "unknown-type" and ours.refused_detail:
        return ours.refused_detail.lower().replace(" ", "-")
    try:
        kind = sniff(sample.data[:HEAD_BYTES], sample.name)
        return sniff_zip(sample.data) if kind == "zip" else kind
    except CleaningRefused:
        return sample.name.rsplit(".", 1)[-1]


# -- running the two cleaners -------------------------------------------------------------


def run_ours(sample: Sample, runs: int) -> Result:
    """Our cleaner through the confined child process, as the portal runs it."""
    result = Result()
    times = []
    for _ in range(runs):
        out = io.BytesIO()
        started = time.perf_counter()
        try:
            report = clean_isolated(io.BytesIO(sample.data), out, name_hint=Path(sample.name).name)
        except CleaningRefused as refused:
            result.refused, result.refused_detail = refused.code, refused.detail
            return result
        result.kind = report.kind
        times.append(time.perf_counter() - started)
        result.output = out.getvalue()
    result.seconds = min(times)
    return result


def run_mat2(mat2: str, sample: Sample, runs: int, workdir: Path) -> Result:
    """`mat2 --inplace` on a fresh copy each run; a non-zero exit counts as refused."""
    result = Result()
    times = []
    name = Path(sample.name).name
    for run in range(runs):
        copy = workdir / f"run{run}" / name
        copy.parent.mkdir(exist_ok=True)
        copy.write_bytes(sample.data)
        started = time.perf_counter()
        done = subprocess.run([mat2, "--inplace", str(copy)], capture_output=True, text=True,
                              timeout=600, check=False)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            message = (done.stderr or done.stdout).strip().splitlines()
            result.refused = message[-1][:60] if message else f"exit {done.returncode}"
            return result
        times.append(elapsed)
        result.output = copy.read_bytes()
    result.seconds = min(times)
    return result


def words_of_pdf(data: bytes, workdir: Path) -> list[str]:
    """The words pdftotext reads in a PDF, lower-cased."""
    path = workdir / "text.pdf"
    path.write_bytes(data)
    done = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, timeout=120,
                          check=False)
    return re.findall(r"\w{3,}", done.stdout.decode("utf-8", "replace").lower())


def text_kept(original: bytes, cleaned: bytes, workdir: Path) -> bool | None:
    """At least 90% of the input's words come out of pdftotext on the output."""
    if shutil.which("pdftotext") is None:
        return None
    before = words_of_pdf(original, workdir)
    if not before:
        return None
    after = set(words_of_pdf(cleaned, workdir))
    return sum(word in after for word in before) / len(before) >= TEXT_KEPT_RATIO


def score(sample: Sample, result: Result, workdir: Path) -> None:
    """Count the tokens left in a result and, for a PDF, whether its text was kept."""
    if result.seconds is None:
        return
    result.tokens_left = len(find_tokens(result.output, sample.tokens))
    if sample.kind == "pdf":
        result.text_kept = text_kept(sample.data, result.output, workdir)


# -- the table -----------------------------------------------------------------------


def milliseconds(values: list[float]) -> str:
    """A mean of seconds, shown in milliseconds."""
    return f"{statistics.mean(values) * 1000:.0f}" if values else "-"


def kept(values: list[bool]) -> str:
    """How many of the files kept their text."""
    return f"{sum(values)}/{len(values)}" if values else "-"


def print_table(rows: dict[str, Row]) -> None:
    """One row per format."""
    header = (f"{'format':<11} {'files':>5} {'ours ms':>8} {'mat2 ms':>8} {'speed-up':>8} "
              f"{'tokens left':>12} {'text kept':>10} {'refused':>9}")
    print(header)
    print(f"{'':<11} {'':>5} {'':>8} {'':>8} {'':>8} {'ours/mat2':>12} {'ours/mat2':>10} "
          f"{'ours/mat2':>9}")
    print("-" * len(header))
    for kind in sorted(rows):
        row = rows[kind]
        speedup = "-"
        if row.both:
            ours, theirs = zip(*row.both, strict=True)
            speedup = f"{sum(theirs) / sum(ours):.1f}x"
        text = "-" if not (row.ours_text or row.theirs_text) else (
            f"{kept(row.ours_text)} / {kept(row.theirs_text)}")
        print(f"{kind:<11} {row.files:>5} {milliseconds(row.ours):>8} {milliseconds(row.theirs):>8} "
              f"{speedup:>8} {f'{row.ours_left}/{row.theirs_left}':>12} {text:>10} "
              f"{f'{row.ours_refused}/{row.theirs_refused}':>9}")


def main() -> int:
    """Install mat2 if needed, build the corpus, run both tools and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per file (best is kept)")
    parser.add_argument("--per-file", action="store_true", help="also print one line per file")
    args = parser.parse_args()
    mat2 = ensure_mat2()
    samples = [*generated_samples(), *corpus_samples()]
    clean_isolated(io.BytesIO(b"warm up the cleaning zygote\n"), io.BytesIO())
    rows: dict[str, Row] = defaultdict(Row)
    lines = []
    with tempfile.TemporaryDirectory(prefix="clean-vs-mat2-") as tmp:
        workdir = Path(tmp)
        for sample in samples:
            ours = run_ours(sample, args.runs)
            sample.kind = kind_of(sample, ours)
            theirs = run_mat2(mat2, sample, args.runs, workdir)
            score(sample, ours, workdir)
            score(sample, theirs, workdir)
            row = rows[sample.kind]
            row.files += 1
            if ours.seconds is not None:
                row.ours.append(ours.seconds)
            if theirs.seconds is not None:
                row.theirs.append(theirs.seconds)
            if ours.seconds is not None and theirs.seconds is not None:
                row.both.append((ours.seconds, theirs.seconds))
            row.ours_left += ours.tokens_left
            row.theirs_left += theirs.tokens_left
            row.ours_refused += bool(ours.refused)
            row.theirs_refused += bool(theirs.refused)
            if ours.text_kept is not None:
                row.ours_text.append(ours.text_kept)
            if theirs.text_kept is not None:
                row.theirs_text.append(theirs.text_kept)
            lines.append(
                f"{sample.name:<38} {sample.kind:<11} "
                f"ours {_ms(ours.seconds):>7} {ours.refused or f'{ours.tokens_left} left':<14} "
                f"mat2 {_ms(theirs.seconds):>7} {theirs.refused or f'{theirs.tokens_left} left'}"
            )
    if args.per_file:
        print("\n".join(lines))
        print()
    print(f"{len(samples)} files. ms: mean of each cleaned file's best of {args.runs} runs; "
          "speed-up: mat2 time / our time over the files both cleaned;\ntokens left: summed over "
          "the files each tool accepted; refused: files a tool declined or failed on.")
    print_table(rows)
    return 0


def _ms(seconds: float | None) -> str:
    """One time, in milliseconds."""
    return f"{seconds * 1000:.0f}ms" if seconds is not None else "-"


if __name__ == "__main__":
    sys.exit(main())

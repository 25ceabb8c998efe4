"""Coverage-guided fuzzing of the cleaner (atheris and libFuzzer), one format family per run.

Threat model row "hostile upload": a document is a program for a parser. The
property tests (test_properties.py) mutate seed files blindly; here libFuzzer
mutates them guided by which lines of `portal.sanitize` each input reached, so
it digs into the branches a blind search rarely finds.

    python -m tests.sanitize.fuzz_target FAMILY CORPUS_DIR [libFuzzer flags]

writes FAMILY's seeds (the dirty_* builders, hostile_samples, and the mat2 corpus
files when /work/shared/corpus/mat2 is present) into CORPUS_DIR, then fuzzes. Each
input goes through `clean()` in this process, not the confined child, so that the
fuzzer sees its coverage. Two outcomes are allowed: output that the independent
verifier accepts again, or CleaningRefused with a code authors have a sentence
for. Any other exception propagates, and libFuzzer reports it as a crash and
writes the input to its -artifact_prefix; a slow input past -timeout or memory
past -rss_limit_mb is reported the same way. The "sniffer" family feeds
`sniff()` and `refine()` only. test_fuzz.py runs every family, bounded.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

KiB = 1024


@dataclass(frozen=True)
class FuzzFamily:
    """The seeds of one format family, the file names an author would give such files,
    and the largest input worth mutating (larger seeds are left out, not truncated)."""

    name: str
    file_names: tuple[str, ...]
    seeds: Callable[[], dict[str, bytes]]
    max_len: int = 64 * KiB


# -- seeds: built on demand, after the cleaner's modules have been instrumented --------


def _properties(*kinds: str) -> dict[str, bytes]:
    """The property tests' seeds (a generated dirty file and the mat2 files) per kind."""
    from tests.sanitize.test_properties import seeds_of

    return {f"{kind}-{name}": data for kind in kinds for name, data in seeds_of(kind).items()}


def _reproducible(seeds: dict[str, bytes]) -> dict[str, bytes]:
    """Fixed zip dates and PDF identifiers: the same seed bytes, so the same run, every time."""
    from tests.sanitize.test_properties import reproducible

    return {name: reproducible(data) for name, data in seeds.items()}


def _mat2(*suffixes: str) -> dict[str, bytes]:
    """Every mat2 corpus file with one of these suffixes; nothing if the corpus is absent."""
    from tests.sanitize.corpus import CORPUS

    if not CORPUS.is_dir():
        return {}
    return {f"mat2-{path.name}": path.read_bytes() for path in sorted(CORPUS.iterdir())
            if path.suffix in suffixes and path.is_file()}


def _pdf_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_media, hostile_samples, verify_samples

    return {**_properties("pdf"), **_reproducible({
        "incremental": dirty_media.incremental_pdf()[0],
        "page-tree-loop": dirty_media.looping_pdf(),
        "two-pages": dirty_media.many_pages_pdf(2),
        "encrypted": dirty_media.encrypted_pdf("open sesame"),
        "plain-with-link": verify_samples.pdf(),
        "kids-cycle": hostile_samples.pdf_kids_cycle(),
        "own-parent": hostile_samples.pdf_page_is_own_parent(),
        "object-stream-loop": hostile_samples.pdf_object_stream_loop(),
        "object-stream": hostile_samples.pdf_object_stream_loop(loop=False),
        "pdf-zip-polyglot": hostile_samples.pdf_zip_polyglot(),
    })}


def _docx_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_office, hostile_samples, verify_samples

    return {**_properties("docx"), **_mat2(".docx"), **_reproducible({
        "dirty-office": dirty_office.dirty_docx()[0],
        "plain": dirty_office.plain_docx(),
        "verify-sample": verify_samples.docx(),
        "external-entity": hostile_samples.external_entity_docx(),
        "billion-laughs": hostile_samples.billion_laughs_docx(),
        "nested": hostile_samples.nested_docx(2),
        "zip-pdf-polyglot": hostile_samples.zip_pdf_polyglot(),
    })}


def _xlsx_pptx_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_office, dirty_pptx, verify_samples

    return {**_properties("xlsx", "pptx"), **_mat2(".xlsx"), **_reproducible({
        "dirty-xlsx": dirty_office.dirty_xlsx()[0],
        "dirty-pptx": dirty_pptx.dirty_pptx()[0],
        "verify-xlsx": verify_samples.xlsx(),
    })}


def _odf_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_odf, hostile_samples, verify_samples

    return {**_properties("odt", "ods"), **_mat2(".odt", ".odg", ".odf"), **_reproducible({
        **{f"dirty-{kind}": dirty_odf.dirty_odf(kind)[0] for kind in ("odt", "ods", "odp", "odg")},
        "verify-odp": verify_samples.odf("odp"),
        "billion-laughs": hostile_samples.billion_laughs_odt(),
    })}


def _jpeg_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_media, hostile_samples, verify_samples

    return {**_properties("jpeg"), "rotated": dirty_media.dirty_jpeg(orientation=6)[0],
            "exif-and-comment": dirty_media.small_jpeg("Li Wei", "scanned at home"),
            "plain": verify_samples.jpeg_bytes(), "bomb": hostile_samples.bomb_jpeg()}


def _png_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_media, hostile_samples, verify_samples

    return {**_properties("png"), "rotated": dirty_media.dirty_png(orientation=6)[0],
            "plain": verify_samples.png_bytes(), "bomb": hostile_samples.bomb_png()}


def _other_image_seeds() -> dict[str, bytes]:
    from tests.sanitize import hostile_samples

    return {**_properties("gif", "tiff", "webp", "bmp"), "gif-bomb": hostile_samples.bomb_gif()}


def _mp3_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_audio, verify_samples

    frame = dirty_audio.MP3_FRAME
    id3v1 = b"TAG" + b"a title".ljust(30, b"\0") + b"an artist".ljust(30, b"\0") + bytes(65)
    return {**_properties("mp3"), "frames": verify_samples.mp3_frames(),
            "cut-then-tagged": frame * 8 + frame[:304] + id3v1}


def _flac_seeds() -> dict[str, bytes]:
    from tests.sanitize import verify_samples

    return {**_properties("flac"), "header-and-frame": verify_samples.flac_bytes()}


def _ogg_m4a_seeds() -> dict[str, bytes]:
    from tests.sanitize import verify_samples

    return {**_properties("ogg", "m4a"),
            "opus-with-comment": verify_samples.ogg_opus_bytes([("ARTIST", "Li Wei")]),
            "m4a-plain": verify_samples.m4a_bytes()}


def _wav_seeds() -> dict[str, bytes]:
    from tests.sanitize import dirty_audio

    return {**_properties("wav"), "odd-chunk": dirty_audio.dirty_wav(odd=True)[0]}


def _text_seeds() -> dict[str, bytes]:
    markdown = "# 第一章\n\n*工人*的\u200d故事，[链接](https://example.org)。\n\n> 引用\u202e\n"
    return {**_properties("text"), "markdown": markdown.encode(),
            "armored-openpgp": b"-----BEGIN PGP MESSAGE-----\n\nhQEMA0+fake\n=abcd\n"
                               b"-----END PGP MESSAGE-----\n",
            "binary-openpgp": b"\x85\x01\x0c\x03" + bytes(range(64))}


def _sniffer_seeds() -> dict[str, bytes]:
    """The first kilobytes of every other family's seeds, and the zip containers whole."""
    seeds: dict[str, bytes] = {}
    for family in FAMILIES:
        if family.name == "sniffer":
            continue
        for name, data in family.seeds().items():
            seeds[f"{family.name}-{name}"] = data if data.startswith(b"PK") else data[: 4 * KiB]
    return seeds


FAMILIES: list[FuzzFamily] = [
    FuzzFamily("pdf", ("draft.pdf",), _pdf_seeds),
    FuzzFamily("docx", ("draft.docx",), _docx_seeds),
    FuzzFamily("xlsx-pptx", ("sheet.xlsx",), _xlsx_pptx_seeds),
    FuzzFamily("odf", ("draft.odt",), _odf_seeds),
    # Large enough for mat2's dirty.jpg, a real camera's EXIF and maker notes.
    FuzzFamily("jpeg", ("photo.jpg",), _jpeg_seeds, 144 * KiB),
    FuzzFamily("png", ("photo.png",), _png_seeds),
    FuzzFamily("gif-tiff-webp-bmp", ("scan.tiff",), _other_image_seeds),
    FuzzFamily("mp3", ("voice.mp3",), _mp3_seeds),
    FuzzFamily("flac", ("voice.flac",), _flac_seeds),
    FuzzFamily("ogg-m4a", ("voice.ogg",), _ogg_m4a_seeds),
    FuzzFamily("wav", ("voice.wav",), _wav_seeds),
    # Markdown differs from text only by the file name, so each input is cleaned as both.
    FuzzFamily("text-markdown-openpgp", ("draft.txt", "notes.md"), _text_seeds, 16 * KiB),
    FuzzFamily("sniffer", ("",), _sniffer_seeds),
]
BY_NAME = {family.name: family for family in FAMILIES}


def write_seeds(family: FuzzFamily, corpus: Path) -> int:
    """Write the family's distinct seeds that fit under its max_len into `corpus`; return
    how many."""
    corpus.mkdir(parents=True, exist_ok=True)
    distinct = {data: name for name, data in sorted(family.seeds().items(), reverse=True)}
    for data, name in distinct.items():
        if 0 < len(data) <= family.max_len:
            (corpus / f"seed-{name.replace('/', '-')}").write_bytes(data)
    return len(list(corpus.iterdir()))


# -- the property, for one input -------------------------------------------------------


def check_cleaned_or_refused(data: bytes, file_names: tuple[str, ...]) -> None:
    """clean() either refuses with a known code, or its output passes the verifier again."""
    from portal.sanitize import CleaningRefused, clean
    from portal.sanitize.core import STREAMING
    from portal.sanitize.messages import REFUSED
    from portal.sanitize.verify import StreamVerifier, verify

    for file_name in file_names:
        out = io.BytesIO()
        try:
            report = clean(io.BytesIO(data), out, name_hint=file_name)
        except CleaningRefused as refused:
            if refused.code not in REFUSED:
                raise AssertionError(f"refusal {refused.code!r} has no sentence for authors") from refused
            continue
        if report.kind in STREAMING:
            checker = StreamVerifier(report.kind)
            checker.feed(out.getvalue())
            checker.close()
        else:
            verify(report.kind, out.getvalue())


def check_sniffed_from_bytes(data: bytes) -> None:
    """sniff() names a kind the registry knows, from the bytes: the name only tells text
    from markdown. A zip or MP4-family container is refined by refine() or refused."""
    from portal.sanitize import CleaningRefused
    from portal.sanitize.sniff import CLEANABLE, HEAD_BYTES, PASS_THROUGH, REFUSED_KINDS, refine, sniff

    known = CLEANABLE | PASS_THROUGH | REFUSED_KINDS.keys()
    try:
        kind = sniff(data[:HEAD_BYTES])
    except CleaningRefused as refused:
        if refused.code != "empty" or data:
            raise
        return
    if kind not in known:
        raise AssertionError(f"sniff() answered {kind!r}, which no cleaner or refusal handles")
    for name in ("draft.pdf", "notes.md", "photo.jpg"):
        named = sniff(data[:HEAD_BYTES], name)
        if named != kind and {named, kind} != {"text", "markdown"}:
            raise AssertionError(f"the name {name} turned {kind!r} into {named!r}")
    if kind in ("zip", "isobmff"):
        try:
            refined = refine(kind, data)
        except CleaningRefused as refused:
            if refused.code != "malformed":
                raise
            return
        if refined not in known:
            raise AssertionError(f"refine() answered {refined!r}")


# -- the fuzzing process -------------------------------------------------------------


def instrument_cleaner() -> None:
    """Import every portal.sanitize module under atheris's instrumentation, before any
    test helper imports one uninstrumented; cleaners are otherwise loaded lazily."""
    import importlib
    import pkgutil

    import atheris

    with atheris.instrument_imports(include=["portal.sanitize"]):
        import portal.sanitize

        for module in pkgutil.iter_modules(portal.sanitize.__path__):
            importlib.import_module(f"portal.sanitize.{module.name}")
        from portal.sanitize.formats.images import _register_heif

        _register_heif()


class InjectedCrash(Exception):
    """Raised by the text cleaner in the harness's self-check, never otherwise."""


def inject_crash() -> None:
    """Make the text cleaner raise on any draft that mentions overtime (加班), as a
    parser bug would: test_fuzz.py checks that the harness then fails and says why."""
    from portal.sanitize.formats import text

    real_clean_text = text.clean_text

    def clean_text_with_a_bug(src, dst, report, ctx):  # type: ignore[no-untyped-def]
        data = src.read()
        if "加班".encode() in data:
            raise InjectedCrash("the text cleaner failed on purpose")
        real_clean_text(io.BytesIO(data), dst, report, ctx)

    text.clean_text = clean_text_with_a_bug


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] not in BY_NAME:
        sys.exit(f"usage: {argv[0]} {{{','.join(BY_NAME)}}} CORPUS_DIR [libFuzzer flags]")
    import atheris

    family, corpus = BY_NAME[argv[1]], Path(argv[2])
    instrument_cleaner()
    if os.environ.get("PENNAME_FUZZ_SELF_CHECK") == "1":
        inject_crash()
    # Pillow and mutagen warn about every damaged field they skip; outcomes are what count.
    warnings.simplefilter("ignore")
    print(f"{family.name}: {write_seeds(family, corpus)} seeds in {corpus}", file=sys.stderr)

    def test_one_input(data: bytes) -> None:
        if family.name == "sniffer":
            check_sniffed_from_bytes(data)
        else:
            check_cleaned_or_refused(data, family.file_names)

    atheris.Setup([argv[0], f"-max_len={family.max_len}", *argv[3:], str(corpus)], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)

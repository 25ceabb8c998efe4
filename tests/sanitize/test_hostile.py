"""Hostile uploads: bombs, loops, polyglots and truncated files are refused within the
limits, by the real confined child process, and the portal keeps serving.

Threat model row "hostile upload": a document is a program for a parser. Each
test here sends one such program through `clean_isolated()` and asserts three
things: the outcome (a refusal with a reason, or, where we decided so, a
verified-clean file), the time it took, and that this process's memory did not
grow, i.e. the bomb went off in the child, if anywhere.
"""

from __future__ import annotations

import dataclasses
import io
import resource
import time
from collections.abc import Callable, Iterator

import pikepdf
import pytest

from portal.sanitize import (
    DEFAULT_LIMITS,
    CleaningRefused,
    Limits,
    Report,
    VerificationFailed,
    clean,
    clean_isolated,
)
from portal.sanitize.messages import REFUSED
from portal.sanitize.sniff import CLEANABLE
from portal.sanitize.verify import StreamVerifier, verify
from tests.sanitize import dirty_audio, dirty_media, hostile_samples
from tests.sanitize.scan import find_tokens, pieces

MiB = 1024 * 1024
# Every hostile file is refused well within this; most take a few milliseconds.
WALL_BOUND_SECONDS = 30.0
# The child's wall clock is set to the bound, so a hang shows up as "timeout".
HOSTILE_LIMITS = dataclasses.replace(DEFAULT_LIMITS, wall_seconds=int(WALL_BOUND_SECONDS))
# This process never holds a bomb's expansion: its peak resident size stays under
# this (or under its earlier peak, plus a little, if another test went higher).
PARENT_RSS_CEILING = 768 * MiB
PARENT_RSS_SLACK = 64 * MiB
# What a structural limit answers; "timeout" or "crashed" would mean it did not.
STRUCTURAL_CODES = frozenset({"limit", "malformed"})


@dataclasses.dataclass
class Outcome:
    """What one isolated cleaning produced: a report and bytes, or a refusal; and its cost."""

    report: Report | None
    output: bytes
    refused: CleaningRefused | None
    seconds: float


def peak_rss_bytes() -> int:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def clean_in_child(data: bytes, name: str, limits: Limits = HOSTILE_LIMITS) -> Outcome:
    """Clean through the confined child and check this process came through unharmed."""
    before = peak_rss_bytes()
    out = io.BytesIO()
    started = time.monotonic()
    report: Report | None = None
    refused: CleaningRefused | None = None
    try:
        report = clean_isolated(io.BytesIO(data), out, name_hint=name, limits=limits)
    except CleaningRefused as exc:
        refused = exc
    seconds = time.monotonic() - started
    assert peak_rss_bytes() < max(before, PARENT_RSS_CEILING) + PARENT_RSS_SLACK, (
        f"{name}: this process's memory grew while the child cleaned"
    )
    assert seconds < WALL_BOUND_SECONDS, f"{name}: took {seconds:.1f} s"
    if refused is not None:
        assert refused.code in REFUSED, f"{name}: refusal code {refused.code!r} has no sentence"
        fail_if_cleaner_missing(refused)
    return Outcome(report, out.getvalue(), refused, seconds)


def fail_if_cleaner_missing(refused: CleaningRefused) -> None:
    """A kind we promise to clean, refused as unknown, means its cleaner is missing: a failure."""
    assert not (refused.code == "unknown-type" and refused.detail in CLEANABLE), (
        f"the {refused.detail} cleaner is missing"
    )


def assert_refused(outcome: Outcome, name: str, codes: frozenset[str] = STRUCTURAL_CODES) -> None:
    """The outcome is a refusal, for one of the reasons expected of this input."""
    assert outcome.refused is not None, f"{name} was cleaned, but must be refused"
    assert outcome.refused.code in codes, (
        f"{name}: refused as {outcome.refused.code} ({outcome.refused.detail}), expected {sorted(codes)}"
    )


def assert_verified(outcome: Outcome) -> None:
    """The output passes the independent verifier again, for whole-file and streamed kinds."""
    assert outcome.report is not None
    kind = outcome.report.kind
    if kind == "wav":
        checker = StreamVerifier(kind)
        checker.feed(outcome.output)
        checker.close()
    else:
        verify(kind, outcome.output)


# -- zip bombs ---------------------------------------------------------------------


def test_deflate_bomb_generator_is_honest() -> None:
    """The repeated-block trick yields a real deflate stream of that many zeros (checked
    on 64 MiB, the same code path), and the 1 GiB bomb is about 1 MiB on disk."""
    import zlib

    stream, crc = hostile_samples.deflated_zeros(64 * MiB)
    inflater = zlib.decompressobj(-15)
    expanded = inflater.decompress(stream)
    assert inflater.eof and len(expanded) == 64 * MiB and not expanded.strip(b"\0")
    assert zlib.crc32(expanded) == crc
    bomb, _ = hostile_samples.deflated_zeros()
    assert len(bomb) < 2 * MiB and hostile_samples.GiB > 900 * len(bomb)  # ratio over 900:1


@pytest.mark.parametrize("build,name", [
    (hostile_samples.zip_bomb_docx, "bomb.docx"),
    (lambda: hostile_samples.zip_bomb_docx(lie_about_size=True), "forged-sizes.docx"),
    (hostile_samples.zip_bomb_odt, "bomb.odt"),
    (hostile_samples.many_members_docx, "crowded.docx"),
], ids=["docx-1GiB", "docx-forged-sizes", "odt-1GiB", "docx-20000-members"])
def test_zip_bomb_is_refused_within_the_limits(build: Callable[[], bytes], name: str) -> None:
    outcome = clean_in_child(build(), name)
    assert_refused(outcome, name)
    assert outcome.seconds < 10


@pytest.mark.parametrize("depth,innermost", [
    (6, None), (1, "bomb"),
], ids=["six-documents-deep", "bomb-inside-an-embedded-document"])
def test_zip_in_zip_is_refused_or_cleaned_without_its_depth(depth: int, innermost: str | None) -> None:
    """Nesting past Limits.max_depth, or a bomb one level down: refused, or the cleaned
    document (with the embedding dropped) passes the verifier, which checks depth itself."""
    inner = hostile_samples.zip_bomb_docx() if innermost else None
    outcome = clean_in_child(hostile_samples.nested_docx(depth, inner), "nested.docx")
    if outcome.refused is not None:
        assert_refused(outcome, "nested.docx")
        return
    assert_verified(outcome)
    assert outcome.report is not None
    assert "embedded-file-removed" in {f.code for f in outcome.report.removed}  # and said so
    assert len(outcome.output) < 4 * MiB
    assert not [where for where, blob in pieces(outcome.output) if len(blob) > 64 * MiB]


# -- XML bombs ---------------------------------------------------------------------


def test_entity_bomb_sample_really_expands() -> None:
    """The DOCTYPE is a working bomb: a parser that expands entities gets 10^n "lol"s
    (checked with four levels; the samples use ten, 3 x 10^10 bytes)."""
    from lxml import etree

    small = hostile_samples.word_document(
        "&lol3;", doctype=hostile_samples.billion_laughs_doctype("w:document", levels=4))
    root = etree.fromstring(small, etree.XMLParser(resolve_entities=True))
    assert "".join(root.itertext()) == "lol" * 1000


@pytest.mark.parametrize("build,name", [
    (hostile_samples.billion_laughs_docx, "laughs.docx"),
    (hostile_samples.billion_laughs_odt, "laughs.odt"),
], ids=["docx", "odt"])
def test_billion_laughs_is_refused_quickly(build: Callable[[], bytes], name: str) -> None:
    outcome = clean_in_child(build(), name)
    assert_refused(outcome, name)
    assert outcome.seconds < 10


def test_external_entity_never_pulls_a_local_file_in() -> None:
    outcome = clean_in_child(hostile_samples.external_entity_docx(), "xxe.docx")
    if outcome.refused is None:
        assert_verified(outcome)
        assert not [w for w, blob in pieces(outcome.output) if hostile_samples.PASSWD_MARKER.encode() in blob]
    else:
        assert_refused(outcome, "xxe.docx")


# -- PDF loops ---------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    hostile_samples.pdf_kids_cycle,
    hostile_samples.pdf_page_is_own_parent,
    dirty_media.looping_pdf,
    hostile_samples.pdf_object_stream_loop,
], ids=["parent-kids-cycle", "page-is-its-own-parent", "kids-contain-their-node",
        "object-stream-contains-itself"])
def test_pdf_reference_loop_is_refused_quickly(build: Callable[[], bytes]) -> None:
    outcome = clean_in_child(build(), "loop.pdf")
    assert_refused(outcome, "loop.pdf", frozenset({"malformed"}))
    assert outcome.seconds < 10


def test_object_stream_sample_is_well_formed_without_its_loop() -> None:
    """The loop, not some other fault of the hand-made file, is what gets it refused."""
    outcome = clean_in_child(hostile_samples.pdf_object_stream_loop(loop=False), "fine.pdf")
    assert outcome.refused is None, outcome.refused
    assert_verified(outcome)



@pytest.mark.parametrize("build,exception", [
    (hostile_samples.pdf_pages_without_count, "QpdfRuntimeError"),
    (hostile_samples.pdf_startxref_past_64_bits, "ValueError"),
], ids=["pages-without-count", "startxref-past-64-bits"])
def test_pdf_damage_qpdf_reports_unusually_is_refused_as_malformed(
    build: Callable[[], bytes], exception: str
) -> None:
    """Found by the fuzzer: qpdf reports these as QpdfRuntimeError and ValueError, not
    PdfError, and clean() let them escape; in the child only the catch-all for parser
    bugs refused them. Now clean() refuses them as malformed with qpdf's reason, in this
    process and in the child, and the verifier refuses such a file too."""
    data = build()
    with pytest.raises(CleaningRefused) as refused:
        clean(io.BytesIO(data), io.BytesIO(), name_hint="damaged.pdf")
    assert refused.value.code == "malformed"
    outcome = clean_in_child(data, "damaged.pdf")
    assert_refused(outcome, "damaged.pdf", frozenset({"malformed"}))
    assert outcome.refused is not None and outcome.refused.detail != exception
    with pytest.raises(VerificationFailed):
        verify("pdf", data)


def test_pdf_stream_claiming_to_be_a_page_tree_node_is_refused_as_malformed() -> None:
    """Found by the fuzzer: an image stream with /Type /Pages was cut to the page-tree
    allow-list, and deleting its /Length raised KeyError out of clean(). A page or
    page-tree node is a dictionary, never a stream, so the file is refused as damaged."""
    data = hostile_samples.pdf_image_claiming_to_be_pages()
    with pytest.raises(CleaningRefused) as refused:
        clean(io.BytesIO(data), io.BytesIO(), name_hint="damaged.pdf")
    assert (refused.value.code, refused.value.detail) == ("malformed", "a stream that claims to be /Pages")
    assert_refused(clean_in_child(data, "damaged.pdf"), "damaged.pdf", frozenset({"malformed"}))
    fixed = data.replace(b"<< /Type /Pages /Subtype /Image", b"<< /Type /XObject /Subtype /Image")
    assert clean_in_child(fixed, "fine.pdf").refused is None  # the /Type is the only fault


# -- decompression-bomb pictures -------------------------------------------------------


@pytest.mark.parametrize("build,name", [
    (hostile_samples.bomb_png, "tiny.png"),
    (hostile_samples.bomb_jpeg, "tiny.jpg"),
    (hostile_samples.bomb_gif, "tiny.gif"),
], ids=["png-100000x100000", "jpeg-65000x65000", "gif-65535x65535"])
def test_decompression_bomb_picture_is_refused_before_decoding(
    build: Callable[[], bytes], name: str
) -> None:
    outcome = clean_in_child(build(), name)
    assert_refused(outcome, name, frozenset({"limit"}))
    assert outcome.seconds < 5


# -- polyglots ---------------------------------------------------------------------


@pytest.mark.parametrize("build", [
    hostile_samples.pdf_zip_polyglot, hostile_samples.zip_pdf_polyglot,
], ids=["pdf-then-zip", "zip-holding-a-pdf-first"])
def test_pdf_zip_polyglot_comes_out_as_a_plain_pdf_without_the_zip(
    build: Callable[[], bytes]
) -> None:
    """Decision: a file that is both a PDF and a zip is cleaned as the PDF its first
    kilobyte announces. The PDF is rewritten from scratch, so nothing of the zip
    half survives: no token, no zip structure, and the page text is kept."""
    polyglot = build()
    assert find_tokens(polyglot, [hostile_samples.POLYGLOT_ZIP_TOKEN], exiftool=False)
    outcome = clean_in_child(polyglot, "both.pdf")
    assert outcome.refused is None, outcome.refused
    assert outcome.report is not None and outcome.report.kind == "pdf"
    assert_verified(outcome)
    assert find_tokens(outcome.output, [hostile_samples.POLYGLOT_ZIP_TOKEN]) == []
    assert b"PK\x03\x04" not in outcome.output and b"PK\x05\x06" not in outcome.output
    with pikepdf.open(io.BytesIO(outcome.output)) as pdf:
        assert len(pdf.pages) == 1
        assert b"Workers' night school" in pdf.pages[0].Contents.read_bytes()


# -- truncated files -----------------------------------------------------------------


def _python_docx() -> tuple[bytes, dict[str, str]]:
    """A Word document from python-docx, with author and comments planted."""
    import docx

    tokens = dirty_media.tokens_for("TRUNCDOCX", "author", "comments")
    document = docx.Document()
    document.add_paragraph(dirty_media.BODY_TEXT)
    document.core_properties.author = tokens["author"]
    document.core_properties.comments = tokens["comments"]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), tokens


TRUNCATED_SOURCES: dict[str, Callable[[], tuple[bytes, dict[str, str]]]] = {
    "cut.pdf": dirty_media.dirty_pdf,
    "cut.docx": _python_docx,
    "cut.jpg": lambda: dirty_media.dirty_jpeg(size=(256, 192)),
    "cut.png": dirty_media.dirty_png,
    "cut.mp3": dirty_audio.dirty_mp3,
    "cut.flac": dirty_audio.dirty_flac,
    "cut.wav": dirty_audio.dirty_wav,
}


def _truncated_cases() -> Iterator[object]:
    """One case per source file and cut."""
    for name, build in TRUNCATED_SOURCES.items():
        for where in ("first-16-bytes", "first-third", "all-but-last-byte", "missing-last-tenth"):
            yield pytest.param(name, build, where, id=f"{name}-{where}")


@pytest.mark.parametrize("name,build,where", list(_truncated_cases()))
def test_truncated_file_is_refused_or_cleaned_without_its_metadata(
    name: str, build: Callable[[], tuple[bytes, dict[str, str]]], where: str
) -> None:
    """A cut file is refused; or, where the format is a run of independent pieces (MP3
    and FLAC frames, PDF objects that qpdf can recover, chunks after the audio), what
    survives the cut is cleaned and verified. Either way no planted token gets out."""
    whole, tokens = build()
    cut = dict(hostile_samples.truncations(whole))[where]
    outcome = clean_in_child(cut, name)
    if where == "first-16-bytes":
        assert_refused(outcome, name)  # sixteen bytes hold no picture, page or sound
    if outcome.refused is not None:
        assert_refused(outcome, name)
        return
    assert_verified(outcome)
    assert find_tokens(outcome.output, list(tokens.values())) == []


@pytest.mark.parametrize("kept", [304, 344, 384], ids=lambda n: f"last-frame-{n}-of-417-bytes")
def test_mp3_cut_in_its_last_frame_then_tagged_loses_the_tag(kept: int) -> None:
    """Bug check: a download cut inside the last MPEG frame, then tagged by a player that
    appends ID3v1 (TAG + title + artist), is a common file. The cut frame's header still
    claims 417 bytes, and reading that many swallows the tag's first bytes, title and
    artist included, into the "audio". They must not come out."""
    tokens = {"title": "ZQCUTMP3TITLETOKEN", "artist": "ZQCUTMP3ARTISTTOKEN"}
    frame = dirty_audio.MP3_FRAME
    id3v1 = (b"TAG" + tokens["title"].encode().ljust(30, b"\0")
             + tokens["artist"].encode().ljust(30, b"\0") + bytes(65))
    outcome = clean_in_child(frame * 40 + frame[:kept] + id3v1, "cut-then-tagged.mp3")
    if outcome.refused is not None:
        assert_refused(outcome, "cut-then-tagged.mp3")
        return
    assert find_tokens(outcome.output, list(tokens.values())) == []
    assert outcome.output.startswith(frame * 40)


def _ape_tag(artist: bytes) -> bytes:
    """An APEv2 tag with a header, an Artist and a Comment, as foobar2000 appends it."""
    items = b"".join(len(value).to_bytes(4, "little") + bytes(4) + key + b"\0" + value
                     for key, value in ((b"Artist", artist), (b"Comment", b"ripped " * 12)))
    size = len(items) + 32  # the size counts the items and the footer

    def header_or_footer(flags: int) -> bytes:
        return (b"APETAGEX" + (2000).to_bytes(4, "little") + size.to_bytes(4, "little")
                + (2).to_bytes(4, "little") + flags.to_bytes(4, "little") + bytes(8))

    return header_or_footer(0xA0000000) + items + header_or_footer(0x80000000)


def _lyrics3v2(artist: bytes) -> bytes:
    body = b"LYRICSBEGIN" + b"IND00002" + b"00" + b"EAR" + f"{len(artist):05d}".encode() + artist
    return body + f"{len(body):06d}".encode() + b"LYRICS200"


@pytest.mark.parametrize("tag", ["ape", "id3v1-extended", "lyrics3-then-id3v1"])
def test_mp3_cut_in_its_last_frame_then_tagged_in_other_ways_loses_the_tag(tag: str) -> None:
    """As above, with the other tags players append: APEv2, ID3v1 with its "TAG+"
    extension, Lyrics3 before ID3v1. Each is taken off the end before the frames
    are walked, so the cut frame cannot swallow any of it."""
    token = "ZQCUTMP3OTHERTAGTOKEN"
    artist = token.encode()
    id3v1 = b"TAG" + artist.ljust(30, b"\0") + bytes(95)
    appended = {
        "ape": _ape_tag(artist),
        "id3v1-extended": b"TAG+" + artist.ljust(60, b"\0") + bytes(163) + id3v1,
        "lyrics3-then-id3v1": _lyrics3v2(artist) + id3v1,
    }[tag]
    frame = dirty_audio.MP3_FRAME
    outcome = clean_in_child(frame * 40 + frame[:304] + appended, "cut-then-tagged.mp3")
    if outcome.refused is not None:
        assert_refused(outcome, "cut-then-tagged.mp3")
        return
    assert find_tokens(outcome.output, [token]) == []
    assert outcome.output == frame * 40


# -- the child's own limits -----------------------------------------------------------


class TrickleReader(io.RawIOBase):
    """An upload that arrives a few bytes at a time: the child waits, the clock runs."""

    def __init__(self, chunk: bytes, pause: float, count: int) -> None:
        self._chunk, self._pause, self._left = chunk, pause, count

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        self._left -= 1
        time.sleep(self._pause)
        return self._chunk


def test_slow_child_is_killed_by_the_wall_clock() -> None:
    """Limits(wall_seconds=1) against a cleaner that cannot finish: refused as "timeout"."""
    out = io.BytesIO()
    started = time.monotonic()
    with pytest.raises(CleaningRefused) as refused:
        clean_isolated(TrickleReader(b"a line of a draft\n" * 4000, 0.1, 100), out,  # type: ignore[arg-type]
                       name_hint="slow.txt", limits=Limits(wall_seconds=1))
    assert refused.value.code == "timeout"
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_expensive_picture_is_killed_by_the_wall_clock() -> None:
    """A real slow path: 81 megapixels (under the pixel limit) take seconds to re-encode."""
    started = time.monotonic()
    outcome = clean_in_child(hostile_samples.large_png(9000, 9000), "huge.png",
                             limits=Limits(wall_seconds=1))
    assert_refused(outcome, "huge.png", frozenset({"timeout"}))
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_expensive_picture_is_stopped_by_the_cpu_limit() -> None:
    """Limits(cpu_seconds=1): the kernel stops the child (SIGXCPU) and the refusal says limit."""
    outcome = clean_in_child(hostile_samples.large_png(9000, 9000), "huge.png",
                             limits=Limits(cpu_seconds=1))
    assert_refused(outcome, "huge.png", frozenset({"limit"}))


@pytest.mark.parametrize("memory_mib", [64, 128, 256])
def test_memory_limit_refuses_as_limit_instead_of_crashing(memory_mib: int) -> None:
    """Decoding 81 megapixels needs ~250 MB: under a smaller address-space limit the
    child runs out of memory and the refusal says so ("limit"), not "crashed"."""
    outcome = clean_in_child(hostile_samples.large_png(9000, 9000), "huge.png",
                             limits=Limits(memory_bytes=memory_mib * MiB))
    assert_refused(outcome, "huge.png", frozenset({"limit"}))
    assert outcome.seconds < 10


@pytest.mark.slow
def test_heic_out_of_memory_is_a_limit_not_a_hang_crash_or_damaged_file() -> None:
    """Bug check: HEIC is decoded and re-encoded by libheif and x265, which fail in
    other ways than MemoryError when memory runs out. At each budget the refusal
    must still be "limit", and must come quickly, not when the wall clock fires."""
    heic = hostile_samples.small_heic()
    seen = {}
    for memory_mib in range(64, 161, 16):
        outcome = clean_in_child(heic, "photo.heic",
                                 limits=Limits(memory_bytes=memory_mib * MiB, wall_seconds=5))
        if outcome.refused is not None:
            seen[memory_mib] = f"{outcome.refused.code} ({outcome.refused.detail})"
    wrong = {mib: what for mib, what in seen.items() if not what.startswith("limit")}
    assert wrong == {}, f"out-of-memory HEIC refused with the wrong reason, by MiB: {wrong}"


# -- the portal keeps serving ------------------------------------------------------------

PORTAL_BATCH: list[tuple[str, Callable[[], bytes]]] = [
    ("bomb.docx", hostile_samples.zip_bomb_docx),
    ("forged.docx", lambda: hostile_samples.zip_bomb_docx(lie_about_size=True)),
    ("bomb.odt", hostile_samples.zip_bomb_odt),
    ("laughs.docx", hostile_samples.billion_laughs_docx),
    ("laughs.odt", hostile_samples.billion_laughs_odt),
    ("kids.pdf", hostile_samples.pdf_kids_cycle),
    ("objstm.pdf", hostile_samples.pdf_object_stream_loop),
    ("tiny.png", hostile_samples.bomb_png),
    ("tiny.jpg", hostile_samples.bomb_jpeg),
    ("cut.pdf", lambda: dirty_media.dirty_pdf()[0][:3000]),
]


@pytest.mark.django_db
def test_portal_still_answers_after_a_batch_of_hostile_uploads(client, editor, data_dir) -> None:  # type: ignore[no-untyped-def]
    """The hostile batch goes through the real author upload (spool, confined cleaner,
    review page); every file is offered back as refused, and "/" still answers."""
    from tests.authoring import new_author, review_of, upload

    before = peak_rss_bytes()
    new_author(client)
    started = time.monotonic()
    review = review_of(upload(client, [(name, build()) for name, build in PORTAL_BATCH]))
    assert time.monotonic() - started < WALL_BOUND_SECONDS
    for index in range(len(PORTAL_BATCH)):
        assert f'name="send_uncleaned_{index}"' in review.html, PORTAL_BATCH[index][0]
    assert peak_rss_bytes() < max(before, PARENT_RSS_CEILING) + PARENT_RSS_SLACK
    assert client.get("/").status_code == 200

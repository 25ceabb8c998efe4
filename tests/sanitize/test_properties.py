"""Property: whatever bytes arrive, every cleaner entry point either returns output that
passes the independent verifier again, or refuses with a reason. It never hangs,
never crashes, and never raises anything but CleaningRefused.

Threat model row "hostile upload": a damaged or deliberately mangled file must not
become a way through the cleaner. Hypothesis mutates real seed files (the mat2
corpus when it is present, and dirty files built in memory) by flipping,
overwriting, inserting, deleting, duplicating and truncating bytes, and feeds the
result to `clean()` and `clean_bytes()` in this process, and to `clean_isolated()`
for a few families. The runs are derandomized and bounded so CI sees the same
examples every time, quickly; PENNAME_PROPERTY_EXAMPLES=500 runs a deeper search.

Planted tokens are not looked for here: a mutation can move metadata bytes into
content (a TIFF strip offset that now points at the Artist tag, a WAV data chunk
that now covers the iXML text, a PDF image that lost its /Filter), and content is
kept by design. The token checks run on well-formed files, in the format tests.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from portal.sanitize import CleaningRefused, Report, VerificationFailed, clean, clean_bytes, clean_isolated
from portal.sanitize.core import STREAMING
from portal.sanitize.messages import REFUSED
from portal.sanitize.verify import StreamVerifier, verify
from tests.sanitize import dirty_audio, dirty_media, hostile_samples, verify_samples
from tests.sanitize.corpus import CORPUS

# Pillow warns about every damaged TIFF tag it skips; the outcome is what is checked.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:PIL.*")

# One example of any family is cleaned far faster than this; more means a hang.
EXAMPLE_BOUND_SECONDS = 10.0

EXAMPLES = int(os.environ.get("PENNAME_PROPERTY_EXAMPLES", "25"))
FAMILY_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.large_base_example],
)
ISOLATED_SETTINGS = settings(FAMILY_SETTINGS, max_examples=max(6, EXAMPLES // 4))

Seed = tuple[bytes, dict[str, str]]  # what the dirty_* builders return: bytes and tokens


@dataclass(frozen=True)
class Family:
    """A format family: its kind, the name an author's file would have, and its seeds."""

    kind: str
    name: str
    corpus: tuple[str, ...]
    generate: Callable[[], Seed]


def _text() -> Seed:
    """A draft with a byte-order mark and invisible characters to remove."""
    return "工人的故事\u200b — a draft.\n\ufeffSecond\u2060 line, 加班.\n".encode() * 20, {}


def _bmp() -> Seed:
    """A small BMP picture (no tokens: BMP has no metadata fields)."""
    out = io.BytesIO()
    dirty_media.gradient((24, 16)).save(out, "BMP")
    return out.getvalue(), {}


def _python_docx() -> Seed:
    """A Word document from python-docx, with author, comments and last editor planted."""
    import docx

    tokens = dirty_media.tokens_for("PROPDOCX", "author", "comments", "lastmodifiedby")
    document = docx.Document()
    document.add_paragraph(dirty_media.BODY_TEXT)
    document.add_paragraph("姐妹们，明天见。")
    document.core_properties.author = tokens["author"]
    document.core_properties.comments = tokens["comments"]
    document.core_properties.last_modified_by = tokens["lastmodifiedby"]
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), tokens


def _openpyxl_xlsx() -> Seed:
    """A workbook from openpyxl, with its creator and last editor planted."""
    import openpyxl

    tokens = dirty_media.tokens_for("PROPXLSX", "creator", "lastmodifiedby")
    book = openpyxl.Workbook()
    book.active["A1"] = "加班"
    book.active["B1"] = 12
    book.properties.creator = tokens["creator"]
    book.properties.lastModifiedBy = tokens["lastmodifiedby"]
    out = io.BytesIO()
    book.save(out)
    # openpyxl stamps the time of saving; a fixed one keeps the seed the same every run.
    return hostile_samples.replace_member(out.getvalue(), "docProps/core.xml", lambda xml: re.sub(
        rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z", xml)), tokens


FAMILIES: list[Family] = [
    Family("text", "draft.txt", ("dirty.txt",), _text),
    Family("png", "photo.png", ("dirty.png",), dirty_media.dirty_png),
    Family("jpeg", "photo.jpg", ("dirty.jpg", "control_chars.jpg"), dirty_media.dirty_jpeg),
    Family("gif", "moving.gif", ("dirty.gif",), dirty_media.dirty_gif),
    Family("bmp", "scan.bmp", ("dirty.bmp",), _bmp),
    Family("tiff", "scan.tiff", ("dirty.tiff",), dirty_media.dirty_tiff),
    Family("webp", "photo.webp", ("dirty.webp",), dirty_media.dirty_webp),
    Family("pdf", "draft.pdf", ("dirty.pdf",), dirty_media.dirty_pdf),
    Family("docx", "draft.docx", ("dirty.docx", "revision.docx", "comment.docx"), _python_docx),
    Family("xlsx", "sheet.xlsx", ("dangling_rels.xlsx",), _openpyxl_xlsx),
    Family("pptx", "slides.pptx", (), lambda: (verify_samples.pptx(), {})),
    Family("odt", "draft.odt", ("dirty.odt", "revision.odt"), lambda: (verify_samples.odf("odt"), {})),
    Family("ods", "sheet.ods", (), lambda: (verify_samples.odf("ods"), {})),
    Family("mp3", "voice.mp3", ("dirty.mp3",), dirty_audio.dirty_mp3),
    Family("flac", "voice.flac", ("dirty.flac",), dirty_audio.dirty_flac),
    Family("ogg", "voice.ogg", ("dirty.ogg",), dirty_audio.dirty_opus),
    Family("m4a", "voice.m4a", (), dirty_audio.dirty_m4a),
    Family("wav", "voice.wav", ("dirty.wav",), dirty_audio.dirty_wav),
]
BY_KIND = {family.kind: family for family in FAMILIES}


def _dateless_icc(token: str) -> bytes:
    """dirty_media's colour profile without the creation time LittleCMS stamps on it."""
    profile = _ICC_WITH_DATE(token)
    return profile[:24] + bytes(12) + profile[36:]  # ICC header bytes 24-35: dateTimeNumber


_ICC_WITH_DATE = dirty_media.icc_profile_with
_PDF_ID = re.compile(rb"/ID\s*\[\s*<[0-9A-Fa-f]*>\s*<[0-9A-Fa-f]*>\s*\]")


def reproducible(data: bytes) -> bytes:
    """The same seed bytes every run: CI must see the same examples (derandomize only
    fixes the mutations). Zip members get the epoch date, a PDF's random /ID zeros."""
    if data.startswith(b"PK\x03\x04"):
        return hostile_samples.restamp(data)
    return _PDF_ID.sub(lambda found: re.sub(rb"[0-9A-Fa-f](?=[0-9A-Fa-f]*>)", b"0", found.group()),
                       data)


@cache
def seeds_of(kind: str) -> dict[str, bytes]:
    """By name: the seed generated in memory and every mat2 corpus seed present."""
    family = BY_KIND[kind]
    with mock.patch.object(dirty_media, "icc_profile_with", _dateless_icc):
        seeds = {"generated": reproducible(family.generate()[0])}
    for name in family.corpus:
        if (CORPUS / name).is_file():
            seeds[f"mat2/{name}"] = (CORPUS / name).read_bytes()
    return seeds


# -- mutations ---------------------------------------------------------------------

# Structure lives near the start of most formats (headers, the first zip member, the
# PDF header), so positions are drawn from the first kilobyte half of the time.
position = st.one_of(st.integers(0, 1023), st.integers(0, 2**31))
mutation = st.one_of(
    st.tuples(st.just("flip"), position, st.integers(0, 7)),
    st.tuples(st.just("set"), position, st.integers(0, 255)),
    st.tuples(st.just("insert"), position, st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), position, st.integers(1, 64)),
    st.tuples(st.just("duplicate"), position, st.integers(1, 256)),
    st.tuples(st.just("truncate"), position),
)


def mutate(data: bytes, steps: Sequence[tuple[Any, ...]]) -> bytes:
    """Apply each mutation in turn; positions wrap around the current length."""
    buffer = bytearray(data)
    for step in steps:
        if not buffer:
            break
        op, at = step[0], int(step[1]) % len(buffer)
        arg = step[2] if len(step) > 2 else 0
        if op == "flip":
            buffer[at] ^= 1 << int(arg)
        elif op == "set":
            buffer[at] = int(arg)
        elif op == "insert":
            buffer[at:at] = bytes(arg)
        elif op == "delete":
            del buffer[at : at + int(arg)]
        elif op == "duplicate":
            buffer[at:at] = buffer[at : at + int(arg)]
        elif op == "truncate":
            del buffer[max(at, 1) :]
    return bytes(buffer)


# -- the property --------------------------------------------------------------------


def reverify(report: Report, output: bytes) -> None:
    """Run the independent verifier on the output again, streamed kinds included."""
    if report.kind in STREAMING:
        checker = StreamVerifier(report.kind)
        checker.feed(output)
        checker.close()
    else:
        verify(report.kind, output)


def outcome_seen(what: str) -> None:
    """Count an outcome in Hypothesis's statistics; pinned examples run outside it."""
    if currently_in_test_context():
        event(what)


def assert_clean_or_refused(data: bytes, name: str, entry: str) -> None:
    """The property itself, for one input through one in-process entry point."""
    started = time.monotonic()
    try:
        if entry == "clean":
            out = io.BytesIO()
            report = clean(io.BytesIO(data), out, name_hint=name)
            output = out.getvalue()
        else:
            output, report = clean_bytes(data, name_hint=name)
            try:
                verify(report.kind, output)  # what clean() does after clean_bytes()
            except VerificationFailed:
                outcome_seen("refused: verification")
                return  # clean() would refuse it: an allowed outcome
    except CleaningRefused as refused:
        assert refused.code in REFUSED, f"refusal {refused.code!r} has no sentence for authors"
        outcome_seen(f"refused: {refused.code}")
        return
    finally:
        assert time.monotonic() - started < EXAMPLE_BOUND_SECONDS
    reverify(report, output)
    outcome_seen(f"cleaned as {report.kind}")


@pytest.mark.parametrize("kind", [family.kind for family in FAMILIES])
@FAMILY_SETTINGS
@given(data=st.data())
def test_mutated_file_is_cleaned_and_verified_or_refused(kind: str, data: st.DataObject) -> None:
    seeds = seeds_of(kind)
    name = data.draw(st.sampled_from(sorted(seeds)), label="seed")
    event(f"seed: {name}")
    steps = data.draw(st.lists(mutation, min_size=1, max_size=4), label="mutations")
    entry = data.draw(st.sampled_from(["clean", "clean_bytes"]), label="entry point")
    assert_clean_or_refused(mutate(seeds[name], steps), BY_KIND[kind].name, entry)


@pytest.mark.parametrize("kind", ["pdf", "png", "mp3", "docx", "wav"])
@ISOLATED_SETTINGS
@given(data=st.data())
def test_mutated_file_through_the_confined_child_never_crashes_it(
    kind: str, data: st.DataObject
) -> None:
    """The same property through the real child process: no "crashed", no "timeout"."""
    seeds = seeds_of(kind)
    seed = seeds[data.draw(st.sampled_from(sorted(seeds)), label="seed")]
    mutated = mutate(seed, data.draw(st.lists(mutation, min_size=1, max_size=4), label="mutations"))
    out = io.BytesIO()
    try:
        report = clean_isolated(io.BytesIO(mutated), out, name_hint=BY_KIND[kind].name)
    except CleaningRefused as refused:
        assert refused.code in REFUSED and refused.code not in ("crashed", "timeout"), refused
        return
    reverify(report, out.getvalue())


def test_mutations_do_what_they_say() -> None:
    """The mutation helper itself: each operation changes the bytes as named."""
    data = bytes(range(10))
    assert mutate(data, [("flip", 0, 0)]) == b"\x01" + data[1:]
    assert mutate(data, [("set", 12, 255)])[2] == 255  # positions wrap around
    assert mutate(data, [("insert", 3, b"ab")]) == data[:3] + b"ab" + data[3:]
    assert mutate(data, [("delete", 3, 2)]) == data[:3] + data[5:]
    assert mutate(data, [("duplicate", 8, 5)]) == data[:8] + data[8:] + data[8:]
    assert mutate(data, [("truncate", 4)]) == data[:4]
    assert mutate(data, [("truncate", 0)]) == data[:1]


# -- examples the search found, pinned so they run whatever Hypothesis draws -------------


def _pdf_with(catalog_extra: bytes = b"", annotation: bytes = b"") -> bytes:
    """A one-page PDF with an extra catalog entry and/or one annotation, written by hand."""
    content = f"BT /F1 12 Tf 72 720 Td ({dirty_media.BODY_TEXT}) Tj ET".encode()
    annots = b" /Annots [6 0 R]" if annotation else b""
    return dirty_media.assemble_pdf([
        b"<< /Type /Catalog /Pages 2 0 R" + catalog_extra + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >>" + annots + b" >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        annotation or b"null",
    ])


@pytest.mark.parametrize("pdf", [
    _pdf_with(catalog_extra=b" /L#CCang (zh-CN)"),
    _pdf_with(catalog_extra=b" /L\xccang (zh-CN)"),
    _pdf_with(annotation=b"<< /Type /Annot /Subtype /Lin#B7k /Rect [0 0 9 9] /T (Reviewer) >>"),
], ids=["catalog-key-escaped", "catalog-key-raw-byte", "annotation-subtype"])
def test_pdf_name_that_is_not_utf8_is_cleaned_or_refused(pdf: bytes) -> None:
    """A PDF name is any bytes (ISO 32000-1, 7.3.5), not necessarily UTF-8: a name with
    a byte such as 0xCC, as a dictionary key or as a value, must not escape clean()
    as TypeError or UnicodeDecodeError (found by the mutation search above)."""
    assert_clean_or_refused(pdf, "odd-names.pdf", "clean")

"""The mat2 test corpus, file by file, through the real confined cleaner.

Issue requirement: "Every file of ../shared/corpus/mat2/ is either cleaned (the
same scan finds nothing and the file still opens) or refused with a reason; none
crashes the process." mat2's corpus is what another careful project collected
over years: documents with rsids and tracked changes, pictures with GPS, tagged
recordings, broken packages. For a cleaned file, every identifying value exiftool
reads in the input (authors, creators, editors, software, devices, GPS, XMP, audio
tags) and every editing-session identifier in an office package (rsid, paraId,
docId) is looked for in the output, raw and in every encoding and container
`scan.find_tokens` knows; and the output must open in the ordinary library for
its format.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import wave
import zipfile
from functools import cache

import pytest

from portal.sanitize import CleaningRefused, Report, clean_isolated
from portal.sanitize.messages import REFUSED
from portal.sanitize.sniff import CLEANABLE
from tests.sanitize.corpus import CORPUS
from tests.sanitize.scan import find_tokens

if not CORPUS.is_dir():
    pytest.skip(f"the mat2 corpus is not present at {CORPUS}", allow_module_level=True)

FILES = sorted(path.name for path in CORPUS.iterdir() if path.is_file())

# Tags that name a person, a device, a program or a document's identity, in any group.
IDENTIFYING_TAGS = frozenset({
    "Author", "Authors", "Creator", "Initial-creator", "LastModifiedBy", "Artist", "Make",
    "Model", "Software", "Producer", "Comment", "Comments", "UserComment", "Application",
    "Generator", "CreatorTool", "Company", "Manager", "HostComputer", "OwnerName",
    "SerialNumber", "InternalSerialNumber", "LensModel", "LensSerialNumber", "DocumentID",
    "InstanceID", "OriginalDocumentID", "DerivedFromDocumentID", "PTEX_Fullbanner",
    "PTEXFullbanner", "XMPToolkit", "Vendor", "ProfileCreator", "ProfileDescription",
    "DeviceManufacturer", "DeviceModel", "Printed-by", "Template", "HyperlinkBase",
    "ImageDescription", "Copyright", "By-line", "Credit", "Source", "Contact",
})
# Groups whose every text value is metadata: positions, XMP packets, audio tags.
IDENTIFYING_GROUPS = ("GPS", "XMP", "ID3", "Vorbis", "APE", "RIFF", "IPTC", "Photoshop",
                      "MakerNotes", "ItemList", "UserData", "Keys", "Lyrics3")
# Within those groups, the tags that describe the content or the coding, not a person:
# a title, subject, description and keywords are the author's own words and an office
# document keeps them on purpose (see verify_office); the rest say how it is encoded.
NOT_IDENTIFYING = frozenset({
    "Title", "Subject", "Description", "Keywords", "Format", "Language", "Transformation",
    "Encoding", "NominalBitrate", "VP8Version", "WebP_Flags", "Editing-duration",
    "Editing-cycles", "ZipFileName", "MajorBrand", "CompatibleBrands",
})
GENERIC_VALUES = frozenset({"application/pdf", "true", "false", "unknown", "none", "normal"})
STANDARD_URL = re.compile(r"https?://(docs\.oasis-open\.org|ns\.adobe\.com|www\.w3\.org|purl\.org)/")
NUMBERS_AND_DATES = re.compile(r"[\d\s:.,+\-/TZ]*|P(T?\d+[YMWDHS])+")
# Editing-session and document identifiers inside office XML (OOXML and ODF).
SESSION_IDS = re.compile(
    rb'(?:w:rsid\w*|w14:paraId|w14:textId|officeooo:(?:paragraph-)?rsid)="([0-9A-Fa-f]{8})"'
    rb'|<w1[45]:docId w1[45]:val="\{?([0-9A-Fa-f-]{8,36})\}?"'
    rb'|<w:rsid w:val="([0-9A-Fa-f]{8})"'
)
# A refusal whose detail is one of these names is a caught programming error, not a reason.
PROGRAMMING_ERRORS = frozenset({
    "TypeError", "AttributeError", "KeyError", "IndexError", "NameError", "AssertionError",
    "UnboundLocalError", "NotImplementedError", "ImportError",
})


def exiftool_tags(data: bytes) -> dict[str, object]:
    """exiftool's reading of a file; from a real file, since it cannot unzip from a pipe."""
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(data)
        handle.flush()
        result = subprocess.run(["exiftool", "-j", "-a", "-u", "-ee", "-G1", handle.name],
                                capture_output=True, timeout=120, check=False)
    return json.loads(result.stdout or b"[{}]")[0]  # type: ignore[no-any-return]


def identifying_values(data: bytes) -> dict[str, str]:
    """Every identifying value exiftool reads, by "Group:Tag" (generic values skipped)."""
    found: dict[str, str] = {}
    for key, value in exiftool_tags(data).items():
        group, _, tag = key.rpartition(":")
        if group in ("System", "ExifTool", "Composite", "SourceFile") or tag in NOT_IDENTIFYING:
            continue
        if tag not in IDENTIFYING_TAGS and not group.startswith(IDENTIFYING_GROUPS):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, (bool, int, float)):
                continue
            text = str(item).strip()
            if (len(text) < 5 or text.lower() in GENERIC_VALUES or NUMBERS_AND_DATES.fullmatch(text)
                    or text.startswith("(Binary data") or STANDARD_URL.match(text)):
                continue
            found[key] = text
    return found


def session_ids(data: bytes) -> set[str]:
    """rsid, paraId, textId and docId values in every XML member of an office package."""
    if not data.startswith(b"PK\x03\x04"):
        return set()
    ids: set[str] = set()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.filename.endswith((".xml", ".rels")) and info.file_size < 64 * 1024 * 1024:
                    for match in SESSION_IDS.finditer(archive.read(info)):
                        ids.update(g.decode() for g in match.groups() if g)
    except (zipfile.BadZipFile, OSError, ValueError):
        pass  # a broken package has nothing to read here; the cleaner decides about it
    return {value for value in ids if value.strip("0")}


@cache
def tokens_of(name: str) -> tuple[str, ...]:
    """The identifying values and session identifiers of a corpus file, computed once."""
    data = (CORPUS / name).read_bytes()
    return tuple(sorted({*identifying_values(data).values(), *session_ids(data)}))


@cache
def cleaned(name: str) -> tuple[Report | None, bytes, CleaningRefused | None]:
    """The corpus file through the confined child, once per test session."""
    out = io.BytesIO()
    with (CORPUS / name).open("rb") as source:
        try:
            report = clean_isolated(source, out, name_hint=name)
        except CleaningRefused as refused:
            return None, b"", refused
    return report, out.getvalue(), None


def clean_outcome(name: str) -> tuple[Report, bytes] | CleaningRefused:
    """The cleaning outcome; a kind we promise to clean refused as unknown is a failure."""
    report, output, refused = cleaned(name)
    if refused is not None:
        assert not (refused.code == "unknown-type" and refused.detail in CLEANABLE), (
            f"the {refused.detail} cleaner is missing"
        )
        return refused
    assert report is not None
    return report, output


# -- opening the output with the ordinary library for its format -------------------------


def open_pdf(data: bytes, original: bytes) -> None:
    """pikepdf opens it, with every page."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf, pikepdf.open(io.BytesIO(original)) as before:
        assert len(pdf.pages) == len(before.pages)


def open_picture(data: bytes, original: bytes) -> None:
    """Pillow (with pillow-heif) decodes every pixel, at the original size."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    after, before = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(original))
    after.load()
    assert sorted(after.size) == sorted(before.size)  # an EXIF rotation may swap them


def open_recording(data: bytes, original: bytes) -> None:
    """mutagen reads it as sound with a length."""
    import mutagen

    audio = mutagen.File(io.BytesIO(data))
    assert audio is not None and audio.info.length > 0


def open_wav(data: bytes, original: bytes) -> None:
    """The standard library's wave module reads its frames."""
    with wave.open(io.BytesIO(data)) as recording:
        assert recording.getnframes() > 0


def open_docx(data: bytes, original: bytes) -> None:
    """python-docx opens it."""
    import docx

    docx.Document(io.BytesIO(data))


def open_xlsx(data: bytes, original: bytes) -> None:
    """openpyxl opens it, with its sheets."""
    import openpyxl

    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames


def open_package(data: bytes, original: bytes) -> None:
    """PPTX and the ODF kinds: a sound zip whose main XML part parses."""
    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        names = archive.namelist()
        main = next(n for n in ("content.xml", "ppt/presentation.xml") if n in names)
        etree.fromstring(archive.read(main))
        if "content.xml" in names:
            assert names[0] == "mimetype"


def open_text(data: bytes, original: bytes) -> None:
    """It is UTF-8 text."""
    data.decode("utf-8")


OPENERS = {
    "pdf": open_pdf, "docx": open_docx, "xlsx": open_xlsx, "pptx": open_package,
    "odt": open_package, "ods": open_package, "odp": open_package, "odg": open_package,
    "mp3": open_recording, "flac": open_recording, "ogg": open_recording,
    "m4a": open_recording, "wav": open_wav, "text": open_text, "markdown": open_text,
    **dict.fromkeys(("jpeg", "png", "webp", "tiff", "gif", "bmp", "heic"), open_picture),
}


def require_exiftool() -> None:
    if shutil.which("exiftool") is None:
        message = "THE CORPUS SCAN NEEDS exiftool (apt-get install libimage-exiftool-perl)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


# -- the tests -----------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_is_refused_with_a_reason_or_cleaned_clean_and_still_opens(name: str) -> None:
    """One test per file, with no skip: a refusal is checked as a refusal, a cleaning in full."""
    outcome = clean_outcome(name)
    if isinstance(outcome, CleaningRefused):
        assert outcome.code in REFUSED, f"{name}: refusal code {outcome.code!r} has no sentence"
        assert outcome.code not in ("crashed", "timeout"), f"{name}: the child {outcome.code}"
        assert outcome.detail not in PROGRAMMING_ERRORS, (
            f"{name}: refused after a programming error in the cleaner ({outcome.detail})"
        )
        return
    report, output = outcome
    assert output, f"{name}: cleaned to nothing"
    assert report.kind in OPENERS, f"{name}: no opener for {report.kind}"
    require_exiftool()
    # Nothing identifying is left ...
    tokens = list(tokens_of(name))
    assert find_tokens(output, tokens) == [], f"{name} ({report.kind}) still carries these"
    assert identifying_values(output) == {}, f"{name}: exiftool still reads these"
    assert session_ids(output) == set(), f"{name}: editing-session identifiers remain"
    # ... and the file still opens in the ordinary library for its format.
    OPENERS[report.kind](output, (CORPUS / name).read_bytes())


def test_the_corpus_is_not_all_refused() -> None:
    """The test above could pass by refusing everything: most of the corpus is cleaned."""
    cleaned = [name for name in FILES if not isinstance(clean_outcome(name), CleaningRefused)]
    assert len(cleaned) >= len(FILES) * 2 // 3, f"only {len(cleaned)} of {len(FILES)} cleaned"


def test_the_scan_sees_what_it_looks_for() -> None:
    """The token extraction is not vacuous: the known-dirty files yield their known values."""
    expected = {
        "dirty.pdf": "pdfTeX-1.40.14",
        "dirty.mp3": "jvoisin",
        "dirty.flac": "Thank you for using MAT !",
        "dirty.docx": "Julien Voisin",
        "dirty.odt": "jvoisin",
        "dirty.png": "This is a comment, be careful!",
        "dirty.tiff": "OLYMPUS IMAGING CORP.",
    }
    require_exiftool()
    present = {name: value for name, value in expected.items() if name in FILES}
    if not present:
        pytest.skip("none of the known-dirty files is in the corpus")
    for name, value in present.items():
        assert value in tokens_of(name), f"{name}: {value!r} not among {tokens_of(name)}"
    for name in ("office_revision_session_ids.docx", "dirty_with_nsid.docx", "revision.odt"):
        if name in FILES:
            assert session_ids((CORPUS / name).read_bytes()), f"{name}: no rsid found"

"""The independent verifier as a whole: registry, independence, hostile containers.

Format-specific deny-lists are tested in test_verify_office, test_verify_pdf
and test_verify_media; this file covers what they share.
"""

from __future__ import annotations

import ast
import io
import struct
import time
import warnings
import zipfile
from pathlib import Path

import pytest

from portal.sanitize.errors import CleaningRefused, LimitExceeded, VerificationFailed
from portal.sanitize.limits import DEFAULT_LIMITS, Limits
from portal.sanitize.sniff import CLEANABLE
from portal.sanitize.verify import _VERIFIERS, verify
from portal.sanitize.verify.common import has_local_path

from . import verify_samples as samples

SANITIZE = Path(__file__).resolve().parents[2] / "portal" / "sanitize"
# The verifier's modules, found on disk: a new one is checked without being listed.
VERIFIER_MODULES = sorted(
    path.relative_to(SANITIZE).with_suffix("").as_posix()
    for path in (SANITIZE / "verify").rglob("*.py")
)
# The cleaner side: the verifier must never share its idea of "identifying".
CLEANER_SIDE = ("portal.sanitize.formats", "portal.sanitize.core", "portal.sanitize.sandbox",
                "portal.sanitize.safecopy")


def test_every_whole_file_kind_has_a_registered_verifier() -> None:
    streaming = {"text", "markdown", "wav"}
    assert set(CLEANABLE) - streaming <= set(_VERIFIERS)
    for target in set(_VERIFIERS.values()):
        module, _, func = target.partition(":")
        assert callable(getattr(__import__(module, fromlist=[func]), func))


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(VerificationFailed):
        verify("exe", b"MZ")


def _imports(path: Path, source: str | None = None) -> set[str]:
    """Every module a file imports, relative imports resolved, including inside functions."""
    parts = ["portal", "sanitize", *path.relative_to(SANITIZE).with_suffix("").parts]
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    found: set[str] = set()
    text = path.read_text(encoding="utf-8") if source is None else source
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_verifier_modules_are_found() -> None:
    assert {"verify/__init__", "verify/common", "verify/office", "verify/pdf"} <= set(
        VERIFIER_MODULES
    )


@pytest.mark.parametrize("module", VERIFIER_MODULES)
def test_verifier_does_not_import_the_cleaners(module: str) -> None:
    imported = _imports(SANITIZE / f"{module}.py")
    assert not {name for name in imported if name.startswith(CLEANER_SIDE)}


@pytest.mark.parametrize("line", [
    "from ..formats.ooxml import clean_ooxml",
    "from .. import core",
    "import portal.sanitize.sandbox.isolate",
    "def f():\n    from ..formats import pdf\n",
])
def test_the_import_check_sees_a_cleaner_import(line: str) -> None:
    imported = _imports(SANITIZE / "verify" / "office.py", source=line)
    assert {name for name in imported if name.startswith(CLEANER_SIDE)}


@pytest.mark.parametrize("text", [
    "file:///C:/Users/wang/draft.docx", r"C:\Users\王小明\Documents\a.docx",
    r"c:\\users\\li\\x", "D:/Users/li/x", r"C:\Documents and Settings\li\x",
    "/home/xiaoming/notes.odt", "saved in /Users/lin/Desktop", "FILE:\\\\server\\share",
])
def test_local_paths_are_recognised(text: str) -> None:
    assert has_local_path(text)


@pytest.mark.parametrize("text", [
    "https://example.org/home/index.html", "https://github.com/Users/x", "the file: attached",
    "users of C: drives", "a/home/b", "~/home/x", "家/home/",
])
def test_ordinary_text_is_not_a_local_path(text: str) -> None:
    assert not has_local_path(text)


# ---- hostile zip containers ---------------------------------------------------

def _many_member_zip(count: int, declared: int) -> bytes:
    """A real zip of `count` empty stored members, with `declared` in its end record."""
    local, central, offset = [], [], 0
    for i in range(count):
        name = f"m{i:06d}".encode()
        header = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0x21, 0, 0, 0,
                             len(name), 0) + name
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0x21,
                                   0, 0, 0, len(name), 0, 0, 0, 0, 0, offset) + name)
        local.append(header)
        offset += len(header)
    directory = b"".join(central)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, declared & 0xFFFF,
                      declared & 0xFFFF, len(directory), offset, 0)
    return b"".join(local) + directory + end


@pytest.mark.parametrize("declared", [100_000, 1])
def test_zip_with_100k_members_is_refused_fast(declared: int) -> None:
    data = _many_member_zip(100_000, declared)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 100_000
    started = time.monotonic()
    with pytest.raises(CleaningRefused):
        verify("docx", data)
    assert time.monotonic() - started < 2


def _patch_sizes(data: bytes, name: bytes, size: int) -> bytes:
    """Rewrite a member's expanded size in both its local and central headers."""
    patched = bytearray(data)
    local = patched.find(b"PK\x03\x04")
    while local >= 0:
        name_len = struct.unpack("<H", patched[local + 26 : local + 28])[0]
        if patched[local + 30 : local + 30 + name_len] == name:
            patched[local + 22 : local + 26] = struct.pack("<I", size)
        local = patched.find(b"PK\x03\x04", local + 4)
    central = patched.find(b"PK\x01\x02")
    while central >= 0:
        name_len = struct.unpack("<H", patched[central + 28 : central + 30])[0]
        if patched[central + 46 : central + 46 + name_len] == name:
            patched[central + 24 : central + 28] = struct.pack("<I", size)
        central = patched.find(b"PK\x01\x02", central + 4)
    return bytes(patched)


def test_member_with_forged_size_is_refused() -> None:
    data = _patch_sizes(samples.docx(), b"word/document.xml", 100)
    with pytest.raises(VerificationFailed, match="forged sizes"):
        verify("docx", data)


def test_member_that_expands_too_well_is_refused() -> None:
    bomb = samples.docx(parts=[("word/media/image2.png", b"\0" * (20 * 1024 * 1024))])
    with pytest.raises(LimitExceeded):
        verify("docx", bomb)


def test_archive_that_expands_past_the_total_limit_is_refused() -> None:
    with pytest.raises(LimitExceeded):
        verify("docx", samples.docx(), Limits(max_zip_expanded_bytes=1000))


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    f'<w:document xmlns:w="{samples.W}"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p>'
    "</w:body></w:document>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    f'<w:document xmlns:w="{samples.W}"><w:body>&e;</w:body></w:document>'
)


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_xml_with_entities_is_refused(document: str) -> None:
    data = samples.make_zip([
        ("[Content_Types].xml", "<Types/>"), ("word/document.xml", document),
    ])
    with pytest.raises(VerificationFailed, match="document type declaration"):
        verify("docx", data)


def test_xml_in_utf16_is_refused() -> None:
    document = f'<w:document xmlns:w="{samples.W}"/>'.encode("utf-16")
    data = samples.make_zip([("[Content_Types].xml", "<Types/>"), ("word/document.xml", document)])
    with pytest.raises(VerificationFailed, match="UTF-8"):
        verify("docx", data)


def _zip_with(**fields: object) -> bytes:
    """The clean DOCX rewritten with one zip-level field set on word/document.xml."""
    archive_comment = fields.pop("archive_comment", None)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in _members(samples.docx()):
            info = zipfile.ZipInfo(name, samples.EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name == "word/document.xml":
                for key, value in fields.items():
                    setattr(info, key, value)
            archive.writestr(info, content)
        if archive_comment:
            archive.comment = b"written on WANG-LAPTOP"
    return buffer.getvalue()


@pytest.mark.parametrize(("fields", "expected"), [
    ({"comment": b"by wang"}, "member comment"),
    ({"extra": b"\xfe\xca\x04\x00abcd"}, "extra field"),
    ({"date_time": (2024, 3, 1, 9, 31, 0)}, "timestamp"),
    ({"archive_comment": True}, "zip comment"),
])
def test_zip_metadata_is_refused(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(VerificationFailed, match=expected):
        verify("docx", _zip_with(**fields))


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "word\\evil.xml",
                                  "C:/evil.xml", "word//evil.xml"])
def test_unsafe_member_names_are_refused(name: str) -> None:
    data = samples.make_zip([("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<a/>"),
                             (name, "<a/>")])
    with pytest.raises(VerificationFailed):
        verify("docx", data)


def test_encrypted_member_is_refused() -> None:
    data = bytearray(samples.docx())
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = data.find(signature)
        data[position + flag_at] |= 0x01
    with pytest.raises(VerificationFailed, match="encrypted"):
        verify("docx", bytes(data))


def test_duplicate_member_names_are_refused() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = samples.make_zip(
            [("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<a/>"),
             ("word/document.xml", "<b/>")])
    with pytest.raises(VerificationFailed, match="duplicate"):
        verify("docx", data)


def _with_gap(data: bytes, before_member: int, junk: bytes) -> bytes:
    """Insert bytes before a member and fix every offset, as a smuggler would."""
    infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    at = infos[before_member].header_offset
    shifted = bytearray(data[:at] + junk + data[at:])
    position = shifted.find(b"PK\x01\x02")
    while position >= 0:
        (offset,) = struct.unpack("<I", shifted[position + 42 : position + 46])
        if offset >= at:
            shifted[position + 42 : position + 46] = struct.pack("<I", offset + len(junk))
        position = shifted.find(b"PK\x01\x02", position + 4)
    (directory,) = struct.unpack("<I", shifted[-6:-2])
    shifted[-6:-2] = struct.pack("<I", directory + len(junk))
    return bytes(shifted)


def test_data_hidden_between_members_is_refused() -> None:
    data = _with_gap(samples.docx(), 2, b"hidden: Wang Xiaoming, Shenzhen")
    assert zipfile.ZipFile(io.BytesIO(data)).testzip() is None  # ordinary readers are content
    with pytest.raises(VerificationFailed, match="hidden data"):
        verify("docx", data)


def test_data_before_or_after_the_archive_is_refused() -> None:
    with pytest.raises(VerificationFailed):
        verify("docx", b"junk" + samples.docx())
    with pytest.raises(VerificationFailed):
        verify("docx", samples.docx() + b"junk")


def _members(data: bytes) -> list[tuple[str, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info.filename, archive.read(info)) for info in archive.infolist()]


def _nested(levels: int) -> bytes:
    """A document inside a document, `levels` deep; each one holds a picture too."""
    document = samples.docx()
    for _ in range(levels):
        document = samples.docx(parts=[("word/embeddings/inner.docx", document)])
    return document


def test_embedded_documents_within_the_depth_limit_pass() -> None:
    verify("docx", _nested(DEFAULT_LIMITS.max_depth))


def test_embedded_documents_beyond_the_depth_limit_are_refused() -> None:
    with pytest.raises(LimitExceeded, match="nested"):
        verify("docx", _nested(DEFAULT_LIMITS.max_depth + 1))


def test_dirty_document_deep_inside_is_found() -> None:
    inner = samples.docx(media=False, core="<dc:creator>王小明</dc:creator>")
    outer = samples.docx(media=False, parts=[("word/embeddings/inner.docx", inner)])
    with pytest.raises(VerificationFailed, match="author"):
        verify("docx", outer)


def test_unverifiable_embedded_object_is_refused() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    with pytest.raises(VerificationFailed, match="unverifiable"):
        verify("docx", samples.docx(parts=[("word/embeddings/oleObject1.bin", ole)]))


def test_refusal_names_the_place_never_the_value() -> None:
    with pytest.raises(VerificationFailed) as caught:
        verify("docx", samples.docx(core="<dc:creator>王小明</dc:creator>"))
    assert "王小明" not in str(caught.value)
    assert caught.value.detail == "author in docProps/core.xml"


class _Unseekable(io.RawIOBase):
    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += data
        return len(data)


def test_zip_written_to_a_stream_with_data_descriptors_passes() -> None:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[arg-type]
        for name, content in _members(samples.docx()):
            info = zipfile.ZipInfo(name, samples.EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    data = bytes(sink.written)
    assert b"PK\x07\x08" in data
    verify("docx", data)


def test_dirty_pdf_embedded_in_a_document_is_found() -> None:
    import pikepdf

    dirty = samples.pdf(lambda pdf: pdf.docinfo.__setitem__("/Author", "王小明"))
    with pytest.raises(VerificationFailed, match="document information"):
        verify("docx", samples.docx(parts=[("word/embeddings/report.pdf", dirty)]))
    assert pikepdf.open(io.BytesIO(samples.pdf())).pages  # the clean one is a real PDF
    verify("docx", samples.docx(parts=[("word/embeddings/report.pdf", samples.pdf())]))

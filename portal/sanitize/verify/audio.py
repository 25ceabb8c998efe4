"""Independent checks of cleaned recordings.

Like the rest of the verifier, this module shares no code with the cleaners
(`formats/audio/__init__.py`): it parses the output again on its own and refuses anything that
is not exactly the structure a clean file may have.
"""

from __future__ import annotations

from ..errors import VerificationFailed

# -- Streaming WAV check --------------------------------------------------------
#
# A cleaned WAV is exactly: "RIFF" size "WAVE", a 'fmt ' chunk, a 'data' chunk
# (plus its pad byte when odd), and nothing else. The check sees the output as it
# is written, in pieces of any size, and keeps only the few header bytes it needs,
# so a recording of any length is checked in constant memory.

_PLAIN_FORMATS = frozenset({1, 3, 6, 7})  # PCM, IEEE float, A-law, µ-law
_EXTENSIBLE = 0xFFFE
_MAX_FMT_SIZE = 4096


class WavStreamCheck:
    """Re-parse a cleaned WAV stream; raise VerificationFailed at the first fault."""

    def __init__(self) -> None:
        self._pending = bytearray()  # header bytes not yet parsed (never audio)
        self._state = "riff"
        self._need = 12
        self._riff_size = 0
        self._seen = 0
        self._fmt_size = 0
        self._data_left = 0
        self._odd = False

    def feed(self, data: bytes) -> None:
        self._seen += len(data)
        view = memoryview(data)
        while view:
            if self._state == "data":
                take = min(len(view), self._data_left)
                self._data_left -= take
                view = view[take:]
                if not self._data_left:
                    self._state, self._need = ("pad", 1) if self._odd else ("end", 0)
                continue
            if self._state == "end":
                raise VerificationFailed("bytes after the audio data")
            take = min(len(view), self._need - len(self._pending))
            self._pending += view[:take]
            view = view[take:]
            if len(self._pending) == self._need:
                block = bytes(self._pending)
                self._pending.clear()
                self._advance(block)

    def close(self) -> None:
        if self._state != "end":
            raise VerificationFailed("recording incomplete")
        if self._riff_size != self._seen - 8:
            raise VerificationFailed("RIFF size does not match the file")

    def _advance(self, block: bytes) -> None:
        if self._state == "riff":
            if block[:4] != b"RIFF" or block[8:12] != b"WAVE":
                raise VerificationFailed("not a RIFF WAVE stream")
            self._riff_size = int.from_bytes(block[4:8], "little")
            self._state, self._need = "fmt-header", 8
        elif self._state == "fmt-header":
            size = int.from_bytes(block[4:8], "little")
            if block[:4] != b"fmt ":
                raise VerificationFailed(f"chunk {_printable(block[:4])} before the format")
            if not 16 <= size <= _MAX_FMT_SIZE:
                raise VerificationFailed("format chunk size")
            self._fmt_size = size
            self._state, self._need = "fmt", size + (size & 1)
        elif self._state == "fmt":
            _check_fmt(block[: self._fmt_size])
            self._state, self._need = "data-header", 8
        elif self._state == "data-header":
            if block[:4] != b"data":
                raise VerificationFailed(f"chunk {_printable(block[:4])} in a cleaned WAV")
            self._data_left = int.from_bytes(block[4:8], "little")
            self._odd = bool(self._data_left & 1)
            self._state, self._need = ("data", 0) if self._data_left else ("end", 0)
        elif self._state == "pad":
            if block != b"\x00":
                raise VerificationFailed("pad byte is not zero")
            self._state, self._need = "end", 0


def _check_fmt(body: bytes) -> None:
    tag = int.from_bytes(body[0:2], "little")
    channels = int.from_bytes(body[2:4], "little")
    rate = int.from_bytes(body[4:8], "little")
    block_align = int.from_bytes(body[12:14], "little")
    if not channels or not rate or not block_align:
        raise VerificationFailed("format chunk values")
    if tag in _PLAIN_FORMATS:
        if len(body) != 16:
            raise VerificationFailed("format chunk carries extra bytes")
    elif tag == _EXTENSIBLE:
        if len(body) != 40 or int.from_bytes(body[16:18], "little") != 22:
            raise VerificationFailed("extensible format chunk size")
    elif len(body) != 16 and (
        len(body) < 18 or 18 + int.from_bytes(body[16:18], "little") != len(body)
    ):
        raise VerificationFailed("format chunk carries extra bytes")


def _printable(cid: bytes) -> str:
    return repr(cid.decode("latin-1"))

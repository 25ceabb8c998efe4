"""Clean one file: sniff its type, run the format's cleaner, verify the output.

This is the in-process engine; `sandbox/isolate.py` runs it inside a resource-limited
child process, which is how the server and `portal-clean` call it. Every cleaner
has the same shape, `clean_<format>(src, dst, report, ctx)`, reads `src`, writes
only allow-listed content to `dst`, and records what it removed in `report`.
The verifier (`verify/__init__.py`) then re-reads the output with its own deny-list and
refuses the file if anything identifying remains.
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from . import kinds
from .budget import DecodeBudget
from .errors import CleaningRefused, LimitExceeded, import_refusal
from .limits import DEFAULT_LIMITS, Limits
from .report import Report
from .sniff import (
    CLEANABLE,
    HEAD_BYTES,
    PASS_THROUGH,
    REFUSED_KINDS,
    claimed_kind,
    refine,
    sniff,
)

# One registry (kinds.py): the kind detected from the bytes names the cleaner that
# handles it. STREAMING kinds are cleaned in a single pass, so a large recording or
# text never has to fit in memory; the others read the whole (size-capped) file.
CLEANERS = kinds.CLEANERS
STREAMING = kinds.STREAMING


@dataclass
class Context:
    """What a cleaner may know besides the bytes: the kind, the limits, the depth, and
    what the file's pictures may still take once decoded."""

    kind: str
    limits: Limits = DEFAULT_LIMITS
    depth: int = 0
    name_hint: str = ""
    budget: DecodeBudget | None = None
    # Cleaners call this for an embedded document or image; it returns the cleaned
    # bytes or raises CleaningRefused, and records the embedded file in the report.
    # Unless the caller passes the recursion down, embedded content is refused:
    # nothing leaves a cleaner uncleaned because someone forgot to wire it.
    clean_embedded: Callable[[bytes, str, Report], bytes] = field(
        default=lambda data, name, report: refuse_embedded(name)
    )


def refuse_embedded(name: str) -> bytes:
    """The default for a Context built without a way to clean what it holds."""
    raise CleaningRefused("embedded-not-cleaned", name)


class BoundedWriter(io.RawIOBase):
    """A write-only stream that refuses to grow past a byte limit."""

    def __init__(self, sink: BinaryIO, limit: int) -> None:
        self._sink = sink
        self._limit = limit
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += len(data)
        if self.written > self._limit:
            raise LimitExceeded(f"cleaned output over {self._limit // (1024 * 1024)} MiB")
        self._sink.write(data)
        return len(data)


def load_cleaner(kind: str) -> Callable[[BinaryIO, BinaryIO, Report, Context], None]:
    module_name, func = kinds.module_path(CLEANERS[kind])
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise import_refusal(exc, kind) from exc
    return getattr(module, func)  # type: ignore[no-any-return]


def refuse_if_not_cleanable(kind: str) -> None:
    if kind in REFUSED_KINDS:
        code, detail = REFUSED_KINDS[kind]
        raise CleaningRefused(code, detail)
    if kind not in CLEANABLE and kind not in PASS_THROUGH:
        raise CleaningRefused("unknown-type", kind)


def clean(
    src: BinaryIO,
    dst: BinaryIO,
    *,
    name_hint: str = "",
    type_hint: str = "",
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
) -> Report:
    """Clean `src` into `dst` and return the report; raise CleaningRefused otherwise.

    On refusal, whatever was written to `dst` must be discarded by the caller.
    """
    from .verify import StreamVerifier, verify  # the verifier stays a separate module

    head = _read_at_most(src, HEAD_BYTES)
    kind = sniff(head, name_hint)
    claimed = claimed_kind(name_hint, type_hint)
    if kind in STREAMING:
        refuse_if_not_cleanable(kind)
        report = _new_report(kind, claimed)
        verifier = StreamVerifier(kind)
        out = _VerifyingWriter(BoundedWriter(dst, limits.max_output_bytes), verifier)
        ctx = Context(kind=kind, limits=limits, depth=depth, name_hint=name_hint)
        load_cleaner(kind)(
            cast(BinaryIO, _Prefixed(head, src, limits.max_input_bytes)), cast(BinaryIO, out),
            report, ctx,
        )
        verifier.close()
        _finish_report(report)
        return report
    data = head + _read_at_most(src, limits.max_input_bytes - len(head) + 1)
    if len(data) > limits.max_input_bytes:
        raise LimitExceeded(f"file over {limits.max_input_bytes // (1024 * 1024)} MiB")
    cleaned, report = clean_bytes(
        data, name_hint=name_hint, claimed=claimed, limits=limits, depth=depth, kind=kind,
        budget=DecodeBudget(limits),
    )
    verify(report.kind, cleaned, limits)
    if len(cleaned) > limits.max_output_bytes:
        raise LimitExceeded("cleaned output too large")
    dst.write(cleaned)
    return report


def clean_bytes(
    data: bytes,
    *,
    name_hint: str = "",
    claimed: str = "",
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
    kind: str | None = None,
    budget: DecodeBudget | None = None,
) -> tuple[bytes, Report]:
    """Clean a whole file held in memory; used for top-level and embedded files alike.

    `budget`: what the pictures of the whole upload may still take once decoded
    (a fresh one for a file of its own); embedded files share their container's.
    """
    if depth > limits.max_depth:
        raise LimitExceeded("documents nested too deeply")
    if kind is None:
        kind = sniff(data[:HEAD_BYTES], name_hint)
    kind = refine(kind, data)
    refuse_if_not_cleanable(kind)
    report = _new_report(kind, claimed)
    shared = budget if budget is not None else DecodeBudget(limits)
    ctx = Context(
        kind=kind, limits=limits, depth=depth, name_hint=name_hint, budget=shared,
        clean_embedded=lambda d, n, r: _clean_embedded(d, n, r, limits, depth, shared),
    )
    out = io.BytesIO()
    load_cleaner(kind)(io.BytesIO(data), BoundedWriter(out, limits.max_output_bytes), report, ctx)  # type: ignore[arg-type]
    _finish_report(report)
    return out.getvalue(), report


def _clean_embedded(data: bytes, name: str, parent: Report, limits: Limits, depth: int,
                    budget: DecodeBudget) -> bytes:
    from .verify import verify

    cleaned, inner = clean_bytes(data, name_hint=name, limits=limits, depth=depth + 1,
                                 budget=budget)
    verify(inner.kind, cleaned, limits)
    parent.remove("embedded-file", name)
    for finding in inner.removed:
        parent.remove(finding.code, finding.detail, finding.count)
    return cleaned


def _new_report(kind: str, claimed: str) -> Report:
    report = Report(kind=kind)
    if claimed and claimed != kind and not {claimed, kind} <= {"text", "markdown"}:
        report.claimed = claimed
        report.note("type-mismatch", claimed)
    return report


# What cleaning cannot touch, by kind of file: a picture or a recording shows or
# says who and where (faces, signs, places, voices); a text identifies by its writing.
_SHOWS_OR_SAYS = kinds.IMAGES | kinds.AUDIO | {"wav"}


def _finish_report(report: Report) -> None:
    if report.kind in PASS_THROUGH:
        return
    report.note("visible-content" if report.kind in _SHOWS_OR_SAYS else "writing-style")


def _read_at_most(src: BinaryIO, size: int) -> bytes:
    chunks = []
    while size > 0:
        chunk = src.read(min(size, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class _Prefixed(io.RawIOBase):
    """Replays the sniffed head, then the rest of the stream, up to a byte limit."""

    def __init__(self, head: bytes, rest: BinaryIO, limit: int) -> None:
        self._head = head
        self._rest = rest
        self._left = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1024 * 1024
        if self._head:
            chunk, self._head = self._head[:size], self._head[size:]
        else:
            chunk = self._rest.read(size)
        self._left -= len(chunk)
        if self._left < 0:
            raise LimitExceeded("file too large")
        return chunk


class _VerifyingWriter(io.RawIOBase):
    """Shows every byte written to the stream verifier before passing it on."""

    def __init__(self, sink: io.RawIOBase, verifier: object) -> None:
        self._sink = sink
        self._verifier = verifier

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._verifier.feed(data)  # type: ignore[attr-defined]
        self._sink.write(data)
        return len(data)

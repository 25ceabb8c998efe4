"""Check a re-encrypted copy with the editor's own gpg, and answer for this editor's keys only.

Threat answered: a re-encrypted copy that does not reach every editor (a
colleague dropped, a session key wrapped for the right key id around the wrong
key) or holds other words than the old ciphertext. The server cannot tell;
every editor's machine can, for its own keys (`portal.editors.replacement`
on the server says what happens with the answers).

How one key is proven: the candidate is split into its session-key packets
and its one encrypted-data packet, and each session-key packet is decrypted
alone with the data packet by the editor's own gpg (GNUPGHOME, smartcards
work). gpg names the key that opened it (DECRYPTION_KEY) and checks the
integrity of the whole message, so a key counts only if a packet addressed to
it really yields the plaintext. The plaintext goes from gpg's output into
SHA-256 and nowhere else: nothing is written to disk. If the old ciphertext
opens with this editor's keys too, its plaintext hash must be the same.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from .transport import Api, ApiError

PKESK_TAG = 1
# Session-key packets are small; a message whose first ones do not fit here is refused.
HEAD_BYTES = 256 * 1024
CHUNK = 64 * 1024


class NotAMessage(Exception):
    """The file is not an OpenPGP message of session-key packets and one data packet."""


def _header(data: bytes, pos: int) -> tuple[int, int, int | None]:
    """(tag, header length, body length or None for partial/indeterminate) at `pos`."""
    first = data[pos]
    if not first & 0x80:
        raise NotAMessage("not an OpenPGP packet")
    if first & 0x40:  # new format
        tag, length = first & 0x3F, data[pos + 1]
        if length < 192:
            return tag, 2, length
        if length < 224:
            return tag, 3, ((length - 192) << 8) + data[pos + 2] + 192
        if length == 255:
            return tag, 6, int.from_bytes(data[pos + 2 : pos + 6], "big")
        return tag, 2, None
    tag, kind = (first >> 2) & 0x0F, first & 0x03
    if kind == 3:
        return tag, 1, None
    size = (1, 2, 4)[kind]
    return tag, 1 + size, int.from_bytes(data[pos + 1 : pos + 1 + size], "big")


def session_key_packets(path: Path) -> tuple[list[bytes], int]:
    """The session-key packets of the message in `path`, and where its data packet starts."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    packets: list[bytes] = []
    pos = 0
    try:
        while pos < len(head):
            tag, header, body = _header(head, pos)
            if tag != PKESK_TAG:
                break
            if body is None or pos + header + body > len(head):
                raise NotAMessage("a session-key packet that does not fit")
            packets.append(head[pos : pos + header + body])
            pos += header + body
    except IndexError:
        raise NotAMessage("truncated") from None
    if not packets or pos >= len(head):
        raise NotAMessage("no session-key packet, or no data after them")
    return packets, pos


@dataclass(frozen=True)
class Opened:
    key: str  # primary fingerprint of the key that decrypted it
    sha256: str


def _decrypt_stream(write: Callable[[BinaryIO], None], gpg: str = "gpg") -> Opened | None:
    """Run the editor's gpg on what `write` feeds it; the plaintext only feeds SHA-256."""
    process = subprocess.Popen([gpg, "--batch", "--status-fd", "2", "--decrypt"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    stdin = cast(BinaryIO, process.stdin)
    stdout = cast(BinaryIO, process.stdout)
    stderr = cast(BinaryIO, process.stderr)
    status: list[bytes] = []

    def feed() -> None:
        try:
            write(stdin)
        except OSError:  # gpg stopped reading (a packet that is not for this editor)
            pass
        finally:
            with suppress(OSError):
                stdin.close()

    threads = [threading.Thread(target=feed),
               threading.Thread(target=lambda: status.append(stderr.read()))]
    for thread in threads:
        thread.start()
    digest = hashlib.sha256()
    while chunk := stdout.read(CHUNK):
        digest.update(chunk)
    for thread in threads:
        thread.join()
    process.wait()
    lines = b"".join(status).decode(errors="replace")
    if ("[GNUPG:] DECRYPTION_OKAY" not in lines or "[GNUPG:] DECRYPTION_FAILED" in lines
            or "[GNUPG:] BADMDC" in lines):
        return None
    key = ""
    for line in lines.splitlines():
        if line.startswith("[GNUPG:] DECRYPTION_KEY "):
            fields = line.split()
            key = fields[3] if len(fields) > 3 else fields[2]
    return Opened(key.upper(), digest.hexdigest())


def _copy_from(path: Path, offset: int, sink: BinaryIO) -> None:
    with open(path, "rb") as source:
        source.seek(offset)
        while chunk := source.read(CHUNK):
            sink.write(chunk)


def keys_that_open(path: Path, gpg: str = "gpg") -> dict[str, str]:
    """Each of this editor's keys that a session-key packet of `path` is for → plaintext SHA-256."""
    packets, data_at = session_key_packets(path)
    opened: dict[str, str] = {}
    for packet in packets:

        def write(sink: BinaryIO, packet: bytes = packet) -> None:
            sink.write(packet)
            _copy_from(path, data_at, sink)

        result = _decrypt_stream(write, gpg)
        if result is not None and result.key:
            opened.setdefault(result.key, result.sha256)
    return opened


def plaintext_sha256(path: Path, gpg: str = "gpg") -> str | None:
    """SHA-256 of what `path` decrypts to with this editor's keys, or None."""
    result = _decrypt_stream(lambda sink: _copy_from(path, 0, sink), gpg)
    return result.sha256 if result else None


def binary(path: Path, work: Path, gpg: str = "gpg") -> Path:
    """`path` itself, or its de-armored copy if it is ASCII-armored."""
    with open(path, "rb") as handle:
        armored = handle.read(64).lstrip().startswith(b"-----BEGIN PGP MESSAGE")
    if not armored:
        return path
    out = work / (path.name + ".bin")
    subprocess.run([gpg, "--batch", "--yes", "--dearmor", "-o", str(out), str(path)],
                   capture_output=True, check=False)
    if not out.exists():
        raise NotAMessage("armored, but gpg could not read the armor")
    return out


def answers_for(row: dict[str, Any], candidate: Path, old: Path | None,
                gpg: str = "gpg") -> Iterator[dict[str, Any]]:
    """The answer for each key in row["mine"]: a confirmation or a refusal."""
    try:
        opened = keys_that_open(candidate, gpg)
    except NotAMessage:
        opened = {}
    old_sha = plaintext_sha256(old, gpg) if old is not None else None
    for fingerprint in row["mine"]:
        found = opened.get(fingerprint.upper())
        if found is None:
            yield {"fingerprint": fingerprint, "refusal": "cannot-decrypt"}
        elif old_sha is not None and old_sha != found:
            yield {"fingerprint": fingerprint, "refusal": "differs"}
        else:
            yield {"fingerprint": fingerprint, "plaintext_sha256": found,
                   "compared": old_sha is not None}


def answer(api: Api, row: dict[str, Any], candidate: Path, old: Path | None,
           gpg: str = "gpg") -> tuple[str, list[str]]:
    """Send this editor's answers for one replacement; return its state and what was said."""
    said: list[str] = []
    state = "pending"
    for reply in answers_for(row, candidate, old, gpg):
        try:
            result = api.post_json(f"/replacements/{row['id']}/confirmations/", reply)
        except ApiError as error:
            said.append(f"{reply['fingerprint'][-16:]}: not accepted: {error}")
            continue
        state = result.get("state", state)
        said.append(f"{reply['fingerprint'][-16:]}: "
                    f"{reply.get('refusal') or 'confirmed'}")
        if state != "pending":
            break
    return state, said


def confirm_pending(api: Api, out: Callable[[str], None], gpg: str = "gpg") -> list[str]:
    """Check and answer every waiting replacement that needs this editor's keys.

    Returns the problems (replacements that could not be checked).
    """
    problems: list[str] = []
    rows = [r for r in api.get_json("/replacements/")["replacements"] if r["mine"]]
    if not rows:
        return problems
    with tempfile.TemporaryDirectory(prefix="penname-confirm-") as work_dir:
        work = Path(work_dir)
        for row in rows:
            candidate, old = work / "candidate.gpg", work / "old.gpg"
            for stale in (candidate, old):
                stale.unlink(missing_ok=True)
            try:
                api.download(f"/replacements/{row['id']}/candidate", candidate, row["size"])
                api.download(f"/submissions/{row['submission']}/blobs/{row['blob']}", old, 0)
                state, said = answer(api, row, binary(candidate, work, gpg),
                                     binary(old, work, gpg), gpg)
            except (ApiError, NotAMessage) as error:
                problems.append(f"re-encrypted copy for {row['short_id']}: {error}")
                continue
            out(f"re-encrypted copy for {row['short_id']} ({row['blob'][:8]}…): "
                f"{'; '.join(said)} → {state}")
    return problems

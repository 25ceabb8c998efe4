"""Whether received files may be parsed on this computer, and what a parser must not see.

Threat: a "draft" made to exploit a parser runs code on the editor's laptop,
which holds what the attacker wants most: the private key and the gpg-agent
socket (GNUPGHOME), every decrypted draft (the sync folder), the API token (the
configuration, under the home directory) and a network to send them out on.

Promise: `private_places()` names those places, and `sandbox_problem()` starts
one confined probe (portal.sanitize.sandbox.confine) that must find none of them and no
network; `portal-editor sync` passes the same places to every clean_isolated
call, so every file is parsed in a sandbox proven not to see them. When the
probe fails (not Linux, no bubblewrap, no seccomp filter, a place still
visible) sync parses nothing at all (see sync.py). Decryption is not parsing
here: it stays with the editor's own gpg, outside any sandbox.

The sandbox must show the interpreter and the installed code. When those live
under the home directory (pyenv, pipx, a checkout), the home directory itself
is visible in the sandbox as the empty folders leading to them; then every
entry beside those folders is named instead, so the probe still proves the
home directory's contents out of reach.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path

# Enough for any home directory's top level and the folders leading to the code.
MAX_PLACES = 2000


def gnupg_home() -> Path:
    """Where the editor's gpg keeps its keys (GNUPGHOME, as gpg itself reads it)."""
    return Path(os.environ.get("GNUPGHOME") or Path.home() / ".gnupg")


def private_places(sync_root: Path, also: Iterable[Path] = ()) -> list[str]:
    """The paths a confined parser must find missing: GNUPGHOME, the sync folder, home, `also`."""
    places: list[str] = []
    for place in (gnupg_home(), sync_root, Path.home(), *also):
        for path in _hidden_parts(Path(os.path.realpath(place)), _code_paths()):
            if str(path) not in places:
                places.append(str(path))
    return places[:MAX_PLACES]


def sandbox_problem(places: list[str]) -> str | None:
    """None when parsing here is confined and blind to `places`; else why not, in a sentence."""
    if not sys.platform.startswith("linux"):
        return "there is no sandbox for parsers on this system (it needs Linux with bubblewrap)"
    try:
        from portal.sanitize.sandbox import confine as sandbox
    except ImportError as exc:  # a system without the modules the sandbox is built from
        return f"the sandbox cannot be loaded here ({exc})"
    return sandbox.problem(places)


def _code_paths() -> list[Path]:
    """What the sandbox shows: the interpreter, the installed code, the system libraries."""
    try:
        from portal.sanitize.sandbox import confine as sandbox
    except ImportError:
        return []
    return [Path(os.path.realpath(p)) for p in sandbox.readable_paths()]


def _hidden_parts(folder: Path, shown: list[Path]) -> list[Path]:
    """`folder`; or, when the sandbox shows something inside it, everything beside that."""
    inside = [path for path in shown if path == folder or folder in path.parents]
    if not inside:
        return [folder]
    if folder in inside:
        return []  # the folder is code the sandbox shows (a sync folder inside a checkout's venv)
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return []
    parts: list[Path] = []
    for entry in entries:
        if any(path == entry or entry in path.parents for path in inside):
            parts += _hidden_parts(entry, inside)
        else:
            parts.append(entry)
    return parts

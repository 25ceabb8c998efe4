"""The command that starts a child on the parent's own code.

A child runs with `python -I` (no PYTHONPATH, no user site, no current folder),
which alone would import whichever `portal` is installed; the one-line bootstrap
puts the folder holding this process's `portal` first, so a child always runs
exactly the parent's code (the checkout under test, or the installed copy when
that is the one running). The sandbox makes that folder's portal/ readable.
"""

from __future__ import annotations

import sys
from pathlib import Path

CODE_ROOT = str(Path(__file__).resolve().parents[3])
_BOOTSTRAP = (
    "import runpy, sys; root, module = sys.argv[1:3]; del sys.argv[1:3]; "
    "sys.path.insert(0, root); runpy.run_module(module, run_name='__main__', alter_sys=True)"
)


def python_command(module: str) -> tuple[str, ...]:
    """`python -I -B -m module` for a child, importing the same `portal` as this process."""
    return (sys.executable, "-I", "-B", "-c", _BOOTSTRAP, CODE_ROOT, module)

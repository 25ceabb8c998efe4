"""Say which `portal` a child imported: one line, the path of portal/__init__.py.

Started through `command.python_command` by the test that proves a confined
child runs the very code of its parent, not whichever copy is installed.
"""

from __future__ import annotations

import sys

import portal

if __name__ == "__main__":
    sys.stdout.write(portal.__file__ + "\n")

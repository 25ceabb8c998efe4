"""Build step: a wheel carries compiled translations.

The catalogues are kept as .po in git and the .mo files are not: built here, into
the wheel, so that an installed portal serves Chinese pages (without them every page
would silently be English). msgfmt (Debian's gettext) compiles them: the same
compiler Django's compilemessages and `make messages` use, and with --check-format
it refuses a translation whose placeholders do not match its msgid, which would
otherwise break a page at run time. A build machine without msgfmt fails loudly.
Everything else about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithMessages(build_py):
    """build_py, then every django.po copied into the build compiled beside it as django.mo."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the source tree, which `make messages` compiles
        msgfmt = shutil.which("msgfmt")
        catalogues = sorted(Path(self.build_lib).glob("portal/locale/*/LC_MESSAGES/django.po"))
        if not catalogues:
            raise SystemExit("no translation catalogues (portal/locale/*/LC_MESSAGES/django.po) "
                             "were copied into the build")
        if msgfmt is None:
            raise SystemExit("building Penname needs msgfmt to compile its translations: "
                             "apt-get install gettext")
        for po in catalogues:
            subprocess.run([msgfmt, "--check-format", "-o", str(po.with_suffix(".mo")), str(po)],
                           check=True)


setup(cmdclass={"build_py": BuildPyWithMessages})

"""A wheel built from a clean clone serves Chinese pages.

The .mo catalogues are not in git (only the .po are), so a wheel that did not
compile them would install a portal whose pages are silently English. This builds
the wheel the way a release does (from a fresh `git clone`, so nothing compiled
in the working tree can help), installs it into a new virtualenv, and renders the
author start page there for a Simplified Chinese browser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow

RENDER = """
import json, django
django.setup()
from django.test import Client
import portal
page = Client(HTTP_ACCEPT_LANGUAGE="zh-Hans").get("/")
print(json.dumps({"status": page.status_code, "html": page.content.decode(),
                  "portal": portal.__file__}))
"""


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, **kwargs)
    assert result.returncode == 0, f"{argv[:4]}: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result


def test_a_wheel_from_a_clean_clone_serves_chinese_pages(tmp_path: Path):
    source = tmp_path / "clone"
    run(["git", "clone", "--quiet", str(ROOT), str(source)])
    assert not list(source.glob("portal/locale/*/LC_MESSAGES/*.mo"))
    # The locked setuptools of this virtualenv builds it: no download, no unpinned build tools.
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "dist"), str(source)])
    wheel = next((tmp_path / "dist").glob("penname-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for script in ("zh_Hans", "zh_Hant"):
        assert f"portal/locale/{script}/LC_MESSAGES/django.mo" in names
    assert {"portal/static/portal/portal.css", "portal/static/portal/editorial.css",
            "portal/templates/authors/start.html", "portal/crypto/wordlists/pinyin.txt"} <= names

    # A new virtualenv with the wheel alone; its dependencies come from this one's
    # site-packages, added after its own (so the wheel's portal, not this checkout's, is found).
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "--quiet", "--no-deps", "--no-index", str(wheel)])
    site = run([str(venv / "bin" / "python"), "-c",
                "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    (Path(site) / "dependencies-from-the-test-venv.pth").write_text(sysconfig.get_path("purelib") + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "DJANGO_SETTINGS_MODULE": "portal.settings",
           "PORTAL_DATA_DIR": str(tmp_path / "data"), "PORTAL_ALLOWED_HOSTS": "testserver",
           "PORTAL_SECRET_KEY": "wheel-test-secret-key-not-for-production-0123456789abcdef"}
    run([str(venv / "bin" / "portal"), "migrate", "--no-input", "-v", "0"], cwd=elsewhere, env=env)
    run([str(venv / "bin" / "portal"), "collectstatic", "--no-input", "-v", "0"], cwd=elsewhere, env=env)
    assert (tmp_path / "data" / "static" / "portal" / "portal.css").exists()

    shown = json.loads(run([str(venv / "bin" / "python"), "-c", RENDER], cwd=elsewhere,
                           env=env).stdout.splitlines()[-1])
    assert shown["portal"].startswith(site), shown["portal"]
    assert shown["status"] == 200
    assert 'lang="zh-Hans"' in shown["html"]
    assert "领取暗号" in shown["html"]  # "Get a codename", from the compiled catalogue
    assert "Get a codename" not in shown["html"]

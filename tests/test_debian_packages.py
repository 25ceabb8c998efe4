"""`make run` and `make test` install the Debian packages they need, or name them in one line.

One list (scripts/debian-packages) is read by the Makefile and by .ci/run. These
run the script against stand-ins for dpkg-query, id and apt-get, so that a
machine that lacks every package can be shown without removing any.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "debian-packages"


def stand_ins(tmp_path: Path, uid: int, installed: set[str]) -> dict[str, str]:
    """A PATH whose dpkg-query knows only `installed`, whose id says `uid`, whose apt-get logs."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    known = " ".join(sorted(installed))
    scripts = {
        # called as: dpkg-query -W -f '${Status}' PACKAGE
        "dpkg-query": (f'for p in {known}; do [ "$p" = "$4" ] && '
                       '{ printf "install ok installed"; exit 0; }; done; exit 1'),
        "id": f"echo {uid}",
        "apt-get": f'echo "$@" >> {tmp_path}/apt-get.log',
    }
    for name, body in scripts.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def listed(which: str) -> list[str]:
    return subprocess.run([str(SCRIPT), which], capture_output=True, text=True, check=True).stdout.split()


def test_make_test_needs_what_make_run_needs_and_the_servers_the_tests_start():
    run, test = listed("run"), listed("test")
    assert {"gnupg", "gettext", "bubblewrap"} <= set(run)
    assert set(run) <= set(test)
    assert {"postgresql", "redis-server", "nginx", "tor", "chromium", "openssl", "systemd"} <= set(test)


@pytest.mark.parametrize("which", ["run", "test"])
def test_not_root_names_the_missing_packages_in_one_line_and_stops(tmp_path, which):
    env = stand_ins(tmp_path, uid=1000, installed={"gnupg"})
    result = subprocess.run([str(SCRIPT), "--install", which], env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"make {which} needs these Debian packages: "
                                                   "sudo apt-get install ")
    named = lines[0].split("apt-get install ", 1)[1].split()
    assert named == [p for p in listed(which) if p != "gnupg"]
    assert not (tmp_path / "apt-get.log").exists()


def test_root_installs_only_the_missing_packages(tmp_path):
    everything = set(listed("test"))
    env = stand_ins(tmp_path, uid=0, installed=everything - {"redis-server", "tor"})
    result = subprocess.run([str(SCRIPT), "--install", "test"], env=env, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "apt-get.log").read_text().splitlines()
    assert calls == ["update -qq", "install -y -qq redis-server tor"]


def test_nothing_missing_is_silent(tmp_path):
    env = stand_ins(tmp_path, uid=1000, installed=set(listed("test")))
    result = subprocess.run([str(SCRIPT), "--install", "test"], env=env, capture_output=True,
                            text=True, check=False)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_makefile_and_ci_read_the_one_list():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/debian-packages --install run" in makefile
    assert "scripts/debian-packages --install test" in makefile
    ci = (ROOT / ".ci" / "run").read_text()
    assert "scripts/debian-packages --install test" in ci
    assert "apt-get install" not in ci

"""The locks pin everything pyproject.toml asks for, each version to its files' hashes.

`make venv` and production installs take only what requirements/*.lock names
(pip --require-hashes); a dependency added to pyproject.toml without `make lock`
would be missing from every install, and an unhashed line would let a changed
file in. Both fail here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
LOCKS = {"server.lock": ["server"], "test.lock": ["server", "test", "dev"]}


def pinned(lock: str) -> dict[str, tuple[Version, int]]:
    """name -> (version, number of hashes), from a lock written by `make lock`."""
    text = (ROOT / "requirements" / lock).read_text()
    entries = re.findall(r"^([A-Za-z0-9._-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:[0-9a-f]{64})*)", text, re.M)
    assert entries, lock
    requirement_lines = [line for line in text.splitlines() if line and not line[0].isspace()
                         and not line.startswith("#")]
    assert len(requirement_lines) == len(entries), "a line that is not name==version with hashes"
    return {canonicalize_name(name): (Version(version), hashes.count("--hash="))
            for name, version, hashes in entries}


@pytest.mark.parametrize("lock", LOCKS)
def test_every_dependency_is_locked_to_a_version_it_allows_with_hashes(lock):
    locked = pinned(lock)
    wanted = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in LOCKS[lock]:
        wanted += [Requirement(r) for r in PROJECT["optional-dependencies"][extra]]
    for requirement in wanted:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is not in requirements/{lock}: run make lock"
        version, hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, str(version))
    assert all(hashes >= 1 for _, hashes in locked.values())
    # The build backend too, so the project installs with --no-build-isolation.
    assert "setuptools" in locked


def test_production_and_tests_run_the_same_versions():
    server, test = pinned("server.lock"), pinned("test.lock")
    assert {name: server[name][0] for name in server} == {name: test[name][0] for name in server}

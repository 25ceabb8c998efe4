"""`make lint` keeps the architecture: each rule of `.importlinter` fails when broken.

For each rule, a copy of `portal/` gets one import that breaks it, and
`lint-imports` (the command `make lint` runs) must fail naming that rule; the
untouched copy must pass. Without this, a contract with a typo in a module name
would pass forever while checking nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# (file to change, import added to it, the contract that must break)
BREAKS = {
    "core imports a face": (
        "portal/submissions/workflow.py", "import portal.authors.views",
        "Faces, then thread and editors, then the core, then services"),
    "a service imports the core": (
        "portal/store.py", "import portal.submissions.models",
        "Faces, then thread and editors, then the core, then services"),
    "author pages import editor pages": (
        "portal/authors/views.py", "import portal.editorial.views",
        "The author pages, the editor pages and the API never import each other"),
    "the API imports the author pages": (
        "portal/api/views.py", "import portal.authors.sending",
        "The author pages, the editor pages and the API never import each other"),
    "Django in the cleaner": (
        "portal/sanitize/formats/text.py", "import django.conf",
        "No Django in sanitize, crypto and the editor client"),
    "Django in the editor client": (
        "portal/editor_client/sync.py", "import django.db",
        "No Django in sanitize, crypto and the editor client"),
    "the verifier imports a cleaner": (
        "portal/sanitize/verify/office.py", "import portal.sanitize.formats.images",
        "The verifier never imports the cleaner side"),
    "a cleaner imports the sandbox": (
        "portal/sanitize/formats/text.py", "import portal.sanitize.sandbox.confine",
        "The cleaners never import the sandbox or the renderer"),
    "a cycle between top-level parts": (
        "portal/env.py", "import portal.health",
        "No import cycles between the top-level parts of portal"),
}


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "portal", tmp_path / "portal",
                    ignore=shutil.ignore_patterns("__pycache__", "locale", "static", "templates"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def lint_imports() -> Path:
    if not LINT_IMPORTS.exists():
        pytest.fail(f"{LINT_IMPORTS} is missing: install the dev extras (pip install -e '.[dev]')")
    return LINT_IMPORTS


def test_the_contracts_hold_on_the_code_as_it_is(lint_imports: Path, tmp_path: Path) -> None:
    result = _lint(_copy(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_one_forbidden_import_fails_the_lint(lint_imports: Path, tmp_path: Path, case: str) -> None:
    relative, line, contract = BREAKS[case]
    tree = _copy(tmp_path)
    target = tree / relative
    assert target.exists(), f"{relative} moved: update this test"
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # noqa\n", encoding="utf-8")
    if case == "a cycle between top-level parts":
        health = tree / "portal/health.py"
        health.write_text(health.read_text(encoding="utf-8") + "\nimport portal.env  # noqa\n",
                          encoding="utf-8")
    result = _lint(tree)
    assert result.returncode != 0, f"{case}: lint-imports passed\n{result.stdout}"
    broken = [text for text in result.stdout.splitlines() if text.endswith("BROKEN")]
    assert any(text.startswith(contract) for text in broken), result.stdout

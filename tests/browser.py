"""Debian's Chromium driven by Playwright, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    if shutil.which(CHROMIUM) is None:
        message = f"BROWSER TESTS NEED {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless; make contexts with `new_context(...)`."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def browser_page(javascript: bool = False) -> Iterator[Any]:
    with chromium() as browser:
        context = browser.new_context(java_script_enabled=javascript)
        page = context.new_page()
        try:
            yield page
        finally:
            context.close()

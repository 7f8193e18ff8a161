"""The browser tests' Chromium: Debian's /usr/bin/chromium driven by Playwright (never a
browser Playwright downloads), how long they wait, and where their screenshots go."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

from tests.support.paths import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1280, "height": 860}


def screenshot(page: Page, name: str) -> None:
    """The whole page, as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

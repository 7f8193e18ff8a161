"""What the real-browser tests share: Debian's Chromium driven by Playwright (never
`playwright install`), the time they wait, their screenshots, and asking the chat."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Locator, Page

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
DOCS = PROJECT_ROOT / "docs"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 30_000


def screenshot(
    page: Page, name: str, docs_picture: str | None = None, *, full_page: bool = True
) -> None:
    """The page into test-artifacts/<name>.png (the whole page unless not ``full_page``:
    taking it scrolls a phone's page); with UPDATE_SCREENSHOTS=1, what is on screen also
    into docs/<docs_picture>, a picture of the documentation."""
    if docs_picture and os.environ.get("UPDATE_SCREENSHOTS") == "1":
        page.screenshot(path=DOCS / docs_picture)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=full_page)


def ask(chat: Page | Locator, question: str) -> None:
    chat.locator("#na-question textarea").fill(question)
    chat.locator("#na-send").click()

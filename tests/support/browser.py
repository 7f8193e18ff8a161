"""What the real-browser tests share: Debian's Chromium driven by Playwright (never
`playwright install`), the time they wait, their screenshots, and asking the chat."""

from __future__ import annotations

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
TIMEOUT_MS = 30_000


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def ask(chat: Page | Locator, question: str) -> None:
    chat.locator("#na-question textarea").fill(question)
    chat.locator("#na-send").click()

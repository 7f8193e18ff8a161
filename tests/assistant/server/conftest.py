"""The web tests' test index and scripted model: one of each per test module; and for the
browser tests, one Chromium per module and a fresh page per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fake_openai import FakeOpenAIServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, TIMEOUT_MS
from tests.support.web import GatedEmbedder, build_index, scripted_reply

expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=scripted_reply) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context_options() -> dict:
    """More options of ``page``'s browser context; a module overrides it (a sign-in)."""
    return {}


@pytest.fixture
def page(browser, context_options) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def gated_embedder() -> GatedEmbedder:
    """The test index's embedder, able to hold the library's uploads at "ingesting"."""
    return GatedEmbedder()

"""The web tests' test index, scripted model and browser: one of each per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.fake_openai import FakeOpenAIServer
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.support.web import build_index, scripted_reply


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
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()

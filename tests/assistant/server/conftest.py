"""The web tests' test index and scripted model: one of each per test module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_openai import FakeOpenAIServer
from tests.support.web import build_index, scripted_reply


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("serving"))


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=scripted_reply) as server:
        yield server

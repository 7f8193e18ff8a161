"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from tests.support.bundled_corpus import ingest_into
from tests.support.paths import PROJECT_ROOT


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Converted models (e5, its ONNX exports), kept across sessions so the conversion
    runs once per machine: $ASSISTANT_TEST_MODEL_CACHE, else <repo>/.assistant/test-models."""
    configured = os.environ.get("ASSISTANT_TEST_MODEL_CACHE")
    cache = Path(configured) if configured else PROJECT_ROOT / ".assistant" / "test-models"
    cache.mkdir(parents=True, exist_ok=True)
    return cache


@pytest.fixture
def e5_settings(tmp_path: Path, model_cache_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path, model_cache_dir=model_cache_dir)


@pytest.fixture(scope="session")
def bundled_assistant(tmp_path_factory, model_cache_dir) -> Assistant:
    """The product as a new user has it: the bundled corpus ingested with the default
    embedder, answered by the embedded model. One for the session, shared by the real-model
    tests (ingesting and loading the models took most of each one's time); they only read."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("bundled"), model_cache_dir=model_cache_dir
    )
    assistant = Assistant(settings)
    ingest_into(assistant)
    return assistant

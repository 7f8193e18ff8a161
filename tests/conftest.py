"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.settings import Settings
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

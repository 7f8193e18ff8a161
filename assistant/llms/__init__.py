"""The LLM backends and the factory that picks one (``llm.backend``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assistant.llms.base import LLM, ErrorKind, LLMError
from ingest import plugins

if TYPE_CHECKING:
    from assistant.settings import Settings

__all__ = ["LLM", "ErrorKind", "LLMError", "make_llm"]


def make_llm(settings: Settings) -> LLM:
    """The backend ``llm.backend`` names; by default the endpoint at ``llm.base_url`` when
    one is set, else the embedded model."""
    name = settings.llm.backend or ("openai" if settings.llm.base_url else "embedded")
    return plugins.create("llm", name, settings)

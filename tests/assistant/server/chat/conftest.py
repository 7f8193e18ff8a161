"""The chat's handlers as Gradio runs them, over a data directory of their own."""

from __future__ import annotations

import gradio as gr
import pytest
from starlette.requests import Request

from assistant.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat import build_ui
from assistant.service import Assistant
from tests.fakes import HashEmbedder
from tests.support.web import make_settings


@pytest.fixture
def handlers(tmp_path):
    """The chat's rate and regenerate handlers, a Gradio request, and the ratings' store."""
    settings = make_settings(tmp_path / "data", "http://unused")
    store = FeedbackStore(settings.data_dir / FEEDBACK_FILE)
    assistant = Assistant(settings, embedder=HashEmbedder())
    blocks = build_ui(assistant, settings, Admission(settings.server), store)
    functions = {f.name: f.fn for f in blocks.fns.values()}
    scope = {"type": "http", "path": "/", "headers": [], "client": ("127.0.0.9", 5000)}
    return functions["rate"], functions["regenerate"], gr.Request(request=Request(scope)), store

"""The chat: a Gradio Blocks app mounted at the application's root (``mount_ui``), whose
conversation and sources panel are one HTML view rendered from the answer stream.

Where each part lives:

- ``turns``: the state, one ``Turn`` per question, updated by the stream's events;
- ``view``: the view's HTML and the exported conversation (Markdown and JSON), the key
  fact card and why an answer is not a checked one;
- ``sources``: the sources panel, the turn's passages grouped by article;
- ``cited_sentences``: a cited sentence on its card, marked, with "Show in <language>";
- ``examples``: the example questions, from settings or the archive's newest titles;
- ``screen``: what the handlers share, and the updates they send to the page;
- ``events``: asking, regenerating, stopping and clearing, through the admission queue;
- ``feedback``: rating answers; ``translation``: translating a cited sentence;
- ``layout``: the page's components, and which handler each of their events runs.

The view's controls name an answer or a turn by its id, and the handlers find it in the
session's turns: the server rates, re-asks and translates what it showed, never text a
page sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
from fastapi import FastAPI

from assistant.feedback import FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat.events import Answering
from assistant.server.chat.examples import ExampleQuestions
from assistant.server.chat.feedback import Rating
from assistant.server.chat.layout import CHAT_CSS, chat_blocks
from assistant.server.chat.screen import Screen
from assistant.server.chat.translation import Translating

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings

__all__ = ["build_ui", "mount_ui"]


def build_ui(
    assistant: Assistant, settings: Settings, admission: Admission, feedback: FeedbackStore
) -> gr.Blocks:
    """The chat's Gradio Blocks: the view, the question box, Send, Stop, Clear and the
    example questions. Questions take their turn with the API's in ``admission``; the
    answers' ratings go to ``feedback``."""
    server = settings.server
    screen = Screen(server, ExampleQuestions(assistant, server))
    return chat_blocks(
        Answering(assistant, admission, screen, server.max_question_chars),
        Rating(settings, feedback, screen),
        Translating(assistant, admission, screen),
        server.max_question_chars,
    )


def mount_ui(
    app: FastAPI,
    assistant: Assistant,
    settings: Settings,
    admission: Admission,
    feedback: FeedbackStore,
) -> None:
    """Mounts the chat at the application's root."""
    # No Gradio auth: the middleware guards the UI with HTTP basic auth in front of Gradio.
    gr.mount_gradio_app(
        app,
        build_ui(assistant, settings, admission, feedback),
        path="/",
        # Gradio writes its own root URL into its config: from public_url when set (a full
        # URL is used as it is), else from the request, as Gradio does.
        root_path=settings.server.public_url or settings.server.root_path or None,
        footer_links=[],
        run_history=False,
        css_paths=[CHAT_CSS],
    )

"""What the chat's handlers share: the page's address and language, what a control of the
view sent with its event (``event_value``), and what they send back to the page
(``Screen``): the view, and the question row and the examples in the chat's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from assistant.server.chat.turns import Turn
from assistant.server.chat.view import render_view, view_language
from assistant.server.ui_text import accepted_language, ui_text
from assistant.server.urls import public_root

if TYPE_CHECKING:
    from assistant.server.chat.examples import ExampleQuestions
    from assistant.settings import ServerSettings


def event_value(event: gr.EventData, name: str) -> object:
    """What chat.js sent as ``name`` with a view's event, None when it sent nothing."""
    data = event._data  # EventData's attributes raise on a missing name, or on no data
    return data.get(name) if isinstance(data, dict) else None


class Screen:
    """The chat as a handler updates it, for one request of one session."""

    def __init__(self, settings: ServerSettings, examples: ExampleQuestions):
        self.public_url = settings.public_url
        self.examples = examples

    def root(self, request: gr.Request) -> str:
        """What the view's links start with: relative to this server unless
        server.public_url is set; chat.js resolves them against the app's own address
        inside a <gradio-app> on another site."""
        return public_root(request.request, self.public_url)

    def language(self, request: gr.Request, turns: list[Turn]) -> str:
        """The chat's language: the last question's, else the browser's."""
        return view_language(turns, accepted_language(request.headers.get("accept-language")))

    def view(self, request: gr.Request, turns: list[Turn], language: str | None = None) -> str:
        """The view of ``turns`` in ``language`` (default: the chat's)."""
        return render_view(turns, self.root(request), language or self.language(request, turns))

    def update(
        self,
        request: gr.Request,
        turns: list[Turn],
        *,
        generating: bool,
        box: str | None = None,
        view: str | None = None,
    ) -> tuple:
        """The question box (emptied to ``box`` unless None), the view (``view`` when it is
        rendered already), the turns, Send, Stop, Clear and the examples, in the chat's
        language: the outputs of the layout's answering events, in this order. Send is
        disabled and Stop enabled only while an answer is generated; the examples are
        hidden when there are none."""
        language = self.language(request, turns)
        text = ui_text(language)
        emptied = {} if box is None else {"value": box}
        examples = self.examples.questions(language)
        return (
            gr.update(placeholder=text["placeholder"], label=text["question_label"], **emptied),
            self.view(request, turns, language) if view is None else view,
            turns,
            gr.update(value=text["send"], interactive=not generating),
            gr.update(value=text["stop"], interactive=generating),
            gr.update(value=text["clear"]),
            gr.update(
                label=text["try_asking"],
                samples=[[question] for question in examples],
                visible=bool(examples),
            ),
        )

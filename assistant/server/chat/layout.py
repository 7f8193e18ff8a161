"""The chat's page, a Gradio Blocks app: the view (one HTML component, ``view``: the
heading, the conversation, the sources panel and the library link), the question row (the
box, Send, Stop, Clear) and the example questions; and which handler each of their events
runs (``wire``). The view's own controls (rating an answer, regenerating the last one,
translating a cited sentence) are its events: chat.js calls Gradio's ``trigger("like",
...)``, ``trigger("retry", ...)`` and ``trigger("expand", ...)``, so they go through
Gradio's API, guarded like the rest of the chat (``security.Access``), and work inside a
``<gradio-app>`` embed as the chat does."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from assistant.languages import DEFAULT_LANGUAGE
from assistant.server.chat.events import Answering
from assistant.server.chat.feedback import Rating
from assistant.server.chat.translation import Translating
from assistant.server.chat.view import render_view
from assistant.server.templates import STATIC_DIR, static_text
from assistant.server.ui_text import ui_text

CHAT_JS = static_text("chat.js")
CHAT_CSS = STATIC_DIR / "chat.css"


@dataclass
class Page:
    """The components the handlers read and update."""

    turns: gr.State  # the session's list of ``turns.Turn``
    view: gr.HTML
    question: gr.Textbox
    send: gr.Button
    stop: gr.Button
    clear: gr.Button
    examples: gr.Dataset

    @property
    def screen(self) -> list[gr.components.Component]:
        """The outputs of the answering events, in the order of ``Screen.update``."""
        return [
            self.question,
            self.view,
            self.turns,
            self.send,
            self.stop,
            self.clear,
            self.examples,
        ]


def chat_blocks(
    answering: Answering, rating: Rating, translating: Translating, max_chars: int
) -> gr.Blocks:
    """The page, its events wired to the handlers; in English until it has loaded (then
    ``Answering.greet`` speaks the browser's language)."""
    text = ui_text(DEFAULT_LANGUAGE)
    with gr.Blocks(title=text["product_name"]) as blocks:
        turns = gr.State([])
        view = gr.HTML(render_view([], ""), elem_id="na-view", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True, elem_id="na-input"):
            question = gr.Textbox(
                label=text["question_label"],
                show_label=False,
                placeholder=text["placeholder"],
                # One line that grows: Gradio sends a one-line box on Enter and leaves
                # Shift+Enter to the textarea, a new line (a taller box sends on Shift+Enter).
                lines=1,
                max_lines=8,
                max_length=max_chars,
                elem_id="na-question",
                scale=1,
            )
            send = gr.Button(
                text["send"], variant="primary", elem_id="na-send", scale=0, min_width=90
            )
            stop = gr.Button(
                text["stop"],
                variant="stop",
                elem_id="na-stop",
                scale=0,
                min_width=90,
                interactive=False,
            )
            clear = gr.Button(text["clear"], elem_id="na-clear", scale=0, min_width=90)
        # Filled, in the chat's language, by every update of the screen (Screen.update):
        # the archive's own examples, hidden while there are none.
        examples = gr.Dataset(
            components=[question],
            samples=[],
            label=text["try_asking"],
            visible=False,
            elem_id="na-examples",
        )
        page = Page(turns, view, question, send, stop, clear, examples)
        wire(blocks, page, answering, rating, translating)
    return blocks


def chosen_example(sample: list[str]) -> str:
    """The question box holding the example question clicked (``sample``: its row)."""
    return sample[0]


def wire(
    blocks: gr.Blocks,
    page: Page,
    answering: Answering,
    rating: Rating,
    translating: Translating,
) -> None:
    """Which handler each event of ``page`` runs, with what, and what it updates."""
    # One listener for Send and Enter, so that Enter while an answer is generated (Send
    # is disabled then) is ignored as a second click would be ("once"). No limit of
    # Gradio's own: the admission queue, shared with the API, is the limit, and it
    # shows the asker their place in it (Gradio's own, hidden, would not).
    asked = gr.on(
        [page.send.click, page.question.submit],
        answering.respond,
        [page.question, page.turns],
        page.screen,
        show_progress="hidden",
        concurrency_limit=None,
        trigger_mode="once",
    )
    # The view's own controls (chat.js): Stop and Clear end a regenerated answer too.
    regenerated = page.view.retry(
        answering.regenerate,
        [page.turns],
        page.screen,
        show_progress="hidden",
        concurrency_limit=None,
        trigger_mode="once",
    )
    # A rating changed quickly (👍 then 👎) counts as the last one clicked.
    page.view.like(
        rating.rate, [page.turns], [page.view], show_progress="hidden", trigger_mode="always_last"
    )
    # Each sentence's translation as it is asked for; the admission queue is the limit.
    translated = page.view.expand(
        translating.translate,
        [page.turns],
        [page.view],
        show_progress="hidden",
        concurrency_limit=None,
        trigger_mode="multiple",
    )
    page.stop.click(answering.stop, [page.turns], page.screen, cancels=[asked, regenerated])
    page.clear.click(
        answering.clear, [page.turns], page.screen, cancels=[asked, regenerated, translated]
    )
    # An example fills the question box, to send as it is or to change first.
    page.examples.click(
        chosen_example,
        [page.examples],
        [page.question],
        show_progress="hidden",
        queue=False,
        api_visibility="undocumented",
    )
    blocks.load(answering.greet, None, page.screen, show_progress="hidden")

"""A cited sentence's "Show in <language>" button: the sentence machine translated into
the asker's language, shown under it and labelled as a machine translation, never
evidence. chat.js sends the turn's id and the citation's marker with the view's ``expand``
event; the sentence is the one the turn cites, read from the stored article, and only one
that a card offers to translate (``cited_sentences.translation_view``). A translation kept
from before is shown at once; a new one waits its turn for the model with the answers
(``admission``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import gradio as gr

from assistant.llms import LLMError
from assistant.server.admission import Admission, Busy
from assistant.server.chat.cited_sentences import asker_language, translation_view
from assistant.server.chat.screen import Screen, event_value
from assistant.server.chat.turns import ShownTranslation, Turn, cited_sentence, span_of
from assistant.server.generation import client_of
from assistant.server.ui_text import ui_text
from assistant.translation import NoSuchSentence
from assistant.types import Citation

if TYPE_CHECKING:
    from assistant.service import Assistant

logger = logging.getLogger(__name__)


class Translating:
    """The handler of a cited sentence's "Show in <language>" button."""

    def __init__(self, assistant: Assistant, admission: Admission, screen: Screen):
        self.assistant, self.admission, self.screen = assistant, admission, screen

    def translate(
        self, turns: list[Turn], event: gr.EventData, request: gr.Request
    ) -> Iterator[str]:
        """Machine translates a cited sentence into the asker's language (``event``: the
        turn's id and the citation's marker, FACT_CARD_MARKER for the key fact's): the view
        with "translating…", then with the translation under the sentence, or why not. The
        sentence is the one the turn cites, read from the stored article; a new
        translation waits its turn for the model with the answers."""
        chat = self.screen.language(request, turns)
        turn = next((t for t in turns if t.turn_id == event_value(event, "turn")), None)
        citation = cited_sentence(turn, event_value(event, "cite")) if turn else None
        if citation is None or translation_view(turn, citation, chat, ui_text(chat)) is None:
            # A page that sends what the chat never showed (no such turn or citation, or a
            # sentence in the asker's language, which has no button).
            raise gr.Error(ui_text(chat)["feedback_no_such_answer"])
        language = asker_language(turn, chat)
        shown = turn.translations.get(span_of(citation))
        if shown is not None and shown.language == language and shown.status != "failed":
            return  # asked twice
        turn.translations[span_of(citation)] = ShownTranslation(language)
        yield self.screen.view(request, turns, chat)
        turn.translations[span_of(citation)] = self.translated(citation, language, request)
        yield self.screen.view(request, turns)

    def translated(
        self, citation: Citation, language: str, request: gr.Request
    ) -> ShownTranslation:
        """The cited sentence in ``language``: kept from before, else from the model once
        ``admission`` lets it (all in one step of ``translate``, so that the slot is given
        back even when Clear cancels the rest)."""
        failed = ShownTranslation(language, "failed", problem="translation_failed")
        translator = self.assistant.translator
        try:
            sentence = translator.sentence(citation.doc_id, citation.start, citation.end)
            if (found := translator.cached(sentence, language)) is not None:
                return ShownTranslation(language, "done", found.text)
        except NoSuchSentence as error:  # the article was replaced since it was cited
            logger.warning("A cited sentence was not translated: %s", error)
            return failed
        try:
            ticket = self.admission.admit(client_of(request.request))
        except Busy as busy:
            return replace(failed, problem=f"busy_{busy.reason}", wait_s=busy.retry_after_s)
        try:
            ticket.granted.wait()
            found = self.assistant.translate(
                citation.doc_id, citation.start, citation.end, language
            )
        except (LLMError, NoSuchSentence) as error:
            logger.warning("A cited sentence was not translated: %s", error)
            return failed
        finally:
            self.admission.release(ticket)
        return ShownTranslation(language, "done", found.text)

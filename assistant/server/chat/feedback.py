"""Rating answers: 👍 or 👎 and an optional comment on an answer of the conversation, stored
with the API's ratings (``assistant.feedback``). chat.js sends the answer's id with the
view's ``like`` event; the handler finds that answer in the session's turns, so that what
is stored is what the chat showed, never text a page sends."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import gradio as gr

from assistant.feedback import (
    CitedSentence,
    Feedback,
    FeedbackStore,
    FeedbackStoreError,
    InvalidFeedback,
    answer_settings,
)
from assistant.server.chat.screen import Screen, event_value
from assistant.server.chat.turns import ANSWERED, Turn
from assistant.server.ui_text import ui_text

if TYPE_CHECKING:
    from assistant.settings import Settings

logger = logging.getLogger(__name__)


class Rating:
    """The handler of an answer's rating and comment."""

    def __init__(self, settings: Settings, feedback: FeedbackStore, screen: Screen):
        self.settings, self.feedback, self.screen = settings, feedback, screen

    def rate(self, turns: list[Turn], event: gr.EventData, request: gr.Request) -> str:
        """Stores the asker's rating of an answer (``event``: the answer's id, ``rating``
        and, when sent, ``comment``; without one the earlier comment stays); the view."""
        rated_id = event_value(event, "answer")
        turn = next((t for t in turns if t.status in ANSWERED and t.answer_id == rated_id), None)
        if turn is None:  # a page that sends what the chat never showed, or a stale one
            text = ui_text(self.screen.language(request, turns))
            raise gr.Error(text["feedback_no_such_answer"])
        comment = event_value(event, "comment")
        rated = Feedback(
            question=turn.question,
            history=turn.history,
            answer=turn.answer,
            status=ANSWERED[turn.status],
            citations=[CitedSentence(c.marker, c.doc_id, c.quote) for c in turn.citations],
            language=turn.language,
            rating=event_value(event, "rating"),
            comment=turn.comment if comment is None else comment,
            settings=answer_settings(self.settings),
        )
        try:
            self.feedback.record(rated)
        except (InvalidFeedback, FeedbackStoreError) as error:
            # The reader gets their language; the cause, naming the field or the file, is
            # for the server's log.
            logger.warning("A rating was not stored: %s", error)
            text = ui_text(self.screen.language(request, turns))
            raise gr.Error(text["feedback_not_saved"]) from error
        turn.rating, turn.comment = rated.rating, rated.comment
        return self.screen.view(request, turns)

"""Asking, regenerating, stopping and clearing: the chat's answering events. A question
takes its turn for the model with the API's in ``admission`` (the chat shows its place in
the queue while it waits, or that the server is busy), then its answer is streamed into
its turn, the screen updated as the answer comes (``screen.Screen``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import gradio as gr

from assistant.questions import InvalidQuestion, check_question
from assistant.server.admission import Admission, Busy
from assistant.server.chat.screen import Screen, event_value
from assistant.server.chat.sources import article_dates
from assistant.server.chat.turns import (
    ANSWERED,
    IN_PROGRESS,
    UNANSWERED,
    Turn,
    apply_event,
    history_of,
)
from assistant.server.generation import client_of
from assistant.server.public import public_events
from assistant.server.ui_text import ui_text
from assistant.types import SourcesEvent

if TYPE_CHECKING:
    from assistant.service import Assistant

QUEUE_POLL_S = 0.5  # how often a waiting question's place in the queue is shown again


class Answering:
    """The handlers of Send (and Enter), Regenerate, Stop, Clear and the page's load; each
    takes the session's turns and returns or yields ``Screen.update``'s outputs."""

    def __init__(self, assistant: Assistant, admission: Admission, screen: Screen, max_chars: int):
        self.assistant, self.admission, self.screen = assistant, admission, screen
        self.max_chars = max_chars  # server.max_question_chars

    def respond(self, question: str, turns: list[Turn], request: gr.Request) -> Iterator[tuple]:
        """Answers ``question`` as the next turn; a question that cannot be sent is
        refused with why, in the chat's language."""
        if not question:
            return  # Enter on an empty box
        try:
            question = check_question(question, self.max_chars)
        except InvalidQuestion as error:  # never "not_text": the box sends text
            text = ui_text(self.screen.language(request, turns))
            message = text[f"question_{error.problem}"].format(**error.details)
            raise gr.Error(message, title=text["question_not_sent"]) from error
        # The session's list itself grows (and regenerate replaces its last turn), so that
        # a translation that ends later renders the conversation as it is then.
        turns.append(Turn(question, history=history_of(turns)))
        # The box is emptied once the question is taken; what is typed meanwhile then stays.
        yield from self.answer_last(turns, request, "")

    def regenerate(
        self, turns: list[Turn], event: gr.EventData, request: gr.Request
    ) -> Iterator[tuple]:
        """The last question asked again with the same history, its new answer replacing
        the last turn; nothing when ``event`` names another answer or one is generated."""
        last = turns[-1] if turns else None
        if (
            last is None
            or last.status not in ANSWERED | UNANSWERED
            or last.answer_id != event_value(event, "answer")
        ):
            return
        turns[-1] = Turn(last.question, history=last.history)
        # The question box is left as it is: the asker may be typing the next question.
        yield from self.answer_last(turns, request)

    def answer_last(
        self, turns: list[Turn], request: gr.Request, box: str | None = None
    ) -> Iterator[tuple]:
        """Answers the last of ``turns`` once ``admission`` lets it, the screen updated as
        the answer comes; the question box emptied to ``box`` unless None."""
        turn, screen, admission = turns[-1], self.screen, self.admission
        # Known at once (a few milliseconds), so that the chat speaks the question's language
        # while it waits in the queue too; the answer is then asked in it.
        turn.language = self.assistant.answerer.detect_language(turn.question, turn.history)
        try:
            ticket = admission.admit(client_of(request.request))
        except Busy as busy:
            turn.status, turn.error_kind, turn.wait_s = "busy", busy.reason, busy.retry_after_s
            yield screen.update(request, turns, generating=False)  # the question stays
            return
        shown = None

        def changed() -> tuple | None:
            nonlocal box, shown
            view = screen.view(request, turns)
            if view == shown:  # every model token is an event; most change nothing
                return None
            update = screen.update(request, turns, generating=True, box=box, view=view)
            box, shown = None, view
            return update

        try:
            while not ticket.granted.is_set():
                turn.status, turn.queue_position = "queued", admission.position(ticket)
                turn.wait_s = admission.expected_wait_s(turn.queue_position)
                if update := changed():
                    yield update
                ticket.granted.wait(QUEUE_POLL_S)
            turn.status = "searching"
            if update := changed():
                yield update
            events = public_events(
                self.assistant.stream(turn.question, history=turn.history, language=turn.language)
            )
            try:
                for event in events:
                    apply_event(turn, event)
                    if isinstance(event, SourcesEvent):
                        turn.dates = article_dates(self.assistant, event.passages)
                    if update := changed():
                        yield update
            finally:
                # Stop cancels this generator; closing the stream ends the LLM request too.
                events.close()
            yield screen.update(request, turns, generating=False)
        finally:
            admission.release(ticket)

    def stop(self, turns: list[Turn], request: gr.Request) -> tuple:
        """Stops the answer being generated or waiting: its turn says it was stopped."""
        for turn in turns:
            if turn.status in IN_PROGRESS:
                turn.status = "stopped"
        return self.screen.update(request, turns, generating=False)

    def clear(self, turns: list[Turn], request: gr.Request) -> tuple:
        """Empties the conversation and the question box."""
        turns.clear()  # the session's list: a translation that ends later finds it empty
        return self.screen.update(request, turns, generating=False, box="")

    def greet(self, request: gr.Request) -> tuple:
        """The empty chat in the browser's language."""
        return self.screen.update(request, [], generating=False)

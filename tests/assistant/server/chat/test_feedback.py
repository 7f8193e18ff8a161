"""Rating an answer in the chat, without a browser: a rating of an answer the chat did
not show, or an invalid one, is refused, in the chat's language, and the log names what
is wrong; a good one is stored and shown."""

from __future__ import annotations

import gradio as gr
import pytest

from assistant.server.chat.turns import Turn
from assistant.server.ui_text import ui_text
from tests.support.chat import failed_turn, lantern_turn


def test_a_rating_the_page_should_not_send_is_refused_and_the_log_names_what_is_wrong(
    handlers, caplog
):
    rate, _, request, store = handlers
    turn = lantern_turn()
    english = ui_text("en")

    def refusal(turns: list[Turn], **sent) -> str:
        with pytest.raises(gr.Error) as refused:
            rate(turns, gr.EventData(None, sent), request)
        return refused.value.message

    assert refusal([turn], answer=turn.answer_id, rating="meh") == english["feedback_not_saved"]
    assert "rating: must be 'up' or 'down', not 'meh'." in caplog.text
    no_such_answer = english["feedback_no_such_answer"]
    assert refusal([turn], answer="0" * 32, rating="up") == no_such_answer
    assert refusal([failed_turn()], answer=failed_turn().answer_id) == no_such_answer
    assert store.ratings() == [] and turn.rating == ""

    view = rate([turn], gr.EventData(None, {"answer": turn.answer_id, "rating": "up"}), request)
    assert 'data-rate="up" aria-pressed="true"' in view
    assert [r.rating for r in store.ratings()] == ["up"]

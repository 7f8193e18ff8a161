"""The chat's turns: which of them become the history a follow-up is asked with."""

from __future__ import annotations

from assistant.server.chat.turns import Turn, history_of
from tests.support.chat import finished_turn
from tests.support.web import LANTERN_QUESTION


def test_only_finished_turns_become_history():
    done = finished_turn("Five thousand [1].")
    stopped = Turn("never mind", status="stopped", answer="Half an")

    assert history_of([done, stopped]) == [
        {"role": "user", "content": LANTERN_QUESTION},
        {"role": "assistant", "content": "Five thousand [1]."},
    ]

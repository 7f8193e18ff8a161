"""Asking and regenerating in the chat, without a browser: a question that waits in the
admission queue shows its place, then its answer; a full queue says the server is busy; a
refused question is said in its language, else the browser's; regenerate answers only the
last answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
from starlette.requests import Request

from assistant.feedback import FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat import build_ui
from assistant.server.ui_text import ui_text
from assistant.service import Assistant
from assistant.settings import ServerSettings
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.chat import lantern_turn
from tests.support.web import VI_QUESTION, make_settings, scripted_reply

NO_RATE_LIMITS = {"client_requests_per_minute": 0, "api_key_requests_per_minute": 0}


def admission(**server) -> Admission:
    return Admission(ServerSettings(**{**NO_RATE_LIMITS, **server}))


def chat_respond(data_dir: Path, llm_url: str, queue: Admission, accept_language: str = ""):
    """The chat's answering function and a Gradio request from 127.0.0.9."""
    settings = make_settings(data_dir, llm_url)
    assistant = Assistant(settings, embedder=HashEmbedder())
    blocks = build_ui(assistant, settings, queue, FeedbackStore.of(settings))
    [respond] = {f.fn for f in blocks.fns.values() if f.name == "respond"}
    assert all(f.concurrency_limit is None for f in blocks.fns.values() if f.name == "respond")
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    scope = {"type": "http", "path": "/", "headers": headers, "client": ("127.0.0.9", 5000)}
    return respond, gr.Request(request=Request(scope))


def test_a_queued_chat_question_shows_its_place_then_is_answered(data_dir):
    queue = admission(concurrent_answers=1, max_pending=8, max_answers_per_client=2)
    holder = queue.admit("127.0.0.2")  # the model is busy with another question
    with FakeOpenAIServer(reply=scripted_reply) as llm:
        respond, request = chat_respond(data_dir, llm.base_url, queue)
        views: Iterator = respond(VI_QUESTION, [], request)
        box, queued_view, _, queued_send, queued_stop, *_ = next(views)
        queue.release(holder)
        *_, (_, final_view, turns, final_send, final_stop, *_) = list(views)

    # In the question's language from the start: it is known before the question waits.
    assert ui_text("vi")["queued"].format(position=1, seconds=10) in queued_view
    assert box["value"] == ""  # emptied for the next question
    assert (queued_send["interactive"], queued_stop["interactive"]) == (False, True)
    assert turns[-1].status == "done"
    assert "1.269" in final_view
    assert (final_send["interactive"], final_stop["interactive"]) == (True, False)


def test_a_full_queue_tells_the_chat_user_it_is_busy(data_dir):
    queue = admission(concurrent_answers=1, max_pending=0)
    queue.admit("127.0.0.2")
    respond, request = chat_respond(data_dir, "http://unused", queue)

    [(question_box, view, turns, send, *_)] = list(respond(VI_QUESTION, [], request))

    assert "value" not in question_box  # left as it is: the question stays, to send again
    assert send["interactive"] is True
    assert turns[-1].status == "busy"
    assert ui_text("vi")["busy_queue_full"].format(seconds=10) in view  # the question's language


def test_a_refused_chat_question_is_said_in_its_language_else_the_browsers(data_dir):
    queue = admission(concurrent_answers=1, max_pending=0)
    queue.admit("127.0.0.2")
    respond, request = chat_respond(data_dir, "http://unused", queue, "de-DE,de;q=0.9")
    german = ui_text("de")

    [(_, view, *_)] = list(respond(VI_QUESTION, [], request))
    with pytest.raises(gr.Error) as blank:
        list(respond(" \n ", [], request))
    with pytest.raises(gr.Error) as control:
        list(respond("Wie\x1b viele?", [], request))

    # A Vietnamese question, turned away: in Vietnamese. No question taken: in German.
    assert ui_text("vi")["busy_queue_full"].format(seconds=10) in view
    assert german["busy_queue_full"].format(seconds=10) not in view
    assert (blank.value.title, blank.value.message) == (
        german["question_not_sent"],
        german["question_blank"],
    )
    assert control.value.message == german["question_control_character"].format(code="001B")


def test_regenerate_does_nothing_for_an_answer_that_is_not_the_last(handlers):
    _, regenerate, request, _ = handlers
    first, last = lantern_turn(), lantern_turn(history=[{"role": "user", "content": "Hi"}])

    stale = gr.EventData(None, {"answer": first.answer_id})
    assert list(regenerate([first, last], stale, request)) == []
    assert list(regenerate([], stale, request)) == []

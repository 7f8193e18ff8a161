"""The chat's actions on its answers, without a browser: which answers show the rating,
regenerate and export controls, the exported conversation (JSON and Markdown), and the
view's event handlers refusing what a page should not send."""

from __future__ import annotations

import html
import json
import re

import gradio as gr
import pytest
from starlette.requests import Request

from assistant.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat import (
    EXPORT_ROOT,
    Turn,
    apply_event,
    build_ui,
    exported_conversation,
    render_view,
)
from assistant.server.ui_text import ui_text
from assistant.service import Assistant
from assistant.types import Citation, CitationsEvent, Passage, SourcesEvent
from tests.fakes import HashEmbedder
from tests.support.web import CORPUS, LANTERN_QUESTION, XSS_PAYLOAD, make_settings

LANTERN = CORPUS["en/lantern.txt"]
PASSAGE = Passage(
    "en/lantern.txt", "l#0", "Lantern <b>poster</b>", "en", 0.5, 0, len(LANTERN), LANTERN
)
CITED = LANTERN.index("Organisers")
ANSWER = f"The poster read {XSS_PAYLOAD}; 5,000 visitors came [1]."


def lantern_turn(history: list | None = None) -> Turn:
    citation = Citation(1, PASSAGE.doc_id, PASSAGE.chunk_id, PASSAGE.title,
                        LANTERN[CITED:-1], CITED, len(LANTERN) - 1, True)  # fmt: skip
    turn = Turn(LANTERN_QUESTION, history=history or [], dates={PASSAGE.doc_id: "2024-02-10"})
    apply_event(turn, SourcesEvent([PASSAGE], "en"))
    apply_event(turn, CitationsEvent(ANSWER, [citation], False, [], verified=True))
    return turn


def failed_turn() -> Turn:
    return Turn("And then?", status="error", error="The model is down.")


def export_of(view: str, extension: str) -> str:
    """What the view's export button for ``extension`` saves (before chat.js puts the
    app's address in its links)."""
    found = re.search(rf'data-download="[^"]+\.{extension}"[^>]*data-content="([^"]*)"', view)
    assert found, view
    return html.unescape(found.group(1))


def test_answers_can_be_rated_and_only_the_last_turn_regenerated_once_idle():
    rated = lantern_turn()
    rated.rating, rated.comment = "down", "Wrong count."
    view = render_view([rated, lantern_turn(), failed_turn()], "/")

    answers = view.split('<div class="na-answer ')[1:]
    assert [answer.count("data-rate=") for answer in answers] == [2, 2, 0]  # not an error
    assert [answer.count("data-regenerate") for answer in answers] == [0, 0, 1]
    assert 'data-rate="down" aria-pressed="true"' in answers[0]
    assert 'data-rate="up" aria-pressed="false"' in answers[0]
    assert ">Wrong count.</textarea>" in answers[0]
    assert ui_text("en")["comment_saved"] in answers[0]
    assert "<textarea" not in answers[1]  # a comment once rated
    assert f'data-answer="{rated.answer_id}"' in answers[0]
    assert view.count('class="na-download"') == 2

    answering = Turn("Next?", status="answering")
    busy_view = render_view([rated, answering], "/")
    assert "data-regenerate" not in busy_view and "na-download" not in busy_view
    assert busy_view.count("data-rate=") == 2  # earlier answers can still be rated


def test_the_json_export_has_each_turn_with_its_numbered_sources():
    follow_up = lantern_turn(history=[{"role": "user", "content": "Hi"}])
    conversation = json.loads(export_of(render_view([lantern_turn(), failed_turn()], "/"), "json"))

    assert conversation == exported_conversation([lantern_turn(), failed_turn()], EXPORT_ROOT)
    assert (conversation["format"], conversation["version"]) == ("news-assistant-conversation", 1)
    first, failed = conversation["turns"]
    assert first == {
        "question": LANTERN_QUESTION,
        "language": "en",
        "status": "verified",
        "answer": ANSWER,
        "sources": [
            {
                "marker": 1,
                "doc_id": "en/lantern.txt",
                "title": "Lantern <b>poster</b>",
                "language": "en",
                "date": "2024-02-10",
                "quote": LANTERN[CITED:-1],
                "link": f"{EXPORT_ROOT}documents/en/lantern.txt?start={CITED}&end="
                f"{len(LANTERN) - 1}#cited",
            }
        ],
    }
    assert (failed["status"], failed["answer"], failed["sources"]) == ("error", "", [])
    assert exported_conversation([follow_up], "/")["turns"][0]["sources"][0]["link"].startswith(
        "/documents/"
    )


def test_the_markdown_export_keeps_markers_and_shows_markup_as_text():
    markdown = export_of(render_view([lantern_turn(), failed_turn()], "/", "vi"), "md")
    vietnamese = ui_text("vi")

    assert markdown.startswith(f"# {vietnamese['export_title']}\n\n## {LANTERN_QUESTION}\n")
    assert not re.search(r"(?<!\\)<(script|img|b)", markdown)  # every "<" of text escaped
    assert r"\<script\>window.\_\_pwned = 1\</script\>" in markdown
    assert markdown.count("[1]") == 2  # the answer's marker and its source
    assert (
        f"- [1] **Lantern \\<b\\>poster\\</b\\>** (en, 2024-02-10): “{LANTERN[CITED:-1]}” "
        f"<{EXPORT_ROOT}documents/en/lantern.txt?start={CITED}&end={len(LANTERN) - 1}#cited>"
    ) in markdown
    assert f"## And then?\n\n*{vietnamese['error_unavailable']}*\n" in markdown


def test_the_markdown_export_says_why_a_turn_was_not_answered_as_the_view_does():
    busy = Turn("Again?", status="busy", error_kind="queue_full", wait_s=12)
    view = render_view([lantern_turn(), busy], "/", "vi")
    note = ui_text("vi")["busy_queue_full"].format(seconds=12)

    assert html.escape(note, quote=False) in view
    assert f"## Again?\n\n*{note}*\n" in export_of(view, "md")


def test_no_link_or_image_of_an_article_or_answer_comes_alive_in_the_markdown_export():
    turn = lantern_turn()
    turn.question = "Is ![x](http://tracker.example/p.png) [here](javascript:alert(1)) [1]?"
    markdown = export_of(render_view([turn], "/"), "md")

    assert not re.search(r"(?<!\\)\]\(", markdown)  # every "](" of text escaped
    assert r"![x\](http://tracker.example/p.png) [here\](javascript:alert(1)) [1]?" in markdown


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


def test_regenerate_does_nothing_for_an_answer_that_is_not_the_last(handlers):
    _, regenerate, request, _ = handlers
    first, last = lantern_turn(), lantern_turn(history=[{"role": "user", "content": "Hi"}])

    stale = gr.EventData(None, {"answer": first.answer_id})
    assert list(regenerate([first, last], stale, request)) == []
    assert list(regenerate([], stale, request)) == []

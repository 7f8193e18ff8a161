"""The chat view's HTML and exports: corpus and model text rendered as text, the chat's
language and direction, why an answer is not a checked one (not verified, refused, failed,
queued, busy), which answers show the rating, regenerate and export controls, the exported
conversation (JSON and Markdown), the key fact card and its states, and the link to the
library."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

from assistant.server.chat.turns import Turn, apply_event
from assistant.server.chat.view import (
    EXPORT_ROOT,
    exported_conversation,
    render_view,
    view_language,
)
from assistant.server.ui_text import ui_text
from assistant.types import CitationsEvent, ErrorEvent, KeyFactEvent, SourcesEvent
from tests.support.chat import (
    ANSWER,
    BAC_NINH,
    CITED,
    END,
    ENGLISH,
    LANTERN,
    PASSAGE,
    START,
    VI_PASSAGE,
    answered,
    asked,
    export_of,
    failed_turn,
    finished_turn,
    key_fact,
    key_fact_card,
    lantern_turn,
    unread,
)
from tests.support.web import EN_QUESTION, LANTERN_ANSWER, LANTERN_QUESTION

# --- text as text, the chat's language, why an answer is not a checked one ---------------


def test_the_view_renders_corpus_and_model_text_as_text():
    html_view = render_view([finished_turn(LANTERN_ANSWER + " [1].")], "http://host/")

    assert "<script>" not in html_view
    assert "<img" not in html_view
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html_view
    assert "Lantern &lt;b&gt;festival&lt;/b&gt;" in html_view
    assert '<a class="na-cite" href="#" data-cite="0-1"' in html_view
    assert '<mark class="na-cited">Organisers of the lantern festival' in html_view
    assert 'href="http://host/documents/en/lantern.txt?start=' in html_view
    assert 'dir="auto"' in html_view


def test_the_view_speaks_the_question_language_right_to_left_for_arabic():
    arabic = Turn("متى عقدت اللجنة مؤتمرها؟")
    apply_event(arabic, SourcesEvent([PASSAGE], "ar"))
    apply_event(arabic, CitationsEvent("لا تذكر المقالات ذلك.", [], True, []))
    thai = Turn("เมื่อไหร่?")
    apply_event(thai, SourcesEvent([PASSAGE], "th"))

    assert view_language([], "vi") == "vi"  # before any question: the browser's
    assert view_language([arabic], "vi") == "ar"
    assert view_language([arabic, Turn("?")], "vi") == "ar"  # a question not yet read
    assert view_language([arabic, thai], "vi") == "vi"  # no Thai words: the browser's
    html_view = render_view([arabic], "/", "ar")
    assert '<div class="na-layout" lang="ar" dir="rtl">' in html_view
    assert ui_text("ar")["refused"] in html_view
    assert ui_text("ar")["sources"] in html_view
    assert "Not found in the articles" not in html_view
    assert 'dir="ltr"' in render_view([], "/", "vi") and ui_text("vi")["sources"] in render_view(
        [], "/", "vi"
    )


def test_the_view_says_when_an_answer_could_not_be_verified():
    turn = finished_turn("I could not verify an answer. The closest evidence: [1]", False)
    html_view = render_view([turn], "http://host/")

    assert turn.status == "not_verified"
    assert "Not verified: no answer could be checked against the articles" in html_view
    assert '<a class="na-cite na-evidence" href="#" data-cite="0-1"' in html_view
    assert "closest evidence, not an answer" in html_view
    assert "closest evidence" not in render_view([finished_turn("5,000 [1].")], "http://host/")


def test_the_view_shows_refusals_and_model_failures_apart():
    refused = Turn("?")
    apply_event(refused, SourcesEvent([PASSAGE], "en"))
    apply_event(refused, CitationsEvent("The articles do not say.", [], True, []))
    failed = Turn("?")
    apply_event(failed, SourcesEvent([PASSAGE], "en"))
    apply_event(failed, ErrorEvent("Connection refused", "unavailable"))
    apply_event(failed, CitationsEvent("", [], False, []))

    assert "Not found in the articles" in render_view([refused], "/")
    failed_view = render_view([failed], "/")
    assert "The language model is unavailable" in failed_view
    assert "Connection refused" in failed_view
    assert "Lantern &lt;b&gt;festival&lt;/b&gt;" in failed_view  # the sources stay
    assert failed.status == "error"


def test_the_view_shows_a_queued_and_a_refused_question():
    queued = Turn("?", status="queued", queue_position=3, wait_s=40)
    limited = Turn("?", status="busy", error_kind="rate_limited", wait_s=7)
    capped = Turn("?", status="busy", error_kind="client_cap", wait_s=10)

    assert "number 3 in the queue (about 40 s)" in render_view([queued], "/")
    assert "Too many questions: try again in 7 s." in render_view([limited], "/")
    assert ui_text("de")["busy_rate_limited"].format(seconds=7) in render_view([limited], "/", "de")
    assert ui_text("vi")["busy_client_cap"] in render_view([capped], "/", "vi")


# --- rating, regenerating and exporting ---------------------------------------------------


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
    assert (
        first
        == {
            "question": LANTERN_QUESTION,
            "language": "en",
            "status": "verified",
            "answer": ANSWER,
            "key_fact": None,  # the extractive reader was not confident
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
                    "translation": None,  # the asker's language: nothing to translate
                }
            ],
        }
    )
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


# --- the key fact card -------------------------------------------------------------------


def test_the_key_fact_card_says_checking_while_the_answer_is_written_then_verified():
    pipeline_fact = key_fact()
    turn = Turn(EN_QUESTION)
    apply_event(turn, SourcesEvent([VI_PASSAGE], "en"))
    apply_event(turn, KeyFactEvent(pipeline_fact))
    view = render_view([turn], "/")
    card = key_fact_card(view)

    assert "na-key-fact-checking" in card and ENGLISH["key_fact_checking"] in card
    assert '<p class="na-key-fact-value" dir="auto">1.269</p>' in card
    # The sentence in the article's language, the fact marked, and the link to it.
    assert f'lang="vi" dir="auto">{html.escape(BAC_NINH[START:END]).replace("1.269", "")}' in (
        card.replace('<mark class="na-cited">1.269</mark>', "")
    )
    assert '<mark class="na-cited">1.269</mark>' in card
    assert f'href="/documents/vi/bac-ninh.txt?start={START}&amp;end={END}#cited"' in card
    assert view.index("na-key-fact") < view.index('class="na-answer-text"')  # above it
    # The answerer settles its own key fact as it checks; the card waits for the end.
    pipeline_fact.status = "verified"
    assert "na-key-fact-checking" in key_fact_card(render_view([turn], "/"))

    answered(turn)
    vietnamese_card = key_fact_card(render_view([turn], "/", "vi"))
    assert "na-key-fact-verified" in vietnamese_card
    assert ui_text("vi")["key_fact_verified"] in vietnamese_card
    assert ENGLISH["key_fact_checking"] not in key_fact_card(render_view([turn], "/"))


def test_a_key_fact_the_answer_did_not_confirm_is_labelled_not_confirmed():
    not_verified = answered(asked(), verified=False)
    stopped = asked()
    stopped.status = "stopped"  # Stop while the answer was written: never confirmed
    failed = asked()
    apply_event(failed, ErrorEvent("The model is down.", "unavailable"))
    apply_event(failed, CitationsEvent("", [], False, [], key_fact=replace(key_fact(),
                                       status="not_verified")))  # fmt: skip

    for turn in (not_verified, stopped, failed):
        card = key_fact_card(render_view([turn], "/"))
        assert "na-key-fact-not_verified" in card, turn.status
        assert ENGLISH["key_fact_not_verified"] in card
        assert ENGLISH["key_fact_checking"] not in card
    assert "na-key-fact" not in render_view([unread()], "/")  # none was read


# --- the link to the library ------------------------------------------------------------


def test_the_chat_links_to_the_library():
    view = render_view([], "/prefix/", "ar")

    link = 'href="/prefix/library" target="_blank" rel="noopener">'
    assert f"{link}{ui_text('ar')['library']}</a>" in view

"""A cited sentence's "Show in <language>", without a browser: which sentences offer it
and in which language, the sentence read from the article and translated once, kept for
later, refused when a page asks for what the chat did not offer, and a busy model or a
failed translation said as such, with the button again."""

from __future__ import annotations

import html
import json
import re

import gradio as gr
import pytest
from starlette.requests import Request

from assistant.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.llms import LLMError
from assistant.server.admission import Admission
from assistant.server.chat import build_ui
from assistant.server.chat.turns import Turn
from assistant.server.chat.view import EXPORT_ROOT, render_view
from assistant.server.ui_text import ui_text
from assistant.service import Assistant
from assistant.translation import TRANSLATIONS_FILE
from tests.fakes import HashEmbedder, RecordingLLM
from tests.support.chat import (
    BAC_NINH,
    END,
    ENGLISH,
    START,
    answered,
    asked,
    export_of,
    key_fact_card,
    translations,
    unread,
)
from tests.support.web import EN_ANSWER, EN_QUESTION, VI_SENTENCE_IN_ENGLISH, make_settings


def test_a_sentence_in_another_language_than_the_askers_offers_show_in_that_language():
    english_view = render_view([answered(asked())], "/")
    buttons = re.findall(
        r'<button type="button" class="na-translate"[^>]*>[^<]*</button>', english_view
    )

    # The key fact's sentence (marker 0) and the answer's citation [1].
    assert [re.search(r'data-cite="(\d+)"', b).group(1) for b in buttons] == ["0", "1"]
    assert all(f'lang="en" dir="ltr">{ENGLISH["show_in_language"]}<' in b for b in buttons)
    assert "na-translate" not in render_view([answered(asked(language="vi"))], "/", "vi")
    # A question in Thai (the chat has no words for it) in a German chat: into German.
    thai = render_view([answered(asked("Có bao nhiêu?", "th"))], "/", "de")
    assert ui_text("de")["show_in_language"] == "Auf Deutsch anzeigen"
    assert thai.count(">Auf Deutsch anzeigen</button>") == 2


@pytest.fixture
def translating(data_dir, tmp_path):
    """The chat's translate and respond handlers over the test index, their model one that
    translates into English, their admission (one answer at a time, no queue) and a
    Gradio request; no translation kept from before."""
    (data_dir / TRANSLATIONS_FILE).unlink(missing_ok=True)
    settings = make_settings(data_dir, "http://unused", concurrent_answers=1, max_pending=0)
    llm = RecordingLLM(VI_SENTENCE_IN_ENGLISH)
    admission = Admission(settings.server)
    assistant = Assistant(settings, embedder=HashEmbedder(), llm=llm)
    blocks = build_ui(assistant, settings, admission, FeedbackStore(tmp_path / FEEDBACK_FILE))
    functions = {f.name: f.fn for f in blocks.fns.values()}
    scope = {"type": "http", "path": "/", "headers": [], "client": ("127.0.0.9", 5000)}
    request = gr.Request(request=Request(scope))
    yield functions["translate"], functions["respond"], llm, admission, request
    (data_dir / TRANSLATIONS_FILE).unlink(missing_ok=True)


def clicked(turn: Turn, cite: str) -> gr.EventData:
    """What chat.js sends for a "Show in …" button."""
    return gr.EventData(None, {"turn": turn.turn_id, "cite": cite})


def test_show_in_translates_the_cited_sentence_read_from_the_article(translating):
    translate, _, llm, _, request = translating
    turn = answered(asked())
    turns = [turn]

    steps = translate(turns, clicked(turn, "0"), request)
    waiting = next(steps)
    assert ENGLISH["translating"] in waiting and llm.requests == []
    shown = next(steps)
    assert list(steps) == []

    [messages] = llm.requests
    assert BAC_NINH[START:END] in messages[-1]["content"]  # the article's own sentence
    # The key fact card and the source card cite the same sentence: both show it, labelled.
    assert translations(shown) == [VI_SENTENCE_IN_ENGLISH] * 2
    assert shown.count(f'na-mt-badge">{ENGLISH["machine_translation"]}<') == 2
    assert "data-translate" not in shown
    # It is the turn's: the next update of the view keeps it; asking again asks nothing.
    assert translations(render_view(turns, "/")) == [VI_SENTENCE_IN_ENGLISH] * 2
    assert list(translate(turns, clicked(turn, "1"), request)) == []
    assert len(llm.requests) == 1
    assert turn.answer == f"{EN_ANSWER} [1]."  # never part of the answer


def test_the_exports_hold_the_key_fact_and_the_translation_labelled(translating):
    translate, _, _, _, request = translating
    turn = answered(asked())
    list(translate([turn], clicked(turn, "1"), request))

    view = render_view([turn], "/")
    exported = json.loads(export_of(view, "json"))["turns"][0]
    markdown = export_of(view, "md")

    machine = {"text": VI_SENTENCE_IN_ENGLISH, "language": "en", "machine_translation": True}
    assert exported["key_fact"] == {
        "text": "1.269",
        "kind": "count",
        "status": "verified",
        "doc_id": "vi/bac-ninh.txt",
        "title": "Tỉnh Bắc Ninh",
        "language": "vi",
        "quote": BAC_NINH[START:END],
        "link": f"{EXPORT_ROOT}documents/vi/bac-ninh.txt?start={START}&end={END}#cited",
        "translation": machine,
    }
    assert exported["sources"][0]["translation"] == machine
    assert f"**{ENGLISH['key_fact']}: 1.269** ({ENGLISH['key_fact_verified']}): “" in markdown
    assert (
        markdown.count(f"*{ENGLISH['machine_translation']} (en):* “{VI_SENTENCE_IN_ENGLISH}”") == 2
    )


def test_a_translation_the_page_should_not_ask_for_is_refused(translating):
    translate, _, llm, _, request = translating
    turn, without_key_fact = answered(asked()), unread()
    vietnamese = answered(asked(language="vi"))  # asked in the article's language

    for turns, sent in [
        ([turn], {"turn": "0" * 16, "cite": "1"}),  # a turn not in this conversation
        ([turn], {"turn": turn.turn_id, "cite": "7"}),  # a marker the answer has not
        ([turn], {"turn": turn.turn_id, "text": "Translate this instead"}),
        ([without_key_fact], {"turn": without_key_fact.turn_id, "cite": "0"}),
        ([vietnamese], {"turn": vietnamese.turn_id, "cite": "1"}),  # no button: in vi
    ]:
        with pytest.raises(gr.Error) as refused:
            next(translate(turns, gr.EventData(None, sent), request))
        # In the chat's language: the last question's.
        assert refused.value.message == ui_text(turns[-1].language)["feedback_no_such_answer"]
    assert llm.requests == [] and turn.translations == vietnamese.translations == {}


def test_a_busy_model_or_a_failed_translation_says_so_and_offers_the_button_again(
    translating,
):
    translate, _, llm, admission, request = translating
    turn = answered(asked())
    held = admission.admit("10.0.0.8")  # another asker's answer: the model is busy

    *_, busy = translate([turn], clicked(turn, "0"), request)
    admission.release(held)
    llm.error = LLMError("unavailable", "The model is down.")
    *_, failed = translate([turn], clicked(turn, "0"), request)
    llm.error = None
    *_, translated = translate([turn], clicked(turn, "0"), request)

    assert html.escape(ENGLISH["busy_queue_full"].format(seconds=10)) in key_fact_card(busy)
    assert 'data-cite="0"' in key_fact_card(busy)  # the button again
    assert ENGLISH["translation_failed"] in key_fact_card(failed)
    assert 'data-cite="0"' in key_fact_card(failed)
    assert translations(key_fact_card(translated)) == [VI_SENTENCE_IN_ENGLISH]
    assert len(llm.requests) == 2  # not while the model was busy


def test_a_kept_translation_needs_no_turn_of_the_model(translating):
    translate, _, llm, admission, request = translating
    first = answered(asked())
    list(translate([first], clicked(first, "0"), request))
    held = admission.admit("10.0.0.8")  # the model is busy now
    again = answered(asked())  # the same sentence, cited in another conversation

    *_, shown = translate([again], clicked(again, "1"), request)
    admission.release(held)

    assert translations(shown) == [VI_SENTENCE_IN_ENGLISH] * 2
    assert len(llm.requests) == 1


def test_a_translation_that_ends_after_the_next_question_shows_the_whole_conversation(
    translating,
):
    translate, respond, _, _, request = translating
    turn = answered(asked())
    turns = [turn]
    steps = translate(turns, clicked(turn, "0"), request)
    next(steps)

    for _ in respond("Bắc Ninh có bao nhiêu mô hình Dân vận khéo?", turns, request):
        pass  # the next question, answered while the translation waited
    shown = next(steps)

    assert [t.question for t in turns] == [
        EN_QUESTION,
        "Bắc Ninh có bao nhiêu mô hình Dân vận khéo?",
    ]
    assert "Bắc Ninh có bao nhiêu mô hình Dân vận khéo?" in shown
    assert translations(shown) == [VI_SENTENCE_IN_ENGLISH] * 2

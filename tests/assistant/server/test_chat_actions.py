"""The chat's actions on its answers, without a browser: which answers show the rating,
regenerate and export controls, the key fact card and its states, translating a cited
sentence, the exported conversation (JSON and Markdown), and the view's event handlers
refusing what a page should not send."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace

import gradio as gr
import pytest
from starlette.requests import Request

from assistant.feedback import FEEDBACK_FILE, FeedbackStore
from assistant.llms import LLMError
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
from assistant.translation import TRANSLATIONS_FILE
from assistant.types import (
    Citation,
    CitationsEvent,
    ErrorEvent,
    KeyFact,
    KeyFactEvent,
    Passage,
    SourcesEvent,
)
from tests.fakes import HashEmbedder, RecordingLLM
from tests.support.web import (
    CORPUS,
    EN_ANSWER,
    EN_QUESTION,
    LANTERN_QUESTION,
    VI_SENTENCE_IN_ENGLISH,
    XSS_PAYLOAD,
    make_settings,
)

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


# --- the key fact card and "Show in <language>" ---------------------------------------------

ENGLISH = ui_text("en")
BAC_NINH = CORPUS["vi/bac-ninh.txt"]
VI_PASSAGE = Passage(
    "vi/bac-ninh.txt", "vi/bac-ninh.txt#0", "Tỉnh Bắc Ninh", "vi", 0.5, 0, len(BAC_NINH), BAC_NINH
)
START = BAC_NINH.index("Từ đầu nhiệm kỳ")
END = BAC_NINH.index("doanh nghiệp.") + len("doanh nghiệp.")
VI_CITATION = Citation(1, VI_PASSAGE.doc_id, VI_PASSAGE.chunk_id, VI_PASSAGE.title,
                       BAC_NINH[START:END], START, END, True)  # fmt: skip


def key_fact() -> KeyFact:
    """The extractive reader's key fact as the answerer yields it, still being checked."""
    return KeyFact("1.269", "count", 0.9, replace(VI_CITATION, marker=0, supported=False))


def asked(question: str = EN_QUESTION, language: str = "en") -> Turn:
    """A turn whose key fact has come and whose answer is being written."""
    turn = Turn(question)
    apply_event(turn, SourcesEvent([VI_PASSAGE], language))
    apply_event(turn, KeyFactEvent(key_fact()))
    return turn


def answered(turn: Turn, verified: bool = True) -> Turn:
    """``turn`` with its answer ended: its key fact, when one came, settled as the answer."""
    status = "verified" if verified else "not_verified"
    fact = replace(key_fact(), status=status) if turn.key_fact else None
    apply_event(
        turn,
        CitationsEvent(f"{EN_ANSWER} [1].", [VI_CITATION], False, [], verified, key_fact=fact),
    )
    return turn


def unread() -> Turn:
    """An answered turn whose key fact the extractive reader was not confident of."""
    turn = Turn(EN_QUESTION)
    apply_event(turn, SourcesEvent([VI_PASSAGE], "en"))
    return answered(turn)


def key_fact_card(view: str) -> str:
    [card] = re.findall(r'<section class="na-key-fact .*?</section>', view, re.S)
    return card


def translations(view: str) -> list[str]:
    """The machine translations the view shows under cited sentences."""
    return re.findall(r'<p class="na-translated" dir="auto">(.*?)</p>', view)


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

"""A cited sentence machine translated on demand (assistant.translation): read from the
stored document by its offsets, asked of the model once, then kept."""

from __future__ import annotations

import pytest

from assistant.llms import LLMError
from assistant.prompts import Prompts
from assistant.translation import (
    MAX_SENTENCE_CHARS,
    NoSuchSentence,
    Translation,
    TranslationCache,
    Translator,
    UnknownLanguage,
    target_language,
)
from ingest.types import Document
from tests.fakes import RecordingLLM

SENTENCE = "Hà Tĩnh đã tiếp nhận 18087 ý kiến, kiến nghị của nhân dân."
ARTICLE = Document(
    doc_id="vi/ha-tinh.txt",
    text=f"Hội nghị đối thoại\n\n{SENTENCE} Các ý kiến đã được giải quyết.\n",
    title="Hội nghị đối thoại",
    language="vi",
    aliases=["copy/ha-tinh.txt"],
)
START = ARTICLE.text.index(SENTENCE)
END = START + len(SENTENCE)
IN_ENGLISH = "Ha Tinh received 18087 opinions and proposals from the people."


def documents(doc_id: str) -> Document | None:
    """The one stored article, by its id or its alias."""
    return ARTICLE if doc_id in (ARTICLE.doc_id, *ARTICLE.aliases) else None


def translator(tmp_path, llm: RecordingLLM) -> Translator:
    cache = TranslationCache(tmp_path / "translations.sqlite3")
    return Translator(llm, Prompts(), documents, cache)


def test_the_sentence_is_read_from_the_document_and_translated_once(tmp_path):
    llm = RecordingLLM(f"Translation: “{IN_ENGLISH}”\n")

    translation = translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")

    assert translation == Translation(IN_ENGLISH, "en", "vi", machine_translation=True)
    [messages] = llm.requests
    prompt = messages[-1]["content"]
    assert SENTENCE in prompt  # the document's own words, read at its offsets
    assert "Vietnamese" in prompt and "English" in prompt
    assert "Các ý kiến" not in prompt  # that sentence, nothing more of the article


def test_a_translation_asked_again_is_kept_and_costs_no_model_call(tmp_path):
    llm = RecordingLLM(IN_ENGLISH)
    first = translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")
    # Another translator over the same file: a restarted server keeps what it translated,
    # and a citation naming the article by its alias finds it too.
    again = translator(tmp_path, llm).translate("copy/ha-tinh.txt", START, END, "EN")

    assert again == first
    assert len(llm.requests) == 1
    translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "de")
    assert len(llm.requests) == 2  # another language is another translation


def test_a_sentence_already_in_the_language_asked_for_is_its_own_words(tmp_path):
    llm = RecordingLLM(IN_ENGLISH)

    own = translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "vi")

    assert own == Translation(SENTENCE, "vi", "vi", machine_translation=False)
    assert llm.requests == []


@pytest.mark.parametrize(
    ("doc_id", "start", "end"),
    [
        ("vi/nowhere.txt", START, END),
        (ARTICLE.doc_id, START, len(ARTICLE.text) + 1),  # past the end of the text
        (ARTICLE.doc_id, END, START),  # reversed
        (ARTICLE.doc_id, START, START),  # empty
        (ARTICLE.doc_id, -1, END),
    ],
)
def test_offsets_outside_the_document_are_refused_without_a_model_call(
    tmp_path, doc_id, start, end
):
    llm = RecordingLLM(IN_ENGLISH)

    with pytest.raises(NoSuchSentence):
        translator(tmp_path, llm).translate(doc_id, start, end, "en")
    assert llm.requests == []


def test_a_span_longer_than_a_sentence_is_refused(tmp_path):
    long_article = Document("long.txt", "Lorem ipsum. " * 200, language="en")
    llm = RecordingLLM("Translated.")
    cache = TranslationCache(tmp_path / "translations.sqlite3")
    long_translator = Translator(llm, Prompts(), lambda _: long_article, cache)

    with pytest.raises(NoSuchSentence, match="at most"):
        long_translator.translate("long.txt", 0, MAX_SENTENCE_CHARS + 1, "de")
    assert long_translator.translate("long.txt", 0, 13, "de").text == "Translated."


@pytest.mark.parametrize("code", ["xx", "", "english", "zz-ZZ"])
def test_an_unknown_language_is_refused(tmp_path, code):
    llm = RecordingLLM(IN_ENGLISH)

    with pytest.raises(UnknownLanguage):
        translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, code)
    assert llm.requests == []
    assert target_language("pt-BR") == "pt"


@pytest.mark.parametrize(
    "reply",
    [
        "",
        "  \n",
        f"«{SENTENCE}»",  # the sentence itself
        "Ha Tinh received many opinions and proposals from the people.",  # no 18087
        "Ha Tinh received 18,807 opinions and proposals from the people.",  # another one
    ],
)
def test_a_reply_that_is_no_translation_is_an_error_and_is_not_kept(tmp_path, reply):
    llm = RecordingLLM(reply)

    with pytest.raises(LLMError) as failed:
        translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")
    assert failed.value.kind == "bad_output"
    llm.reply = IN_ENGLISH
    assert translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en").text == IN_ENGLISH
    assert len(llm.requests) == 2  # the failure was not kept as a translation


def test_a_figure_written_another_way_is_the_same_figure(tmp_path):
    llm = RecordingLLM("Ha Tinh received 18,087 opinions and proposals from the people.")

    found = translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")

    assert "18,087" in found.text


def test_a_model_failure_is_raised_and_nothing_is_kept(tmp_path):
    llm = RecordingLLM(error=LLMError("unavailable", "The model is down."))

    with pytest.raises(LLMError, match="down"):
        translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")
    assert not (tmp_path / "translations.sqlite3").exists()


def test_a_changed_document_is_translated_again(tmp_path):
    def reply(messages: list[dict]) -> str:
        return (
            IN_ENGLISH.replace("18087", "18088")
            if "18088" in messages[-1]["content"]
            else IN_ENGLISH
        )

    llm = RecordingLLM(reply)
    translator(tmp_path, llm).translate(ARTICLE.doc_id, START, END, "en")
    changed = Document(ARTICLE.doc_id, ARTICLE.text.replace("18087", "18088"), language="vi")
    cache = TranslationCache(tmp_path / "translations.sqlite3")

    found = Translator(llm, Prompts(), lambda _: changed, cache).translate(
        ARTICLE.doc_id, START, END, "en"
    )

    assert "18088" in found.text
    assert len(llm.requests) == 2
    assert "18088" in llm.requests[1][-1]["content"]


def test_an_unwritable_cache_still_translates(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    llm = RecordingLLM(IN_ENGLISH)
    cache = TranslationCache(blocked / "translations.sqlite3")

    found = Translator(llm, Prompts(), documents, cache).translate(ARTICLE.doc_id, START, END, "en")

    assert found.text == IN_ENGLISH

"""Answering against scripted models: event order, prompts, refusals, follow-ups, failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from assistant import answer_commands
from assistant.answering import Answerer
from assistant.citations import passage_sentences
from assistant.cli import app
from assistant.languages import language_name
from assistant.llm import LLMError, make_llm
from assistant.prompts import NO_ANSWER_TOKEN, Prompts
from assistant.types import (
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    SourcesEvent,
    TokenEvent,
)
from ingest.settings import BUNDLED_PROMPTS, Settings
from ingest.types import Passage
from tests.fake_openai import FakeOpenAIServer
from tests.test_citations import make_passages

REQUIRED_NO_ANSWER_LANGUAGES = ["en", "de", "ar", "hu", "vi", "zh", "ru", "ja", "ko", "fr", "es"]


class ListRetriever:
    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.queries: list[str] = []

    def retrieve(self, query, k, language=None, doc_ids=None) -> list[Passage]:
        self.queries.append(query)
        return self.passages[:k]


class FixedDetector:
    def __init__(self, language: str = "en"):
        self.language = language

    def detect(self, text: str) -> str:
        return self.language


class ScriptedLLM:
    """Replies from a list (one per call) or a function of the messages; records calls."""

    model = "scripted"

    def __init__(self, *replies: str | Callable[[list[dict]], str], continues_answer: bool = False):
        self.replies = list(replies)
        self.calls: list[dict] = []
        self.continues_answer = continues_answer

    def _reply(self, messages: list[dict], max_tokens: int | None) -> str:
        self.calls.append({"messages": messages, "max_tokens": max_tokens})
        reply = self.replies[min(len(self.calls), len(self.replies)) - 1]
        return reply(messages) if callable(reply) else reply

    def stream_chat(self, messages, *, max_tokens=None, stop=None) -> Iterator[str]:
        reply = self._reply(messages, max_tokens)
        if not reply.strip():  # as OpenAICompatibleLLM does
            raise LLMError("bad_output", "The model returned an empty answer.", empty=True)
        yield from re.findall(r"\s*\S+", reply)

    def complete_chat(self, messages, *, max_tokens=None, stop=None) -> str:
        return self._reply(messages, max_tokens)

    def health(self) -> bool:
        return True


# Without an embedder the evidence is lexical alone, which scores lower than the product's
# lexical-or-embedding evidence that the default threshold was chosen for.
LEXICAL_SETTINGS = Settings(answer={"min_evidence": 0.13})


def make_answerer(llm, language="en", settings=None, passages=None) -> Answerer:
    return Answerer(
        settings or LEXICAL_SETTINGS,
        retriever=ListRetriever(make_passages() if passages is None else passages),
        llm=llm,
        detector=FixedDetector(language),
    )


def user_prompt(llm: ScriptedLLM, call: int = -1) -> str:
    return llm.calls[call]["messages"][-1]["content"]


QUESTION = "How many proposals did Ha Tinh receive through dialogue conferences?"
GOOD_REPLY = "Ha Tinh received 18,087 proposals through dialogue conferences [2]."


def test_events_come_sources_first_tokens_then_citations_and_done_last():
    events = list(make_answerer(ScriptedLLM(GOOD_REPLY)).stream(QUESTION))
    kinds = [type(event) for event in events]
    assert kinds[0] is SourcesEvent and len(events[0].passages) == 3
    assert kinds[-2:] == [CitationsEvent, DoneEvent]
    assert set(kinds[1:-2]) == {TokenEvent}
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == GOOD_REPLY
    result = events[-1].result
    assert result.answer == GOOD_REPLY and not result.refused and result.error is None
    assert [(c.marker, c.doc_id, c.supported) for c in result.citations] == [
        (2, "ha-tinh.txt", True)
    ]
    assert 0 <= result.timings.ttft_s <= result.timings.total_s
    assert result.model == "scripted"


def test_ask_returns_the_public_json_shape():
    answer = make_answerer(ScriptedLLM(GOOD_REPLY)).ask(QUESTION)
    shape = json.loads(json.dumps(answer.to_dict()))
    assert set(shape) == {
        "question", "language", "answer", "refused", "citations", "passages", "model",
        "timings", "unsupported_numbers", "error",
    }  # fmt: skip
    assert set(shape["citations"][0]) == {
        "marker", "doc_id", "chunk_id", "title", "quote", "start", "end", "supported",
    }  # fmt: skip
    assert set(shape["timings"]) == {"retrieve_s", "ttft_s", "total_s"}


def test_prompt_names_the_answer_language_and_numbers_the_passages():
    llm = ScriptedLLM(GOOD_REPLY)
    settings = Settings(answer={"min_evidence": 0.13, "passage_max_sentences": 1})
    make_answerer(llm, language="vi", settings=settings).ask(QUESTION)
    prompt = user_prompt(llm)
    assert "Vietnamese" in prompt.splitlines()[-1]  # the question's material comes last
    assert [int(n) for n in re.findall(r"^\[(\d+)\]", prompt, re.MULTILINE)] == [1, 2, 3]
    assert NO_ANSWER_TOKEN in prompt


def test_language_option_overrides_the_detected_language():
    llm = ScriptedLLM(GOOD_REPLY)
    answer = make_answerer(llm, language="en").ask(QUESTION, language="de")
    assert answer.language == "de"
    assert "German" in user_prompt(llm).splitlines()[-1]


def test_fixed_prompt_text_is_identical_across_questions_and_comes_first():
    llm = ScriptedLLM(GOOD_REPLY)
    answerer = make_answerer(llm)
    answerer.ask(QUESTION)
    answerer.ask("Who is the Secretary of the Bac Ninh Provincial Party Committee?")
    first, second = (call["messages"] for call in llm.calls)
    assert first[0] == second[0] and first[0]["role"] == "system"
    fixed = Prompts().answer.split("{passages}")[0].format(no_answer=NO_ANSWER_TOKEN)
    assert len(fixed) > 200 and first[1]["content"].startswith(fixed)
    assert second[1]["content"].startswith(fixed)


def test_passages_are_trimmed_to_their_most_relevant_sentences():
    llm = ScriptedLLM(GOOD_REPLY)
    settings = Settings(answer={"passage_max_sentences": 1})
    make_answerer(llm, settings=settings).ask(QUESTION)
    prompt = user_prompt(llm)
    assert "Ha Tinh received 18.087 proposals through dialogue conferences." in prompt
    assert "25 August" not in prompt and "2.015" not in prompt


def test_sentences_are_chosen_across_passages_within_both_limits():
    settings = Settings(answer={"passage_max_sentences": 2, "max_sentences": 3})
    answerer = make_answerer(ScriptedLLM(GOOD_REPLY), settings=settings)
    question = "How many dialogues did leaders hold, and how many proposals did Ha Tinh receive?"
    sent, evidence = answerer.select_sentences(question, make_passages())
    assert evidence > 0.2
    # Ninh Son's passage has nothing on dialogues: it is not sent, and the others keep
    # their retrieval numbers, so markers still point into the sources list.
    assert [p.number for p in sent] == [1, 2]
    assert sum(len(p.sentences) for p in sent) == 3
    assert all(len(p.sentences) <= 2 for p in sent)
    ha_tinh = [span.text for span in sent[1].sentences]
    assert ha_tinh == [
        "Ha Tinh received 18.087 proposals through dialogue conferences.",
        "Leaders held 2.015 direct dialogues.",
    ]


def test_long_sentences_are_cut_into_clauses_with_document_offsets():
    clause = "the provincial committee reviewed the work of the mass mobilisation board"
    text = f"{clause}, {clause}, {clause}, and then it received 18.087 proposals."
    passage = Passage("long.txt", "long.txt#0", "", "en", 1.0, 10, 10 + len(text), text)
    spans = passage_sentences(passage)
    assert len(spans) > 1 and all(len(span.text) <= 250 for span in spans)
    assert spans[-1].text.endswith("received 18.087 proposals.")
    assert all(text[span.start - 10 : span.end - 10] == span.text for span in spans)


@pytest.mark.parametrize("language", ["vi", "de", "zh"])
def test_model_abstention_is_a_refusal_in_the_askers_language(language):
    llm = ScriptedLLM(NO_ANSWER_TOKEN)
    events = list(make_answerer(llm, language=language).stream(QUESTION))
    result = events[-1].result
    message = Prompts().no_answer(language)
    assert result.refused and result.citations == [] and result.answer == message
    tokens = "".join(e.text for e in events if isinstance(e, TokenEvent))
    assert NO_ANSWER_TOKEN not in tokens and tokens == message


@pytest.mark.parametrize("reply", ["[2]", "[1] [3]", f"[2] {QUESTION}", f"{QUESTION} [2]"])
def test_markers_alone_or_the_question_given_back_are_refusals(reply):
    answer = make_answerer(ScriptedLLM(reply), language="vi").ask(QUESTION)
    assert answer.refused and answer.citations == []
    assert answer.answer == Prompts().no_answer("vi")


def test_an_endpoint_that_continues_answers_gets_the_answer_started_in_the_language():
    llm = ScriptedLLM(" 18.087 Vorschläge gingen ein [2].", continues_answer=True)
    events = list(make_answerer(llm, language="de").stream(QUESTION))
    start = Prompts().answer_start("de")
    assert start and llm.calls[0]["messages"][-1] == {"role": "assistant", "content": start}
    result = events[-1].result
    assert result.answer == f"{start} 18.087 Vorschläge gingen ein [2]."
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == result.answer
    assert [(c.marker, c.supported) for c in result.citations] == [(2, True)]


@pytest.mark.parametrize("reply", [NO_ANSWER_TOKEN, " [2]", ""])
def test_a_started_answer_the_model_abstains_from_or_leaves_empty_is_a_refusal(reply):
    llm = ScriptedLLM(reply, continues_answer=True)
    events = list(make_answerer(llm, language="vi").stream(QUESTION))
    assert events[-1].result.refused
    assert events[-1].result.answer == Prompts().no_answer("vi")


def test_no_answer_start_for_a_language_without_a_template_nor_for_other_endpoints():
    assert Prompts().answer_start("sv") == ""  # Swedish: no bundled template
    llm = ScriptedLLM(GOOD_REPLY)
    make_answerer(llm).ask(QUESTION)
    assert llm.calls[0]["messages"][-1]["role"] == "user"


def test_bundled_answer_starts_cover_the_languages_with_a_no_answer_message():
    starts = {path.name for path in (BUNDLED_PROMPTS / "answer_start").glob("*.txt")}
    assert starts == {path.name for path in (BUNDLED_PROMPTS / "no_answer").glob("*.txt")}


def test_a_bare_number_is_an_answer():
    answer = make_answerer(ScriptedLLM("18.087 [2]")).ask(QUESTION)
    assert not answer.refused and answer.answer == "18.087 [2]"
    assert [(c.marker, c.supported) for c in answer.citations] == [(2, True)]


def test_near_miss_question_goes_to_the_model_which_abstains():
    llm = ScriptedLLM(NO_ANSWER_TOKEN)
    answer = make_answerer(llm).ask("How many proposals did Bac Ninh receive in 2019?")
    assert len(llm.calls) == 1 and answer.refused


def test_off_topic_question_is_refused_from_retrieval_evidence_without_the_model():
    llm = ScriptedLLM("Paris [1].")
    answer = make_answerer(llm, language="fr").ask("Quelle est la capitale de la France ?")
    assert llm.calls == []
    assert answer.refused and answer.answer == Prompts().no_answer("fr")
    assert answer.citations == [] and len(answer.passages) == 3


def test_nothing_retrieved_is_a_refusal():
    answer = make_answerer(ScriptedLLM(GOOD_REPLY), passages=[]).ask(QUESTION)
    assert answer.refused and answer.passages == []


def test_follow_up_is_condensed_with_the_history_before_retrieval():
    standalone = "How many dialogues did Bac Ninh hold?"
    llm = ScriptedLLM(standalone, "Bac Ninh held 1.269 dialogues [1].")
    answerer = make_answerer(llm)
    history = [
        {"role": "user", "content": "Who is the party secretary of Bac Ninh?"},
        {"role": "assistant", "content": "Nguyen Anh Tuan [1]."},
    ]
    answer = answerer.ask("And how many dialogues did they hold?", history=history)
    condense_prompt = user_prompt(llm, 0)
    assert "Who is the party secretary of Bac Ninh?" in condense_prompt
    assert "And how many dialogues did they hold?" in condense_prompt
    assert llm.calls[0]["max_tokens"] <= 64
    assert answerer.retriever.queries == [standalone]
    assert standalone in user_prompt(llm, 1)
    assert answer.citations[0].doc_id == "bac-ninh.txt"


def test_no_history_means_no_condensing():
    llm = ScriptedLLM(GOOD_REPLY)
    answerer = make_answerer(llm)
    answerer.ask(QUESTION, history=[])
    assert len(llm.calls) == 1 and answerer.retriever.queries == [QUESTION]


def test_custom_prompts_dir_overrides_only_the_files_it_holds(tmp_path):
    (tmp_path / "answer.txt").write_text("Passages:\n{passages}\nQ: {question}\nIn {language}!")
    (tmp_path / "no_answer").mkdir()
    (tmp_path / "no_answer" / "vi.txt").write_text("Không có.")
    prompts = Prompts(tmp_path)
    assert prompts.no_answer("vi") == "Không có."
    assert prompts.no_answer("de") == (BUNDLED_PROMPTS / "no_answer/de.txt").read_text().strip()
    llm = ScriptedLLM(GOOD_REPLY)
    make_answerer(llm, settings=Settings(answer={"prompts_dir": tmp_path})).ask(QUESTION)
    assert user_prompt(llm).endswith("In English!")
    assert llm.calls[0]["messages"][0]["content"] == prompts.system


def test_bundled_no_answer_messages_cover_the_required_languages():
    prompts = Prompts()
    english = prompts.no_answer("en")
    for language in REQUIRED_NO_ANSWER_LANGUAGES:
        assert (BUNDLED_PROMPTS / "no_answer" / f"{language}.txt").is_file()
        assert language == "en" or prompts.no_answer(language) != english


def test_language_names():
    assert language_name("vi") == "Vietnamese"
    assert language_name("zh-CN") == "Chinese"
    assert language_name("und") == "English"


FAILURES = {
    "down": "unavailable",
    "timeout": "timeout",
    "401": "auth",
    "context_length": "context",
    "broken_stream": "broken_stream",
    "garbage": "bad_output",
    "500": "unavailable",
}


@pytest.mark.parametrize("failure", FAILURES)
def test_every_llm_failure_is_an_error_event_with_the_sources_kept(failure):
    with FakeOpenAIServer(GOOD_REPLY, failure=failure, hang_s=3) as server:
        settings = Settings(llm={"base_url": server.base_url, "timeout": 1, "retries": 0})
        answerer = make_answerer(make_llm(settings), settings=settings)
        events = list(answerer.stream(QUESTION))
    assert isinstance(events[0], SourcesEvent) and len(events[0].passages) == 3
    [error] = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.kind == FAILURES[failure] and error.message
    assert [type(e) for e in events[-2:]] == [CitationsEvent, DoneEvent]
    result = events[-1].result
    assert result.error == error.message and len(result.passages) == 3
    assert result.answer == "" and result.citations == [] and not result.refused


def test_transient_failure_is_retried_into_an_answer():
    with FakeOpenAIServer(GOOD_REPLY, failure="500_then_ok") as server:
        settings = Settings(llm={"base_url": server.base_url, "retries": 1})
        answer = make_answerer(make_llm(settings), settings=settings).ask(QUESTION)
    assert answer.error is None and answer.answer == GOOD_REPLY


def test_failing_condense_reports_the_error_after_the_sources():
    class FailingLLM(ScriptedLLM):
        def complete_chat(self, messages, *, max_tokens=None, stop=None) -> str:
            raise LLMError("unavailable", "The model is not running.")

    history = [{"role": "user", "content": "Who leads Bac Ninh?"}]
    events = list(make_answerer(FailingLLM(GOOD_REPLY)).stream("And Ha Tinh?", history=history))
    assert isinstance(events[0], SourcesEvent)
    assert [(e.kind, e.message) for e in events if isinstance(e, ErrorEvent)] == [
        ("unavailable", "The model is not running.")
    ]
    assert events[-1].result.error == "The model is not running."


class FakeAssistant:
    def __init__(self, llm: ScriptedLLM):
        self.answerer = make_answerer(llm)

    def stream(self, question, history=None, language=None, k=None):
        return self.answerer.stream(question, history=history, language=language, k=k)

    def ask(self, question, history=None, language=None, k=None):
        return self.answerer.ask(question, history=history, language=language, k=k)


@pytest.fixture
def cli(monkeypatch) -> Callable[..., tuple]:
    """Runs the CLI against a scripted model; returns the result and the model."""

    def run(reply: str, *args: str, stdin: str | None = None):
        llm = ScriptedLLM(reply)
        monkeypatch.setattr(answer_commands, "Assistant", lambda: FakeAssistant(llm))
        answer_commands.register(app)
        return CliRunner().invoke(app, list(args), input=stdin), llm

    return run


def test_cli_ask_json_prints_the_answer_shape(cli):
    result, _ = cli(GOOD_REPLY, "ask", QUESTION, "--json", "--lang", "de", "--k", "2")
    assert result.exit_code == 0, result.output
    shape = json.loads(result.output)
    assert shape["language"] == "de" and len(shape["passages"]) == 2
    assert shape["citations"][0]["quote"].startswith("Ha Tinh received 18.087")


def test_cli_ask_streams_then_lists_the_checked_citations(cli):
    result, _ = cli("Ha Tinh received 18,087 proposals [3].", "ask", QUESTION)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Ha Tinh received 18,087 proposals [3].")
    assert "Checked answer:\nHa Tinh received 18,087 proposals [2]." in result.output
    assert "[2] ha-tinh.txt" in result.output and "“Ha Tinh received 18.087" in result.output


def test_cli_ask_exits_non_zero_on_a_model_failure(monkeypatch):
    class FailingLLM(ScriptedLLM):
        def stream_chat(self, messages, *, max_tokens=None, stop=None) -> Iterator[str]:
            raise LLMError("timeout", "The model did not answer in time.")
            yield  # a generator, like a real client

    monkeypatch.setattr(answer_commands, "Assistant", lambda: FakeAssistant(FailingLLM()))
    answer_commands.register(app)
    result = CliRunner().invoke(app, ["ask", QUESTION])
    assert result.exit_code == 1
    assert "Error: The model did not answer in time." in result.output
    assert "Retrieved passages:\n[1] bac-ninh.txt" in result.output


def test_cli_chat_condenses_follow_ups_until_cleared(cli):
    stdin = f"{QUESTION}\nAnd Bac Ninh?\n/clear\nAnd Bac Ninh?\n/exit\n"
    result, llm = cli(GOOD_REPLY, "chat", stdin=stdin)
    assert result.exit_code == 0, result.output
    assert "Conversation cleared." in result.output
    # The first question is answered alone, the follow-up is condensed first (two calls),
    # and after /clear the same words are a new question again.
    prompts = [user_prompt(llm, n) for n in range(len(llm.calls))]
    assert len(prompts) == 4
    assert QUESTION in prompts[1] and prompts[1].startswith(Prompts().condense.split("{")[0])
    assert QUESTION not in prompts[3]

"""Answering against scripted models: event order, prompts, refusals, follow-ups, failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import pytest
from typer.testing import CliRunner

from assistant.answering import Answerer
from assistant.answering.citations import passage_sentences
from assistant.cli import answer as answer_commands
from assistant.cli import app
from assistant.languages import language_name
from assistant.llms import LLMError, make_llm
from assistant.prompts import NO_ANSWER_TOKEN, Prompts
from assistant.questions import InvalidQuestion
from assistant.settings import Settings, bundled_prompts
from assistant.types import (
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    KeyFactEvent,
    Passage,
    ProgressEvent,
    SourcesEvent,
    TokenEvent,
)
from ingest.names import name_key
from ingest.types import DocumentRecord
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.passages import make_passages

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
# lexical-or-embedding evidence that the default threshold was chosen for; and there is no
# extractive reader, so these answers are checked by the checks alone (answer.verify_unread).
LEXICAL_SETTINGS = Settings(answer={"min_evidence": 0.13, "verify_unread": True})


def ranked_passages(first: str = "ha-tinh.txt") -> list[Passage]:
    """The test articles as a retriever ranks them for a question about ``first``."""
    passages = make_passages()
    return sorted(passages, key=lambda passage: passage.doc_id != first)


# What ingest records of each test article: the names it writes, as keys.
RECORDS = {
    doc_id: DocumentRecord(
        title=doc_id.removesuffix(".txt").replace("-", " ").title(),
        name_keys={name_key(name): ["LATIN"]},
    )
    for doc_id, name in (
        ("bac-ninh.txt", "Bac Ninh"), ("ha-tinh.txt", "Ha Tinh"), ("ninh-son.txt", "Ninh Son")
    )
}  # fmt: skip


def make_answerer(
    llm, language="en", settings=None, passages=None, records=None, detector=None
) -> Answerer:
    return Answerer(
        settings or LEXICAL_SETTINGS,
        retriever=ListRetriever(ranked_passages() if passages is None else passages),
        llm=llm,
        detector=detector or FixedDetector(language),
        **({"records": records.get} if records else {}),
    )


def user_prompt(llm: ScriptedLLM, call: int = -1) -> str:
    return llm.calls[call]["messages"][-1]["content"]


QUESTION = "How many proposals did Ha Tinh receive through dialogue conferences?"
# The evidence comes from the best document alone (Ha Tinh's), sent as passage [1].
GOOD_REPLY = "Ha Tinh received 18,087 proposals through dialogue conferences [1]."


def test_events_come_sources_first_progress_then_the_checked_answer_and_done_last():
    events = list(make_answerer(ScriptedLLM(GOOD_REPLY)).stream(QUESTION))
    kinds = [type(event) for event in events]
    assert kinds[0] is SourcesEvent and len(events[0].passages) == 3
    assert kinds[-2:] == [CitationsEvent, DoneEvent]
    # One when the evidence is read, a progress event per token written (so closing the
    # stream stops the model within a token), one when the check starts, then the checked
    # answer.
    progress = [e for e in events if isinstance(e, ProgressEvent)]
    words = len(GOOD_REPLY.split())
    assert kinds[1:-2] == [ProgressEvent] * (words + 3) + [TokenEvent]
    assert [(e.stage, e.tokens) for e in progress] == [
        ("reading", 0),
        *(("writing", n) for n in range(words + 1)),
        ("checking", 0),
    ]
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == GOOD_REPLY
    result = events[-1].result
    assert result.answer == GOOD_REPLY and not result.refused and result.error is None
    assert result.verified and events[-2].verified
    assert [(c.marker, c.doc_id, c.supported) for c in result.citations] == [
        (1, "ha-tinh.txt", True)
    ]
    assert 0 <= result.timings.ttft_s <= result.timings.total_s
    assert result.model == "scripted"


def test_ask_returns_the_public_json_shape():
    answer = make_answerer(ScriptedLLM(GOOD_REPLY)).ask(QUESTION)
    shape = json.loads(json.dumps(answer.to_dict()))
    assert set(shape) == {
        "question", "language", "answer", "refused", "verified", "citations", "passages",
        "model", "timings", "unsupported_numbers", "problems", "error", "key_fact",
    }  # fmt: skip
    assert set(shape["citations"][0]) == {
        "marker", "doc_id", "chunk_id", "title", "quote", "start", "end", "supported",
    }  # fmt: skip
    assert set(shape["timings"]) == {"retrieve_s", "ttft_s", "total_s", "key_fact_s", "stages"}


def test_prompt_names_the_answer_language_and_numbers_the_passages_under_their_article():
    llm = ScriptedLLM(GOOD_REPLY)
    settings = Settings(
        answer={
            "min_evidence": 0.13, "passage_max_sentences": 1, "evidence_scope": "mixed",
        }
    )  # fmt: skip
    make_answerer(llm, language="vi", settings=settings).ask(QUESTION)
    prompt = user_prompt(llm)
    assert "Vietnamese" in prompt.splitlines()[-1]  # the question's material comes last
    assert [int(n) for n in re.findall(r"^\[(\d+)\]", prompt, re.MULTILINE)] == [1, 2, 3]
    # Each article's passages come under one line naming it (here: its title).
    assert re.findall(r"^Article: (.*)$", prompt, re.MULTILINE) == [
        "Ninh Son", "Bac Ninh", "Ha Tinh"
    ]  # fmt: skip
    assert NO_ANSWER_TOKEN in prompt


def test_evidence_comes_from_the_best_document_alone_best_sentence_last():
    llm = ScriptedLLM(GOOD_REPLY)
    make_answerer(llm).ask(QUESTION)
    prompt = user_prompt(llm)
    assert re.findall(r"^Article: (.*)$", prompt, re.MULTILINE) == ["Ha Tinh"]
    assert "Bac Ninh" not in prompt and "Ninh Son" not in prompt
    assert "Ha Tinh received 18.087 proposals through dialogue conferences." in prompt


def test_a_question_naming_two_articles_reads_both():
    llm = ScriptedLLM("Ha Tinh received 18,087 proposals [2]; Bac Ninh held 1,269 dialogues [1].")
    answer = make_answerer(llm, records=RECORDS).ask(
        "Compare the proposals of Ha Tinh with the dialogues of Bac Ninh."
    )
    prompt = user_prompt(llm)
    assert set(re.findall(r"^Article: (.*)$", prompt, re.MULTILINE)) == {"Ha Tinh", "Bac Ninh"}
    assert "Ninh Son" not in prompt
    assert answer.verified, answer.problems


def test_language_option_overrides_the_detected_language():
    llm = ScriptedLLM(GOOD_REPLY)
    answer = make_answerer(llm, language="en").ask(QUESTION, language="de")
    assert answer.language == "de"
    assert "German" in user_prompt(llm, 0).splitlines()[-1]


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
    settings = Settings(
        answer={"passage_max_sentences": 2, "max_sentences": 3, "evidence_scope": "mixed"}
    )
    answerer = make_answerer(ScriptedLLM(GOOD_REPLY), settings=settings)
    question = "How many dialogues did leaders hold, and how many proposals did Ha Tinh receive?"
    evidence = answerer.planner.plan(question, make_passages())
    assert evidence.strength > 0.2
    # Ninh Son's passage has nothing on dialogues: it is not sent.
    assert {p.passage.doc_id for p in evidence.passages} == {"bac-ninh.txt", "ha-tinh.txt"}
    assert sum(len(p.sentences) for p in evidence.passages) == 3
    assert all(len(p.sentences) <= 2 for p in evidence.passages)
    [ha_tinh] = [p for p in evidence.passages if p.passage.doc_id == "ha-tinh.txt"]
    assert [span.text for span in ha_tinh.sentences] == [
        "Ha Tinh received 18.087 proposals through dialogue conferences.",
        "Leaders held 2.015 direct dialogues.",
    ]
    assert [p.number for p in evidence.passages] == [1, 2]


def test_long_sentences_are_cut_into_clauses_with_document_offsets():
    clause = "the provincial committee reviewed the work of the mass mobilisation board"
    text = f"{clause}, {clause}, {clause}, and then it received 18.087 proposals."
    passage = Passage("long.txt", "long.txt#0", "", "en", 1.0, 10, 10 + len(text), text)
    spans = passage_sentences(passage, 250)
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
def test_markers_alone_or_the_question_given_back_are_not_answers(reply):
    answer = make_answerer(ScriptedLLM(reply), language="vi").ask(QUESTION)
    assert not answer.refused and not answer.verified
    assert answer.answer.startswith(Prompts().not_verified("vi"))
    assert all(not citation.supported for citation in answer.citations)


def test_an_endpoint_that_continues_answers_gets_the_answer_started_in_the_language():
    llm = ScriptedLLM(" Ha Tinh erhielt 18.087 Vorschläge [1].", continues_answer=True)
    events = list(make_answerer(llm, language="de").stream(QUESTION))
    start = Prompts().answer_start("de")
    assert start and llm.calls[0]["messages"][-1] == {"role": "assistant", "content": start}
    result = events[-1].result
    assert result.answer == f"{start} Ha Tinh erhielt 18.087 Vorschläge [1]."
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == result.answer
    assert [(c.marker, c.supported) for c in result.citations] == [(1, True)]


@pytest.mark.parametrize("reply", [NO_ANSWER_TOKEN, ""])
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
    starts = {path.name for path in (bundled_prompts() / "answer_start").glob("*.txt")}
    assert starts == {path.name for path in (bundled_prompts() / "no_answer").glob("*.txt")}


def test_a_bare_number_is_an_answer():
    answer = make_answerer(ScriptedLLM("18.087 [1]")).ask(QUESTION)
    assert not answer.refused and answer.verified and answer.answer == "18.087 [1]"
    assert [(c.marker, c.supported) for c in answer.citations] == [(1, True)]


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


def test_a_follow_up_is_searched_with_the_previous_question_and_no_model_call():
    llm = ScriptedLLM("Bac Ninh held 1.269 dialogues [1].")
    answerer = make_answerer(llm)
    history = [
        {"role": "user", "content": "Who is the party secretary of Bac Ninh?"},
        {"role": "assistant", "content": "Nguyen Anh Tuan [1]."},
    ]
    answer = answerer.ask("And how many dialogues did they hold?", history=history)
    assert len(llm.calls) == 1  # the answer alone
    assert answerer.retriever.queries == [
        "Who is the party secretary of Bac Ninh? And how many dialogues did they hold?"
    ]
    prompt = user_prompt(llm)
    assert "Question: And how many dialogues did they hold?" in prompt
    assert "It follows the question: Who is the party secretary of Bac Ninh?" in prompt
    assert answer.verified and answer.citations[0].doc_id == "bac-ninh.txt"
    assert "follow_up" in answer.timings.stages


def test_follow_up_is_rewritten_by_the_model_before_retrieval_when_set_so():
    standalone = "How many dialogues did Bac Ninh hold?"
    llm = ScriptedLLM(standalone, "Bac Ninh held 1.269 dialogues [1].")
    settings = Settings(
        answer={"min_evidence": 0.13, "verify_unread": True, "follow_ups": "rewrite"}
    )
    answerer = make_answerer(llm, settings=settings)
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
    assert prompts.no_answer("de") == (bundled_prompts() / "no_answer/de.txt").read_text().strip()
    llm = ScriptedLLM(GOOD_REPLY)
    settings = Settings(answer={"prompts_dir": tmp_path})
    make_answerer(llm, settings=settings).ask(QUESTION)
    assert user_prompt(llm).endswith("In English!")
    assert llm.calls[0]["messages"][0]["content"] == prompts.system


def test_bundled_no_answer_messages_cover_the_required_languages():
    prompts = Prompts()
    english = prompts.no_answer("en")
    for language in REQUIRED_NO_ANSWER_LANGUAGES:
        assert (bundled_prompts() / "no_answer" / f"{language}.txt").is_file()
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
        settings = Settings(
            llm={"base_url": server.base_url, "retries": 1}, answer={"verify_unread": True}
        )
        answer = make_answerer(make_llm(settings), settings=settings).ask(QUESTION)
    assert answer.error is None and answer.answer == GOOD_REPLY


def test_failing_condense_reports_the_error_after_the_sources():
    class FailingLLM(ScriptedLLM):
        def stream_chat(self, messages, *, max_tokens=None, stop=None) -> Iterator[str]:
            raise LLMError("unavailable", "The model is not running.")
            yield  # a generator, like a real client

    history = [{"role": "user", "content": "Who leads Bac Ninh?"}]
    settings = Settings(
        answer={"min_evidence": 0.13, "verify_unread": True, "follow_ups": "rewrite"}
    )
    answerer = make_answerer(FailingLLM(GOOD_REPLY), settings=settings)
    events = list(answerer.stream("And Ha Tinh?", history=history))
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


def test_cli_ask_prints_the_checked_answer_then_its_citations(cli):
    result, _ = cli("Ha Tinh received 18,087 proposals [3].", "ask", QUESTION)
    assert result.exit_code == 0, result.output
    # The marker pointing at no passage sent was repaired before anything was printed.
    assert result.output.startswith("Ha Tinh received 18,087 proposals [1].\n")
    assert "[1] ha-tinh.txt" in result.output and "“Ha Tinh received 18.087" in result.output


def test_cli_ask_says_when_an_answer_could_not_be_verified(cli):
    result, _ = cli("Ha Tinh received 31 proposals [1].", "ask", QUESTION)
    assert result.exit_code == 0, result.output
    assert result.output.startswith(Prompts().not_verified("en"))
    assert "Closest evidence" in result.output and "not verified" in result.output


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
    assert "Retrieved passages:\n[1] ha-tinh.txt" in result.output


def test_cli_chat_asks_follow_ups_with_the_previous_question_until_cleared(cli):
    stdin = f"{QUESTION}\nAnd Bac Ninh?\n/clear\nAnd Bac Ninh?\n/exit\n"
    result, llm = cli(GOOD_REPLY, "chat", stdin=stdin)
    assert result.exit_code == 0, result.output
    assert "Conversation cleared." in result.output
    # The first question is answered alone, the follow-up with the question it follows,
    # and after /clear the same words are a new question again.
    prompts = [user_prompt(llm, n) for n in range(len(llm.calls))]
    assert len(prompts) == 3
    assert f"It follows the question: {QUESTION}" in prompts[1]
    assert "It follows the question" not in prompts[2]


# --- what the check lets through ------------------------------------------------------------


def test_an_answer_that_fails_its_check_is_replaced_by_the_closest_evidence():
    llm = ScriptedLLM("Ha Tinh received 2.024 proposals through dialogue conferences [1].")
    events = list(make_answerer(llm, language="de").stream(QUESTION))
    result = events[-1].result
    assert not result.verified and not result.refused and not events[-2].verified
    assert result.answer == Prompts().not_verified("de") + " [1] [2]"
    # Nothing of the rejected answer was streamed: the tokens are the reply itself.
    assert "".join(e.text for e in events if isinstance(e, TokenEvent)) == result.answer
    assert "numbers in no passage: 2.024" in result.problems
    assert [(c.marker, c.supported) for c in result.citations] == [(1, False), (2, False)]
    assert result.citations[0].quote == (
        "Ha Tinh received 18.087 proposals through dialogue conferences."
    )


@pytest.mark.parametrize(
    ("language", "reply"),
    [
        ("de", "Den Texten zufolge gibt es keine Informationen über Vorschläge [1]."),
        ("vi", "Theo các đoạn văn, không có thông tin về số kiến nghị [1]."),
        ("zh", "根据资料，文章中没有提到这个数字。"),
        ("ko", "The passages do not mention the number of proposals."),
    ],
)
def test_a_refusal_the_model_phrases_itself_is_a_refusal(language, reply):
    answer = make_answerer(ScriptedLLM(reply), language=language).ask(QUESTION)
    assert answer.refused and not answer.verified
    assert answer.answer == Prompts().no_answer(language)


def test_a_started_answer_given_back_as_the_question_is_not_verified_without_asking_again():
    start = Prompts().answer_start("vi")
    llm = ScriptedLLM(f" {QUESTION} [1]", "Hà Tĩnh nhận được 18.087 kiến nghị [1].")
    llm.continues_answer = True
    answer = make_answerer(llm, language="vi").ask(QUESTION)
    assert len(llm.calls) == 1  # no second round trip before anything is shown
    assert llm.calls[0]["messages"][-1]["content"] == start
    assert not answer.verified and not answer.refused
    assert answer.answer.startswith(Prompts().not_verified("vi"))


class GermanWordDetector(FixedDetector):
    """English, but for the German word of the passage below."""

    def detect(self, text: str) -> str:
        return "de" if text == "Vorschläge" else "en"


def answerer_over_a_german_word(llm: ScriptedLLM):
    """An answerer whose one passage, English but for one German word, is read by ``llm``."""
    german = Passage(
        "ha-tinh.txt", "ha-tinh.txt#0", "Ha Tinh", "de", 1.0, 0, 62,
        "Ha Tinh received 18.087 Vorschläge through dialogue conferences.",
    )  # fmt: skip
    return make_answerer(llm, passages=[german], detector=GermanWordDetector())


def test_source_language_words_in_an_answer_are_translated_by_the_model():
    llm = ScriptedLLM("Ha Tinh received 18.087 Vorschläge [1].", "proposals")
    answer = answerer_over_a_german_word(llm).ask(QUESTION)
    assert answer.verified and answer.answer == "Ha Tinh received 18.087 proposals [1]."
    assert "Vorschläge" in user_prompt(llm, 1) and "German" in user_prompt(llm, 1)


def test_a_source_word_the_model_cannot_translate_leaves_the_answer_not_verified():
    llm = ScriptedLLM("Ha Tinh received 18.087 Vorschläge [1].", "1. Vorschläge\n2. extra")
    answer = answerer_over_a_german_word(llm).ask(QUESTION)
    assert not answer.verified and "Vorschläge" not in answer.answer
    assert answer.problems == ["words of the source's language left untranslated: Vorschläge"]


def test_the_translation_is_what_is_checked_and_nothing_changes_it_afterwards():
    # The checks read the translated answer: a figure the translation dropped fails them.
    llm = ScriptedLLM("Ha Tinh received 18.087 Vorschläge [1].", "proposals")
    answer = answerer_over_a_german_word(llm).ask(QUESTION)
    assert answer.verified and "Vorschläge" not in answer.answer
    assert list(answer.timings.stages).index("language") < list(answer.timings.stages).index(
        "checks"
    )


@pytest.mark.parametrize("question", ["", "  \n ", "How many?\x00", "\x1b[31m?"])
def test_a_bad_question_raises_before_any_event(question):
    llm = ScriptedLLM(GOOD_REPLY)
    stream = make_answerer(llm).stream(question)
    with pytest.raises(InvalidQuestion):
        next(stream)
    assert llm.calls == []


def test_cli_ask_rejects_a_bad_question_with_exit_code_2(cli):
    result, llm = cli(GOOD_REPLY, "ask", "   ")
    assert result.exit_code == 2
    assert "Error: question: is empty or only whitespace" in result.output
    assert llm.calls == []


def test_closing_the_stream_stops_the_model_within_a_token():
    class CountingLLM(ScriptedLLM):
        produced = 0

        def stream_chat(self, messages, *, max_tokens=None, stop=None) -> Iterator[str]:
            for word in ["Ha", "Tinh", "received", "18,087", "proposals", "[1]."] * 50:
                CountingLLM.produced += 1
                yield f"{word} "

    events = make_answerer(CountingLLM()).stream(QUESTION)
    for event in events:
        if isinstance(event, ProgressEvent) and event.tokens == 3:
            events.close()  # what the server does when the client goes away
            break
    assert CountingLLM.produced == 3


# --- the two readers ------------------------------------------------------------------------


def reading_answerer(llm, settings=None, passages=None) -> Answerer:
    """An answerer with the extractive reader (a bag-of-words embedder stands in for e5)."""
    passages = ranked_passages() if passages is None else passages
    return Answerer(
        settings or LEXICAL_SETTINGS,
        retriever=ListRetriever(passages),
        llm=llm,
        detector=FixedDetector("en"),
        embedder=HashEmbedder(),
        passages=lambda doc_id: [p for p in passages if p.doc_id == doc_id],
    )


def test_the_key_fact_is_shown_before_the_model_writes_and_verified_by_agreement():
    events = list(reading_answerer(ScriptedLLM(GOOD_REPLY)).stream(QUESTION))
    [key_fact] = [e.key_fact for e in events if isinstance(e, KeyFactEvent)]
    first_writing = next(
        i for i, e in enumerate(events) if isinstance(e, ProgressEvent) and e.stage == "writing"
    )
    assert events.index(next(e for e in events if isinstance(e, KeyFactEvent))) < first_writing
    assert key_fact.text == "18.087" and key_fact.citation.doc_id == "ha-tinh.txt"
    result = events[-1].result
    assert result.verified and result.key_fact.status == "verified"
    assert result.key_fact.citation.supported  # its sentence backs the verified answer
    assert events[-2].key_fact.status == "verified"
    assert result.timings.key_fact_s <= result.timings.ttft_s
    assert list(result.timings.stages) == [
        "follow_up", "retrieve", "evidence", "extractive", "llm_reader", "language", "checks"
    ]  # fmt: skip


def test_readers_that_disagree_leave_the_answer_not_verified_quoting_both_sentences():
    llm = ScriptedLLM("Ha Tinh received 2.015 proposals through dialogue conferences [1].")
    result = reading_answerer(llm).ask(QUESTION)
    assert not result.verified and not result.refused
    assert any(p.startswith("the readers disagree: '2.015'") for p in result.problems)
    assert [c.quote for c in result.citations] == [
        "Ha Tinh received 18.087 proposals through dialogue conferences.",
        "Leaders held 2.015 direct dialogues.",
    ]
    assert result.key_fact.status == "not_verified"
    assert not result.key_fact.citation.supported
    assert len(llm.calls) == 1  # no tie-break by default


class MisreadingReader:
    """The extractive reader, with its two best candidates swapped: it reads 2.015."""

    def __init__(self, reader):
        self.reader = reader

    def run(self, *args, **kwargs):
        reading = self.reader.run(*args, **kwargs)
        reading.ranked[:2] = reading.ranked[1::-1]
        return reading


@pytest.mark.parametrize(("choice", "verified"), [("A", True), ("B", False), ("C", False)])
def test_a_tie_break_lets_the_model_choose_once_between_the_two_facts(choice, verified):
    llm = ScriptedLLM(GOOD_REPLY, choice)
    settings = Settings(answer={"min_evidence": 0.13, "verify_unread": True, "tie_break": True})
    answerer = reading_answerer(llm, settings)
    answerer.reader = MisreadingReader(answerer.reader)
    result = answerer.ask(QUESTION)
    # Shown in document order: A is the model's 18.087, B the reader's 2.015.
    prompt = user_prompt(llm, 1)
    assert prompt.index("A: 18.087") < prompt.index("B: 2.015") and QUESTION in prompt
    assert "Leaders held 2.015 direct dialogues." in prompt
    assert result.verified is verified and "tie_break" in result.timings.stages
    assert result.key_fact.text == "2.015" and result.key_fact.status == "not_verified"


def test_a_model_refusal_with_a_confident_reader_shows_the_reader_s_sentence_unverified():
    result = reading_answerer(ScriptedLLM(NO_ANSWER_TOKEN)).ask(QUESTION)
    assert not result.refused and not result.verified
    assert result.answer.startswith(Prompts().not_verified("en"))
    assert result.citations[0].quote == (
        "Ha Tinh received 18.087 proposals through dialogue conferences."
    )


def test_an_answer_that_states_no_fact_of_the_asked_kind_is_not_verified():
    llm = ScriptedLLM("Ha Tinh received many proposals through dialogue conferences [1].")
    result = reading_answerer(llm).ask(QUESTION)
    assert not result.verified
    assert "the answer states no count, which the question asks" in result.problems


def test_a_garbled_word_leaves_an_answer_not_verified():
    llm = ScriptedLLM("Ha Tinh received 18.087 proposalsпредложения through dialogues [1].")
    result = reading_answerer(llm).ask(QUESTION)
    assert not result.verified and "garbled words: proposalsпредложения" in result.problems


def test_without_a_second_reader_nothing_is_verified_unless_set_so():
    settings = Settings(answer={"min_evidence": 0.13})
    result = make_answerer(ScriptedLLM(GOOD_REPLY), settings=settings).ask(QUESTION)
    assert not result.verified and "no second reader could read this answer" in result.problems

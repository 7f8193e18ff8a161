"""Answering a question: condense a follow-up, retrieve, send the model the most relevant
sentences of the best document (``assistant.answering.evidence``), then check the whole answer
(``assistant.answering.checks``) before any of it is shown.

The stream always starts with the sources, so a user sees what was found even when the
model fails; failures end as an ErrorEvent, never as an exception. The answer's text comes
only once it is checked: a verified answer, a refusal, or a "not verified" reply quoting
the closest evidence. What is shown is what stays.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING

from assistant.answering.citations import EvidenceScorer, VerifiedAnswer, number_keys, without_markers
from assistant.answering.evidence import Evidence, EvidencePlanner, RecordLookup
from assistant.languages import normalize_language
from assistant.answering.leakage import leaked_words, replace_words
from assistant.llms import LLM, LLMError
from assistant.prompts import NO_ANSWER_TOKEN, Prompts
from assistant.questions import check_question
from assistant.settings import Settings
from assistant.types import (
    Answer,
    Citation,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    ProgressEvent,
    ProgressStage,
    SourcesEvent,
    TokenEvent,
)
from assistant.answering.checks import AnswerChecker, DocumentLookup, NameIndex
from ingest.interfaces import Embedder, LanguageDetector
from ingest.tokens import fold

if TYPE_CHECKING:  # retrieval imports the index backends; answering needs only the type
    from assistant.retrieval import Retriever


logger = logging.getLogger(__name__)

# A standalone question is one line; a short cap keeps a rambling rewrite from costing seconds.
CONDENSE_MAX_TOKENS = 64
QUESTION_END = re.compile(r"[?？؟]\s*$")
# Sentences quoted in a "not verified" reply: the closest evidence, not a reading list.
CLOSEST_EVIDENCE = 2
# A number read off a sentence, with its separators.
FIGURE_CHECK_TOKENS = 12
# A translated term is a few words.
TRANSLATION_TOKENS = 12
# List numbering, bullets and quotes a model puts around a translation.
TRANSLATION_LINE_NOISE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s*|[\"'“”„«»]")


class Answerer:
    def __init__(
        self,
        settings: Settings,
        *,
        retriever: Retriever,
        llm: LLM,
        detector: LanguageDetector,
        embedder: Embedder | None = None,
        records: RecordLookup = lambda doc_id: None,
        documents: DocumentLookup = lambda doc_id: None,
        names: NameIndex = lambda keys: {},
    ):
        """``records`` and ``documents`` look articles up by id, ``names`` gives the
        articles writing some name keys (``Assistant`` passes the index's): without them,
        passages are headed by their titles alone and the check cannot tell that an
        answer's article is about another place than the question."""
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.detector = detector
        self.prompts = Prompts(settings.answer.prompts_dir)
        self.scorer = EvidenceScorer(embedder)
        self.planner = EvidencePlanner(settings.answer, self.scorer, records)
        self.checker = AnswerChecker(self.scorer, documents, names)

    def ask(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        k: int | None = None,
    ) -> Answer:
        *_, done = self.stream(question, history=history, language=language, k=k)
        return done.result

    def stream(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        k: int | None = None,
    ) -> Iterator[Event]:
        """Events in the order ``assistant.types`` gives; an ErrorEvent after the sources
        when the model fails. Raises InvalidQuestion, before any event, for a question that
        is not text (``assistant.questions``). Closing the stream stops the model within a
        token: every token it writes is a ProgressEvent."""
        question = check_question(question, self.settings.server.max_question_chars)
        started = time.perf_counter()
        language = normalize_language(language or self.detect_language(question, history))
        answer = Answer(
            question=question, language=language, answer="", refused=False, model=self.llm.model
        )
        failure, query = None, question
        if history:
            try:
                query = yield from self.condense(question, history)
            except LLMError as error:
                failure = error  # reported after the sources, like any other model failure
        retrieve_started = time.perf_counter()
        answer.passages = self.retriever.retrieve(query, k or self.settings.answer.k)
        answer.timings.retrieve_s = time.perf_counter() - retrieve_started
        yield SourcesEvent(passages=answer.passages, language=language)
        try:
            if failure is not None:
                raise failure
            yield from self._answer(query, answer, started)
        except LLMError as error:
            answer.answer, answer.citations, answer.unsupported_numbers = "", [], []
            answer.error = error.message
            yield ErrorEvent(message=error.message, kind=error.kind)
        answer.timings.total_s = time.perf_counter() - started
        yield CitationsEvent(
            answer=answer.answer,
            citations=answer.citations,
            refused=answer.refused,
            unsupported_numbers=answer.unsupported_numbers,
            verified=answer.verified,
        )
        yield DoneEvent(result=answer)

    def detect_language(self, question: str, history: History | None) -> str:
        """The question's language; a follow-up too short to tell ("and 2023?") takes the
        language of the asker's last question."""
        language = self.detector.detect(question)
        earlier = [turn["content"] for turn in history or [] if turn.get("role") == "user"]
        if language == "und" and earlier:
            language = self.detector.detect(earlier[-1])
        return language

    def condense(self, question: str, history: History) -> Generator[ProgressEvent, None, str]:
        """Rewrite a follow-up into a standalone question, for retrieval and the prompt."""
        messages = self.prompts.condense_messages(question, history)
        reply = yield from self._read(messages, "condensing", max_tokens=CONDENSE_MAX_TOKENS)
        lines = [line.strip().strip("\"'“”«»") for line in reply.strip().splitlines()]
        standalone = next((line for line in lines if line), question)
        logger.info("Follow-up %r asked as %r", question, standalone)
        return standalone

    def _answer(self, query: str, answer: Answer, started: float) -> Iterator[Event]:
        evidence = self.planner.plan(query, answer.passages)
        if evidence.strength < self.settings.answer.min_evidence:
            yield from self._refuse(answer, started)
            return
        yield ProgressEvent("writing", passages=len(evidence.passages))
        start = self.prompts.answer_start(answer.language) if self.llm.continues_answer else ""
        raw = yield from self._generate(query, evidence, answer.language, start)
        continuation = raw.removeprefix(start)
        if start and continuation.strip() and not answers_anything(continuation):
            # A started answer continued with the question itself or bare markers (seen in
            # Vietnamese): asked again without the start, the model usually answers.
            logger.info("No answer in %r; asking again without its start", raw)
            raw = continuation = yield from self._generate(query, evidence, answer.language, "")
        if (
            not continuation.strip()  # a started answer left as it was: an abstention
            or NO_ANSWER_TOKEN in raw
            or self.prompts.is_refusal(raw, answer.language)
        ):
            logger.info("Refused by the model: %r", raw)
            yield from self._refuse(answer, started)
            return
        yield ProgressEvent("checking", passages=len(evidence.passages))
        if answers_anything(raw):
            verdict = self.checker.check(query, raw, evidence, answer.language)
            answer.problems = verdict.problems
            if verdict.verified and self.settings.answer.figure_check:
                answer.problems = yield from self._second_reading(query, verdict.checked)
        else:
            verdict, answer.problems = None, ["the model gave no answer, only the question"]
        if answer.problems:
            logger.info("Not verified (%s): %s", "; ".join(answer.problems), raw)
        if verdict is not None and not answer.problems:
            answer.verified = True
            answer.answer = yield from self._in_one_language(
                verdict.checked.text, query, evidence, answer
            )
            answer.citations = verdict.checked.citations
        else:
            self._not_verified(answer, evidence)
        mark_first_token(answer, started)
        yield TokenEvent(text=answer.answer)

    def _second_reading(
        self, query: str, checked: VerifiedAnswer
    ) -> Generator[ProgressEvent, None, list[str]]:
        """Whether the model, asked only which number of the cited sentences answers the
        question, names one of the answer's figures. Reading a figure off one sentence is
        another task than writing an answer, and the small model errs differently in each:
        on the dev half it disagreed with 2 of 4 wrong figures and no right one. The model
        is asked for one number, so only an answer stating one figure is read again: with
        a date and a number ("Decision 657 of 4 April 2018") it names either, or another."""
        figures = number_keys(without_markers(checked.text)) - number_keys(query)
        if len(figures) != 1:
            return []
        quoted = " ".join(dict.fromkeys(citation.quote for citation in checked.citations))
        messages = self.prompts.figure_check_messages(query, quoted)
        try:
            reply = yield from self._read(messages, "checking", max_tokens=FIGURE_CHECK_TOKENS)
        except LLMError as error:
            return [f"the figure could not be read again: {error.message}"]
        if number_keys(reply) & figures:
            return []
        return [f"read again, the cited sentence gives {reply.strip()!r}, not {sorted(figures)}"]

    def _in_one_language(
        self, text: str, query: str, evidence: Evidence, answer: Answer
    ) -> Generator[ProgressEvent, None, str]:
        """``text`` with the source-language words the model copied (``assistant.answering.leakage``)
        translated by the model, term by term; a term it cannot translate is quoted, so it
        reads as the source's word rather than the answer's."""
        leaks = leaked_words(text, query, evidence.passages, answer.language, self.detector)
        if not leaks:
            return text
        translations = {}
        for source in dict.fromkeys(language for _, language in leaks):
            terms = [word for word, language in leaks if language == source]
            translations |= yield from self._translate(terms, source, answer.language)
        untranslated = {word: f"“{word}”" for word, _ in leaks if word not in translations}
        logger.info("Source-language words %s translated as %s", leaks, translations)
        return replace_words(text, translations | untranslated)

    def _translate(
        self, terms: list[str], source: str, language: str
    ) -> Generator[ProgressEvent, None, dict[str, str]]:
        """The model's translations of ``terms``, each kept only if it is one line, not the
        term itself, and no other source-language term."""
        messages = self.prompts.translation_messages(terms, source, language)
        try:
            reply = yield from self._read(
                messages, "checking", max_tokens=TRANSLATION_TOKENS * len(terms)
            )
        except LLMError:
            return {}
        lines = [TRANSLATION_LINE_NOISE.sub("", line).strip() for line in reply.splitlines()]
        lines = [line for line in lines if line]
        if len(lines) != len(terms):
            return {}
        return {
            term: line
            for term, line in zip(terms, lines, strict=True)
            if fold(line) != fold(term) and fold(term) not in fold(line)
        }

    def _not_verified(self, answer: Answer, evidence: Evidence) -> None:
        """The reply for an answer that failed its check: says so in the asker's language
        and quotes the evidence sentences closest to the question, as citations that claim
        nothing (``supported`` false)."""
        quotes = evidence.closest(CLOSEST_EVIDENCE)
        answer.citations = [
            Citation(
                marker=marker,
                doc_id=passage.doc_id,
                chunk_id=passage.chunk_id,
                title=passage.title,
                quote=span.text,
                start=span.start,
                end=span.end,
                supported=False,
            )
            for marker, (passage, span) in enumerate(quotes, 1)
        ]
        markers = " ".join(f"[{marker}]" for marker in range(1, len(quotes) + 1))
        answer.answer = f"{self.prompts.not_verified(answer.language)} {markers}".strip()

    def _generate(
        self, query: str, evidence: Evidence, language: str, start: str
    ) -> Generator[ProgressEvent, None, str]:
        """The model's whole answer (``start`` and its continuation); generation stops at an
        abstention."""
        messages = self.prompts.answer_messages(query, evidence, language, start)
        generated = ""
        deltas = self._stream_answer(messages, started_answer=bool(start))
        for count, delta in enumerate(deltas, 1):
            generated += delta
            yield ProgressEvent("writing", passages=len(evidence.passages), tokens=count)
            if generated.lstrip().startswith(NO_ANSWER_TOKEN):
                break
        return start + generated

    def _read(
        self, messages: list[dict], stage: ProgressStage, max_tokens: int
    ) -> Generator[ProgressEvent, None, str]:
        """A short reply of the model, with a progress event per delta."""
        reply = ""
        for count, delta in enumerate(self.llm.stream_chat(messages, max_tokens=max_tokens), 1):
            reply += delta
            yield ProgressEvent(stage, tokens=count)
        return reply

    def _stream_answer(self, messages: list[dict], *, started_answer: bool) -> Iterator[str]:
        """The model's deltas. A model given the start of its answer that adds nothing to
        it has nothing to say: that is an abstention, not the error an empty reply is."""
        try:
            yield from self.llm.stream_chat(messages)
        except LLMError as error:
            if not (started_answer and error.kind == "bad_output" and error.empty):
                raise

    def _refuse(self, answer: Answer, started: float) -> Iterator[Event]:
        answer.refused = True
        answer.answer = self.prompts.no_answer(answer.language)
        mark_first_token(answer, started)
        yield TokenEvent(text=answer.answer)


def mark_first_token(answer: Answer, started: float) -> None:
    if answer.timings.ttft_s is None:
        answer.timings.ttft_s = time.perf_counter() - started


def answers_anything(text: str) -> bool:
    """Whether the model's text is an answer at all: a small model sometimes gives back
    nothing but markers ("[2]"), or the question itself."""
    body = without_markers(text)
    return any(char.isalnum() for char in body) and not QUESTION_END.search(body)

"""Answering a question: condense a follow-up, retrieve, send the model only the passages'
most relevant sentences, stream its answer, then check the answer's citations.

The stream always starts with the sources, so a user sees what was found even when the
model fails; failures end as an ErrorEvent, never as an exception.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from assistant.citations import (
    EvidenceScorer,
    PromptPassage,
    Span,
    passage_sentences,
    verify_answer,
    without_markers,
)
from assistant.languages import normalize_language
from assistant.llm import LLM, LLMError
from assistant.prompts import NO_ANSWER_TOKEN, Prompts
from assistant.types import (
    Answer,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    SourcesEvent,
    TokenEvent,
)
from ingest.interfaces import Embedder, LanguageDetector
from ingest.settings import Settings
from ingest.types import Passage

if TYPE_CHECKING:  # retrieval imports the index backends; answering needs only the type
    from assistant.retrieval import Retriever


# A standalone question is one line; a short cap keeps a rambling rewrite from costing seconds.
CONDENSE_MAX_TOKENS = 64
QUESTION_END = re.compile(r"[?？؟]\s*$")
# Sentence ranking for the prompt (cosine units), chosen on the gold set's dev half (odd ids)
# by how often the sentences sent hold the answer: a sentence of a lower-ranked passage
# needs to be this much more similar per rank (the retriever's fused ranking knows more
# than one sentence's embedding), and a sentence with a figure gets this bonus (news
# questions ask for figures, and e5 does not see them).
PASSAGE_RANK_PENALTY = 0.01
NUMBER_BONUS = 0.02
DIGIT = re.compile(r"\d")


class Answerer:
    def __init__(
        self,
        settings: Settings,
        *,
        retriever: Retriever,
        llm: LLM,
        detector: LanguageDetector,
        embedder: Embedder | None = None,
    ):
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.detector = detector
        self.prompts = Prompts(settings.answer.prompts_dir)
        self.scorer = EvidenceScorer(embedder)

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
        """SourcesEvent, TokenEvents, CitationsEvent, DoneEvent; an ErrorEvent after the
        sources (and any tokens) when the model fails."""
        started = time.perf_counter()
        language = normalize_language(language or self.detect_language(question, history))
        answer = Answer(
            question=question, language=language, answer="", refused=False, model=self.llm.model
        )
        failure, query = None, question
        if history:
            try:
                query = self.condense(question, history)
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

    def condense(self, question: str, history: History) -> str:
        """Rewrite a follow-up into a standalone question, for retrieval and the prompt."""
        reply = self.llm.complete_chat(
            self.prompts.condense_messages(question, history), max_tokens=CONDENSE_MAX_TOKENS
        )
        lines = [line.strip().strip("\"'“”«»") for line in reply.strip().splitlines()]
        return next((line for line in lines if line), question)

    def select_sentences(
        self, question: str, passages: Sequence[Passage]
    ) -> tuple[list[PromptPassage], float]:
        """The ``max_sentences`` sentences of all passages most relevant to the question,
        at most ``passage_max_sentences`` from one passage, grouped by passage in document
        order (a passage with none is not sent); and the best similarity found (0..1), the
        retrieval evidence that the passages bear on the question at all."""
        config = self.settings.answer
        spans = [(n, span) for n, p in enumerate(passages, 1) for span in passage_sentences(p)]
        texts = [span.text for _, span in spans]
        ranks = np.array([n for n, _ in spans])
        relatedness = self.scorer.relatedness([question], texts)
        relevance = (
            relatedness[0]
            - PASSAGE_RANK_PENALTY * (ranks - 1)
            + NUMBER_BONUS * np.array([bool(DIGIT.search(text)) for text in texts])
        )
        chosen: dict[int, list[Span]] = {}
        # Stable sort: among equally relevant sentences the earlier, usually the lead, wins.
        for index in np.argsort(-relevance, kind="stable"):
            number, span = spans[index]
            if len(chosen.get(number, [])) < config.passage_max_sentences:
                chosen.setdefault(number, []).append(span)
            if sum(map(len, chosen.values())) == config.max_sentences:
                break
        selected = [
            PromptPassage(n, passages[n - 1], sorted(chosen[n], key=lambda span: span.start))
            for n in sorted(chosen)
        ]
        # A number the passages lack does not make them off-topic ("... in 2019?"): the model
        # judges that, so the evidence is the similarity alone.
        evidence = self.scorer.similarity([question], texts, cosine=relatedness)
        return selected, float(evidence.max(initial=0.0))

    def _answer(self, query: str, answer: Answer, started: float) -> Iterator[Event]:
        sent, evidence = self.select_sentences(query, answer.passages)
        if evidence < self.settings.answer.min_evidence:
            yield from self._refuse(answer, started, streamed=False)
            return
        start = self.prompts.answer_start(answer.language) if self.llm.continues_answer else ""
        messages = self.prompts.answer_messages(query, sent, answer.language, start)
        generated, shown = "", 0
        for delta in self._stream_answer(messages, started_answer=bool(start)):
            generated += delta
            head = generated.lstrip()
            if head.startswith(NO_ANSWER_TOKEN):
                break  # an abstention: stop generating, nothing of it is shown
            # Text that could still become the no-answer token is held back.
            if shown or not NO_ANSWER_TOKEN.startswith(head):
                mark_first_token(answer, started)
                text = start + generated
                yield TokenEvent(text=text[shown:])
                shown = len(text)
        raw = start + generated
        if NO_ANSWER_TOKEN in generated or not answers_anything(generated):
            yield from self._refuse(answer, started, streamed=shown > 0)
            return
        if raw[shown:].strip():
            mark_first_token(answer, started)
            yield TokenEvent(text=raw[shown:])
        verified = verify_answer(raw, sent, self.scorer, answer.language)
        answer.answer = verified.text
        answer.citations = verified.citations
        answer.unsupported_numbers = verified.unsupported_numbers

    def _stream_answer(self, messages: list[dict], *, started_answer: bool) -> Iterator[str]:
        """The model's deltas. A model given the start of its answer that adds nothing to
        it has nothing to say: that is an abstention, not the error an empty reply is."""
        try:
            yield from self.llm.stream_chat(messages)
        except LLMError as error:
            if not (started_answer and error.kind == "bad_output" and error.empty):
                raise

    def _refuse(self, answer: Answer, started: float, *, streamed: bool) -> Iterator[Event]:
        answer.refused = True
        answer.answer = self.prompts.no_answer(answer.language)
        if not streamed:
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

"""Answering a question, as a pipeline of small typed stages, each timed
(``Timings.stages``):

    follow_up -> retrieve -> evidence -> extractive -> llm_reader -> language -> checks
    (-> tie_break)

* ``follow_ups``: a follow-up is joined with the previous question (or rewritten);
* the retriever finds passages, and the sources are shown at once;
* ``evidence``: the sentences the readers read, from as few documents as the question needs;
* ``extractive``: the key fact (a figure, date or name) read off those documents without
  the model, shown as a key fact card when the reader is confident;
* ``llm_reader``: the model's draft answer, from a few sentences, in the asker's language;
* ``one_language``: source-language words of the draft translated, before any check;
* ``checks``: the draft's citations repaired and its figures, names and places checked
  against the sentences it cites (``checks``), and compared with the extractive reader's
  key fact (``agreement``). Agreement verifies; a disagreement gets one tie-break
  (``tie_break``); otherwise the answer is "not verified" and quotes both readers'
  sentences.

The stream always starts with the sources, so a user sees what was found even when the
model fails; failures end as an ErrorEvent, never as an exception. The answer's text comes
only once it is checked: a verified answer, a refusal, or a "not verified" reply quoting
the evidence. What is shown is what stays.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from assistant.answering.agreement import Agreement, compare, facts_stated
from assistant.answering.candidates import mixed_script_words
from assistant.answering.checks import AnswerChecker, DocumentLookup, NameIndex
from assistant.answering.citations import cite
from assistant.answering.evidence import Evidence, EvidencePlanner, EvidenceScorer, RecordLookup
from assistant.answering.extractive import ExtractiveReader, PassageLookup, Reading
from assistant.answering.follow_ups import FollowUp, FollowUps
from assistant.answering.llm_reader import Draft, LLMReader
from assistant.answering.one_language import OneLanguage
from assistant.answering.tie_break import TieBreak
from assistant.languages import normalize_language
from assistant.llms import LLM, LLMError
from assistant.prompts import Prompts
from assistant.questions import check_question
from assistant.settings import Settings
from assistant.types import (
    Answer,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    KeyFactEvent,
    Passage,
    ProgressEvent,
    SourcesEvent,
    TokenEvent,
)
from ingest.interfaces import Embedder, LanguageDetector

if TYPE_CHECKING:  # retrieval imports the index backends; answering needs only the type
    from assistant.answering.citations import Span
    from assistant.retrieval import Retriever


logger = logging.getLogger(__name__)


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
        passages: PassageLookup | None = None,
    ):
        """``records`` and ``documents`` look articles up by id, ``names`` gives the
        articles writing some name keys, ``passages`` every passage of an article
        (``Assistant`` passes the index's): without them, passages are headed by their
        titles alone, the check cannot tell that an answer's article is about another
        place than the question, and the extractive reader reads the retrieved passages
        only. Without an embedder there is no extractive reader."""
        self.settings = settings
        self.retriever = retriever
        self.llm = llm
        self.detector = detector
        self.prompts = Prompts(settings.answer.prompts_dir)
        scorer = EvidenceScorer(embedder, settings.answer.checks)
        self.planner = EvidencePlanner(settings.answer, scorer, records)
        self.checker = AnswerChecker(scorer, documents, names, detector)
        self.reader = (
            ExtractiveReader(
                settings.answer.reader,
                embedder,
                self.prompts.folder("question_words"),
                self.prompts.folder("number_words"),
                passages,
                detector,
                self.prompts.folder("breakdown_words"),
                settings.answer.evidence.sentence_max_chars,
            )
            if embedder is not None
            else None
        )
        self.llm_reader = LLMReader(llm, self.prompts)
        self.follow_ups = FollowUps(settings.answer.follow_ups, self.llm_reader, self.prompts)
        self.one_language = OneLanguage(
            self.llm_reader, self.prompts, detector, settings.answer.checks.min_leaked_letters
        )
        self.tie_break = TieBreak(self.llm_reader, self.prompts)

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
        run = Run(answer, started)
        failure, asked = None, FollowUp(question, question)
        with run.timed("follow_up"):
            try:
                asked = yield from self.follow_ups.run(question, history)
            except LLMError as error:
                failure = error  # reported after the sources, like any other model failure
        with run.timed("retrieve"):
            answer.passages = self.retriever.retrieve(asked.query, k or self.settings.answer.k)
        answer.timings.retrieve_s = run.elapsed()
        yield SourcesEvent(passages=answer.passages, language=language)
        try:
            if failure is not None:
                raise failure
            yield from self._answer(asked, run)
        except LLMError as error:
            answer.answer, answer.citations, answer.unsupported_numbers = "", [], []
            answer.error = error.message
            yield ErrorEvent(message=error.message, kind=error.kind)
        if answer.key_fact is not None and answer.key_fact.status == "checking":
            answer.key_fact.status = "not_verified"
        answer.timings.total_s = run.elapsed()
        yield CitationsEvent(
            answer=answer.answer,
            citations=answer.citations,
            refused=answer.refused,
            unsupported_numbers=answer.unsupported_numbers,
            verified=answer.verified,
            key_fact=answer.key_fact,
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

    def _answer(self, asked: FollowUp, run: Run) -> Iterator[Event]:
        answer = run.answer
        with run.timed("evidence"):
            evidence = self.planner.plan(asked.query, answer.passages)
        if evidence.strength < self.settings.answer.min_evidence:
            yield from self._refuse(run)
            return
        yield ProgressEvent("reading", passages=len(evidence.passages))
        with run.timed("extractive"):
            reading = self._read(asked, answer.language, evidence)
        if reading.best is not None:
            logger.info(
                "Extractive reader: %r (%s, confidence %.2f)",
                reading.best.candidate.text,
                reading.kind,
                reading.confidence,
            )
            if reading.confidence >= self.settings.answer.key_fact_confidence:
                answer.key_fact = reading.key_fact()
                answer.timings.key_fact_s = run.elapsed()
                yield KeyFactEvent(answer.key_fact)
        sent = evidence.with_sentences(
            [
                (s.passage, s.span)
                for s in reading.ranked[: self.settings.answer.evidence.reader_sentences]
            ]
        )
        yield ProgressEvent("writing", passages=len(sent.passages))
        with run.timed("llm_reader"):
            draft = yield from self.llm_reader.run(
                asked.question, sent, answer.language, asked.earlier
            )
        if draft.refused:
            logger.info("Refused by the model: %r", draft.text)
            if answer.key_fact is not None:
                # The model found nothing, but the other reader did: its sentence is shown,
                # not as an answer, so the asker sees the likely answer's evidence.
                yield from self._not_verified(
                    run, sent, reading, None, ["the model found no answer"]
                )
            else:
                yield from self._refuse(run)
            return
        yield ProgressEvent("checking", passages=len(sent.passages))
        if not draft.answers:
            logger.info("No answer in %r", draft.text)
            problems = ["the model gave no answer, only the question"]
            yield from self._not_verified(run, sent, reading, None, problems)
            return
        problems, agreement, checked = yield from self._check(asked, draft, sent, reading, run)
        if problems:
            logger.info("Not verified (%s): %s", "; ".join(problems), draft.text)
            yield from self._not_verified(run, sent, reading, agreement, problems)
            return
        answer.verified = True
        answer.answer, answer.citations = checked.text, checked.citations
        answer.unsupported_numbers = checked.unsupported_numbers
        if answer.key_fact is not None:
            agreed = agreement.status == "agree"
            answer.key_fact.status = "verified" if agreed else "not_verified"
            answer.key_fact.citation.supported = agreed  # the verified answer states it
        run.first_token()
        yield TokenEvent(text=answer.answer)

    def _read(self, asked: FollowUp, language: str, evidence: Evidence) -> Reading:
        if self.reader is None:
            return Reading("other")
        return self.reader.run(
            asked.query,
            language,
            evidence,
            kind_question=asked.question,
            known=asked.known,
            earlier=asked.earlier,
        )

    def _check(
        self, asked: FollowUp, draft: Draft, sent: Evidence, reading: Reading, run: Run
    ) -> Generator[ProgressEvent, None, tuple[list[str], Agreement, object]]:
        """(problems, agreement, the checked answer): empty problems verify it."""
        language = run.answer.language
        with run.timed("language"):
            phrased = yield from self.one_language.run(
                draft.text, asked.question, sent.passages, language
            )
        with run.timed("checks"):
            verdict = self.checker.check(asked.query, phrased.text, sent, language)
            problems = list(verdict.problems)
            if phrased.untranslated:
                words = ", ".join(phrased.untranslated)
                problems.append(f"words of the source's language left untranslated: {words}")
            stated = facts_stated(
                verdict.checked.text,
                asked.known,
                reading,
                language,
                self.prompts.folder("number_words"),
                self.settings.answer.checks.min_name_letters,
            )
            garbled = mixed_script_words(verdict.checked.text)
            if garbled:
                problems.append(f"garbled words: {', '.join(garbled)}")
            agreement = compare(reading, stated)
        run.answer.problems = problems
        if agreement.status == "agree":
            return problems, agreement, verdict.checked
        if agreement.status == "unstated":
            problems.append(f"the answer states no {reading.kind}, which the question asks")
        elif agreement.status == "unread":
            if not self.settings.answer.verify_unread:
                problems.append("no second reader could read this answer")
        elif (
            not problems
            and self.settings.answer.tie_break
            and agreement.draft_fact is not None
            and reading.best is not None
        ):
            with run.timed("tie_break"):
                kept = yield from self.tie_break.run(
                    asked.question, agreement.draft_fact, reading.best
                )
            if not kept:
                problems.append(
                    f"the readers disagree: {agreement.draft_fact.candidate.text!r} or "
                    f"{reading.best.candidate.text!r}, and the model chose the reader's"
                )
        else:
            found = reading.best.candidate.text if reading.best else "nothing"
            stated_text = ", ".join(fact.text for fact in agreement.draft_facts)
            where = ""
            if agreement.draft_fact is not None and reading.best is not None:
                rank = reading.ranked.index(agreement.draft_fact) + 1
                lead = reading.best.score - agreement.draft_fact.score
                where = f" (the reader's candidate {rank}, {lead:.3f} behind)"
            problems.append(f"the readers disagree: {stated_text!r}{where} or {found!r}")
        return problems, agreement, verdict.checked

    def _not_verified(
        self,
        run: Run,
        evidence: Evidence,
        reading: Reading,
        agreement: Agreement | None,
        problems: list[str],
    ) -> Iterator[Event]:
        """The reply for an answer that was not verified: says so in the asker's language
        and quotes, as citations that claim nothing (``supported`` false), the sentence of
        the extractive reader's key fact and the one of the model's, when they disagree;
        else the evidence sentences closest to the question."""
        answer = run.answer
        answer.problems = problems
        quotes: list[tuple[Passage, Span]] = []
        if (
            reading.best is not None
            and reading.confidence >= self.settings.answer.key_fact_confidence
        ):
            quotes.append((reading.best.passage, reading.best.span))
        if agreement is not None and agreement.draft_fact is not None:
            quotes.append((agreement.draft_fact.passage, agreement.draft_fact.span))
        count = self.settings.answer.evidence.quotes
        for quote in evidence.closest(count):
            if len(quotes) >= count:
                break
            if quote[1] not in [span for _, span in quotes]:
                quotes.append(quote)
        quotes = list({span: (passage, span) for passage, span in quotes}.values())
        answer.citations = [
            cite(marker, passage, span, supported=False)
            for marker, (passage, span) in enumerate(quotes, 1)
        ]
        markers = " ".join(f"[{marker}]" for marker in range(1, len(quotes) + 1))
        answer.answer = f"{self.prompts.not_verified(answer.language)} {markers}".strip()
        run.first_token()
        yield TokenEvent(text=answer.answer)

    def _refuse(self, run: Run) -> Iterator[Event]:
        run.answer.refused = True
        run.answer.answer = self.prompts.no_answer(run.answer.language)
        run.first_token()
        yield TokenEvent(text=run.answer.answer)


class Run:
    """One question's answering under way: the answer built, and its clock."""

    def __init__(self, answer: Answer, started: float):
        self.answer = answer
        self.started = started

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def first_token(self) -> None:
        if self.answer.timings.ttft_s is None:
            self.answer.timings.ttft_s = self.elapsed()

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            stages = self.answer.timings.stages
            stages[stage] = stages.get(stage, 0.0) + time.perf_counter() - started

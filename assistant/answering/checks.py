"""What the model's draft must satisfy, beside the two readers' agreement
(``agreement``), to be shown as verified.

The 1.5B reader misreads even perfect evidence, so nothing it says about its sources is
trusted. After its citations are repaired (``citations.verify_answer``):

* every sentence cites a sentence it was sent, and the cited sentence supports it
  (numbers and wording, ``answer.checks.support_threshold``);
* every number of a sentence, other than the question's own, is written in the sentence
  it cites: a figure taken from elsewhere, or made up, fails;
* no other retrieved article names what the question asks about while the cited one does
  not ("Bac Ninh" in any script the keys of ``ingest.names`` match): an answer from
  another province's article fails;
* the question names no place that no article writes ("Thanh Hoa" asked, Ninh Son's
  article cited): a near miss;
* the cited documents write the question's numbers of two or more digits (years, days):
  an answer about another year fails.

Which figure of the cited sentence answers the question is the extractive reader's to
say (``extractive``): a check comparing the figures' clauses with the question, fitted to
two dev answers, changed no answer of the dev half once the readers had to agree, and
went. Anything else is a "not verified" reply, never an answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from assistant.answering.citations import (
    Claim,
    VerifiedAnswer,
    number_keys,
    number_keys_with_parts,
    significant,
    verify_answer,
)
from assistant.answering.evidence import Evidence, EvidenceScorer
from ingest.interfaces import LanguageDetector
from ingest.names import CASED_SCRIPTS, name_spans, script_of, span_keys
from ingest.tokens import tokenize
from ingest.types import Document

DocumentLookup = Callable[[str], Document | None]
# Languages that capitalise every noun, where a capital letter does not mark a name.
CAPITALISED_NOUN_LANGUAGES = frozenset({"de", "lb"})
QUOTED = re.compile(r"[\"“”„«»'‘’「」『』][^\"“”„«»'‘’「」『』]*[\"“”„«»'‘’「」『』]")
SENTENCE_START = re.compile(r"[.!?。！？]\s+")
NAME_WORD = re.compile(r"[^\W\d_][\w'’-]*")
# A name's ending in languages that inflect names ("Quang Ninhben", "Ha Tinh's").
INFLECTION_LETTERS = 3
KATAKANA_NAME = re.compile(r"[\u30a0-\u30ff]{3,}")
# The documents writing one of some name keys: keys -> {doc_id: {key: scripts}}.
NameIndex = Callable[[Collection[str]], dict[str, dict[str, set[str]]]]


@dataclass
class Verdict:
    checked: VerifiedAnswer
    problems: list[str] = field(default_factory=list)  # why it is not verified; empty if it is

    @property
    def verified(self) -> bool:
        return not self.problems


class AnswerChecker:
    def __init__(
        self,
        scorer: EvidenceScorer,
        documents: DocumentLookup,
        names: NameIndex,
        detector: LanguageDetector | None = None,
    ):
        self.scorer = scorer
        self.documents = documents
        self.names = names
        self.detector = detector

    def check(self, question: str, answer: str, evidence: Evidence, language: str) -> Verdict:
        checked = verify_answer(answer, evidence.passages, self.scorer, language, question)
        below = self.scorer.config.spelled_out_below
        problems = []
        if not checked.claims or any(not claim.citations for claim in checked.claims):
            problems.append("a sentence cites no passage that supports it")
        if any(not c.supported for c in checked.citations):
            problems.append("a cited passage does not support its sentence")
        asked_numbers = number_keys(question)
        unsupported = [
            written
            for written in checked.unsupported_numbers
            if any(
                significant(key, below) and key not in asked_numbers for key in number_keys(written)
            )
        ]
        if unsupported:
            problems.append(f"numbers in no passage: {', '.join(unsupported)}")
        for claim in checked.claims:
            figures = {n for n in number_keys(claim.text) - asked_numbers if significant(n, below)}
            cited = cited_sentences(claim, evidence)
            stray = figures - set().union(*map(number_keys_with_parts, cited))
            if stray:
                problems.append(f"numbers not in the cited passage: {', '.join(sorted(stray))}")
        cited_ids = list(dict.fromkeys(c.doc_id for c in checked.citations))
        cited = {doc: found for doc in cited_ids if (found := self.documents(doc)) is not None}
        if cited:
            asked = {key for span in name_spans(question) for key in span_keys(span.text)}
            written = self.names(asked)
            problems += misnamed(question, written, cited)
            problems += unknown_names(question, language, written, cited, self.detector)
            retrieved = {doc: self.documents(doc) for doc in evidence.retrieved}
            problems += misdated(question, retrieved, cited, below)
        return Verdict(checked, problems)


def cited_sentences(claim: Claim, evidence: Evidence) -> list[str]:
    """The sentences sent from the passages a claim cites: a model cites a passage, and
    may take a claim's figures from any of its sentences."""
    cited = {citation.marker for citation in claim.citations}
    return [
        span.text
        for passage in evidence.passages
        if passage.number in cited
        for span in passage.sentences
    ]


def misnamed(
    question: str, names: dict[str, dict[str, set[str]]], cited: dict[str, Document]
) -> list[str]:
    """Names of the question that the index's articles write, but no cited one: the answer
    comes from an article about another place or person. ``names`` holds the articles
    writing the question's name keys (or more), with those keys' scripts. A name is
    matched by its key (``ingest.names``); a name no article writes says nothing (it may
    be a phrase of the question's own language, "Skilled Mass Mobilisation"), nor does one
    too short to key.
    One capitalised Latin word is as likely a noun (German) as a name and is skipped, and a
    span of an uncased script counts as a name only where an article writes it in another
    script ("باك نينه" as "Bac Ninh"), since any of its words could form one."""
    problems = []
    # The cited articles' own keys, whatever the lookup left out.
    names = {**names, **{doc: d.record.keys() for doc, d in cited.items() if d.record}}
    cited_words = [f" {' '.join(tokenize(document.text))} " for document in cited.values()]
    for span in dict.fromkeys(name_spans(question)):
        if span.script == "LATIN" and " " not in span.text:
            continue
        cased = span.script in CASED_SCRIPTS
        writers = {
            doc
            for doc, keys in names.items()
            for key in span_keys(span.text)
            if key in keys and (cased or keys[key] - {span.script})
        }
        if not writers or writers & cited.keys():
            continue
        written = f" {' '.join(tokenize(span.text))} "
        if not any(written in words for words in cited_words):  # written once: not keyed
            problems.append(f"the question names {span.text}, the cited article does not")
    return problems


def unknown_names(
    question: str,
    language: str,
    names: dict[str, dict[str, set[str]]],
    cited: dict[str, Document],
    detector: LanguageDetector | None,
) -> list[str]:
    """Names the question asks about that no article writes, in any script: a question
    about "Thanh Hoa" answered from an article about Ninh Son is a near miss, not an
    answer. Only names that stand out are read: capitalised words inside a sentence of a
    language that capitalises names alone (not German), one or two of them, not quoted
    (a quoted phrase is a term of the question's language), and Katakana runs; and of
    those, only the ones the language detector does not take for words of the question's
    language ("Party Committee" in English), as a name of another country is not."""
    if language in CAPITALISED_NOUN_LANGUAGES or detector is None:
        return []
    known = {key for keys in names.values() for key in keys}
    cited_words = " ".join(f" {' '.join(tokenize(d.text))} " for d in cited.values())
    problems = []
    for span in standing_out_names(question):
        # Languages inflect names ("Quang Ninhben", "Ha Tinh's"): a few letters of the last
        # word may be an ending.
        forms = [span[: len(span) - cut] for cut in range(INFLECTION_LETTERS + 1)]
        keys = [key for form in forms for key in span_keys(form)]
        if not keys or any(key in known for key in keys) or detector.detect(span) == language:
            continue
        if any(f" {' '.join(tokenize(form))} " in cited_words for form in forms):
            continue
        problems.append(f"the question names {span}, which no article writes")
    return problems


def standing_out_names(question: str) -> list[str]:
    """Runs of one or two capitalised words inside the question's sentences, outside
    quotes, and Katakana runs."""
    unquoted = QUOTED.sub(" ", question)
    found = []
    for sentence in SENTENCE_START.split(unquoted):
        words = NAME_WORD.findall(sentence)
        run: list[str] = []
        for index, word in enumerate([*words, ""]):
            capital = word[:1].isupper() and index > 0 and script_of(word) in CASED_SCRIPTS
            if capital:
                run.append(word)
                continue
            if 1 <= len(run) <= 2:
                found.append(" ".join(run))
            run = []
        found += KATAKANA_NAME.findall(sentence)
    return found


def misdated(
    question: str,
    retrieved: dict[str, Document | None],
    cited: dict[str, Document],
    spelled_out_below: int,
) -> list[str]:
    """Numbers of the question (a day, a year; not small ones, which may be words) that
    another retrieved article writes and no cited one does."""
    written = set().union(*(number_keys_with_parts(d.text) for d in cited.values()))
    others = set().union(
        *(number_keys_with_parts(d.text) for doc, d in retrieved.items() if d and doc not in cited)
    )
    return [
        f"the question says {number}, the cited article does not"
        for number in sorted(number_keys(question))
        if significant(number, spelled_out_below) and number in others and number not in written
    ]

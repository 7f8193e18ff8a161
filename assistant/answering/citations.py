"""The check of an answer's citations against the sentences that were sent (scored by
``evidence.EvidenceScorer``), and the numbers and markers it reads.

A small model cites the wrong passage, invents markers, forgets them and copies numbers
from the wrong place, so nothing it says about its sources is trusted: every answer
sentence is scored against every sentence that was sent, and its markers are kept,
re-pointed, added or marked unsupported from that evidence alone. The check does not
depend on the model, so it works the same for strong ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from assistant.settings import CheckSettings
from assistant.types import Citation, Passage
from ingest.chunking import split_sentences
from ingest.names import CASED_SCRIPTS, name_spans, span_keys
from ingest.tokens import tokenize


class SentenceScorer(Protocol):
    """What the check of an answer needs of a scorer (``evidence.EvidenceScorer``)."""

    config: CheckSettings

    def scores(self, texts: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """(texts × sentences) evidence in 0..1."""
        ...


CLAUSE_BREAK = re.compile(r"[;；،,，、:：]\s*|\s[–—-]\s")

# "[1]", "[1, 2]", and the full-width brackets Chinese and Japanese answers use.
MARKER = re.compile(r"[\[【［]\s*(\d+(?:\s*[,;，、]\s*\d+)*)\s*[\]】］]")
MARKER_NUMBERS = re.compile(r"\d+")
LEADING_MARKERS = re.compile(rf"(?:\s*{MARKER.pattern})+")  # matched at a position
SPACE_BEFORE_PUNCTUATION = re.compile(r"[ \t]+(?=[.,;:!?。，；：！？])")
DOUBLE_SPACES = re.compile(r"[ \t]{2,}")
MARKERS_AFTER_STOP = re.compile(rf"[.!?。！？]\s*(?:{MARKER.pattern}\s*)+$")
SENTENCE_TAIL = re.compile(r"[\s.!?。！？…:;\"'”’»)）]*$")
# A number as written: thousands groups ("18 087", "18.087") or digits with decimal or
# date separators ("2,5", "3.6.2013"), the grammar of the BM25 tokeniser.
NUMBER_AS_WRITTEN = re.compile(r"\d{1,3}(?:[.,'’ \u00a0\u202f\u2009]\d{3})+(?!\d)|\d+(?:[.,]\d+)*")
WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Span:
    text: str
    start: int  # character offsets in the cleaned document
    end: int


@dataclass
class PromptPassage:
    """A retrieved passage as it was sent to the model: its marker number and the
    sentences kept, in document order."""

    number: int
    passage: Passage
    sentences: list[Span]


@dataclass
class Claim:
    """One sentence of a checked answer: its text without markers and the citations its
    markers point to (after repair)."""

    text: str
    citations: list[Citation]


@dataclass
class VerifiedAnswer:
    text: str
    citations: list[Citation]
    unsupported_numbers: list[str]
    claims: list[Claim] = field(default_factory=list)


def cite(marker: int, passage: Passage, span: Span, supported: bool) -> Citation:
    """The citation ``[marker]`` of a sentence (``span``) of ``passage``."""
    return Citation(
        marker=marker,
        doc_id=passage.doc_id,
        chunk_id=passage.chunk_id,
        title=passage.title,
        quote=span.text,
        start=span.start,
        end=span.end,
        supported=supported,
    )


def passage_sentences(passage: Passage, max_chars: int) -> list[Span]:
    """The passage's sentences with their offsets in the document, those longer than
    ``max_chars`` cut into clauses: a prompt pays for every token, and one clause usually
    holds the fact."""
    spans = [
        Span(passage.text[start:end], passage.start + start, passage.start + end)
        for sentence_start, sentence_end in split_sentences(passage.text, passage.language)
        for start, end in clauses(passage.text, sentence_start, sentence_end, max_chars)
        if WORD.search(passage.text[start:end])
    ]
    # A passage always has something to quote, even one the splitter finds no sentence in.
    return spans or [Span(passage.text, passage.start, passage.end)]


def clauses(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """``text[start:end]`` cut after clause punctuation into pieces of at most
    ``max_chars`` where it can be; a clause longer than that stays whole."""
    breaks = [match.end() for match in CLAUSE_BREAK.finditer(text, start, end)] + [end]
    pieces, piece_start, last_break = [], start, start
    for position in breaks:
        if position - piece_start > max_chars and last_break > piece_start:
            pieces.append((piece_start, piece_start + len(text[piece_start:last_break].rstrip())))
            piece_start = last_break
        last_break = position
    pieces.append((piece_start, end))
    return pieces


def is_number(token: str) -> bool:
    return token[:1].isdigit()


def number_keys(text: str) -> set[str]:
    """Digit-normalised numbers (18.087 = 18,087 = 18087), as the BM25 tokeniser sees them."""
    return {token for token in tokenize(text) if is_number(token)}


def number_keys_with_parts(text: str) -> set[str]:
    """Also the parts of dates and decimals, so "3 June 2013" is found in "3.6.2013"."""
    keys = number_keys(text)
    return keys | {part for key in keys for part in key.split(".")}


def marker_numbers(text: str) -> list[int]:
    return [int(n) for match in MARKER.finditer(text) for n in MARKER_NUMBERS.findall(match[1])]


def well_placed_markers(text: str) -> bool:
    """Markers written "[n]", none after the sentence's full stop."""
    canonical = all(match[0] == f"[{match[1]}]" for match in MARKER.finditer(text))
    return canonical and not MARKERS_AFTER_STOP.search(text)


def split_claims(answer: str, language: str) -> list[tuple[int, int]]:
    """The answer's sentences as (start, end). Markers opening a sentence ("... done. [2]
    Next") and sentences of nothing but markers belong to the sentence before."""
    claims: list[tuple[int, int]] = []
    for start, end in split_sentences(answer, language):
        leading = LEADING_MARKERS.match(answer, start, end)
        if leading and claims:
            claims[-1] = (claims[-1][0], leading.end())
            if not WORD.search(MARKER.sub("", answer[leading.end() : end])):
                claims[-1] = (claims[-1][0], end)
                continue
            start = leading.end()
        claims.append((start, end))
    return claims


def without_markers(text: str) -> str:
    text = SPACE_BEFORE_PUNCTUATION.sub("", MARKER.sub(" ", text))
    return DOUBLE_SPACES.sub(" ", text).strip()


def with_markers(text: str, markers: Sequence[int]) -> str:
    """``text`` with its markers removed and ``markers`` placed before its final punctuation."""
    body = without_markers(text)
    if markers:
        tail = SENTENCE_TAIL.search(body).start()
        body = body[:tail] + " " + "".join(f"[{n}]" for n in markers) + body[tail:]
    # The whitespace around the sentence separates it from its neighbours: keep it.
    leading, trailing = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
    return leading + body + trailing


def unsupported_numbers(answer: str, passages: Sequence[Passage]) -> list[str]:
    """Numbers of the answer (as written) that no passage holds, compared digit-normalised."""
    known = set().union(*(number_keys_with_parts(p.text) for p in passages))
    found = []
    for written in NUMBER_AS_WRITTEN.findall(MARKER.sub(" ", answer)):
        if not number_keys(written) <= known and written not in found:
            found.append(written)
    return found


def significant(number: str, spelled_out_below: int) -> bool:
    """Whether a number must be found as digits: below ``spelled_out_below`` a source may
    write it as a word ("drei", "fünf")."""
    try:
        return float(number) >= spelled_out_below
    except ValueError:  # a date or a code ("3.6.2013")
        return True


def anchors(text: str, question: str, spelled_out_below: int) -> set[str]:
    """What a claim states that its source must write, beyond the question: its figures
    (``significant`` ones) and its names of several capitalised words, each as its folded
    words (matched within a script) and its key (matched across scripts, ``ingest.names``)."""
    figures = {
        n for n in number_keys(text) - number_keys(question) if significant(n, spelled_out_below)
    }
    asked = name_anchors(question)
    return {f"#{n}" for n in figures} | {
        anchor
        for span in name_spans(text)
        if span.script in CASED_SCRIPTS and " " in span.text
        for anchor in name_anchors(span.text, whole=True)
    } - asked


def name_anchors(text: str, *, whole: bool = False) -> set[str]:
    """The names of ``text`` (or ``text`` itself, ``whole``) as folded words and as keys."""
    spans = [text] if whole else [span.text for span in name_spans(text)]
    found = {f"={' '.join(tokenize(span))}" for span in spans}
    return found | {f"@{key}" for span in spans for key in span_keys(span)}


def anchors_in(text: str) -> set[str]:
    """Every figure and name ``text`` writes, in the form of ``anchors``."""
    return {f"#{n}" for n in number_keys_with_parts(text)} | name_anchors(text)


def verify_answer(
    answer: str,
    sent: Sequence[PromptPassage],
    scorer: SentenceScorer,
    language: str,
    question: str = "",
) -> VerifiedAnswer:
    """Check every marker of ``answer`` against the passages that were ``sent``: markers
    pointing at no sent passage are removed; each sentence keeps the cited passages that
    support it, else is re-pointed to the passage that does, else keeps its markers marked
    unsupported; a supported sentence without a marker gets one. Markers come out as "[n]".

    A sentence's figures and names (``anchors``) are the surest evidence across languages:
    a passage writing them supports it, and a sentence citing a passage that writes none of
    them is re-pointed to the one writing the most (small models cite the wrong number)."""
    by_number = {p.number: p for p in sent}
    written_by = {p.number: anchors_in(" ".join(span.text for span in p.sentences)) for p in sent}
    spans = [(p.number, span) for p in sent for span in p.sentences]
    claims = split_claims(answer, language)
    scores = scorer.scores(
        [without_markers(answer[start:end]) for start, end in claims], [s.text for _, s in spans]
    )
    pieces, citations, checked, cursor = [], [], [], 0
    for (start, end), row in zip(claims, scores, strict=True):
        best: dict[int, tuple[float, Span]] = {}
        for (number, span), score in zip(spans, row, strict=True):
            if number not in best or score > best[number][0]:
                best[number] = (float(score), span)
        text = answer[start:end]
        written = marker_numbers(text)
        cited = [n for n in dict.fromkeys(written) if n in by_number]
        threshold = scorer.config.support_threshold
        supporting = {n for n, (score, _) in best.items() if score >= threshold}
        claimed = anchors(without_markers(text), question, scorer.config.spelled_out_below)
        figures = {anchor for anchor in claimed if anchor.startswith("#")}
        holding = {n: len(claimed & found) for n, found in written_by.items()}
        # A passage writing one of the sentence's figures (a comparison takes each from its
        # own passage), or, for a sentence without figures, one of its names.
        supporting |= {n for n, found in written_by.items() if found & (figures or claimed)}
        markers = [n for n in cited if n in supporting]
        covered = sum(len(claimed & written_by[n]) for n in markers)
        if claimed and max(holding.values(), default=0) > covered:
            # The cited passages write fewer of the sentence's figures and names than
            # another one: the model gave the wrong number.
            markers = [max(holding, key=lambda n: (holding[n], best[n][0]))]
        if not markers and supporting:
            markers = [max(supporting, key=lambda n: best[n][0])]
        if not markers:
            markers = cited
        if markers != written or not well_placed_markers(text):
            text = with_markers(text, markers)
        pieces += [answer[cursor:start], text]
        cursor = end
        claim = Claim(without_markers(text), [])
        for number in markers:
            claim.citations.append(
                cite(number, by_number[number].passage, best[number][1], number in supporting)
            )
        citations += claim.citations
        checked.append(claim)
    pieces.append(answer[cursor:])
    text = "".join(pieces).strip()
    return VerifiedAnswer(
        text=text,
        citations=list({(c.marker, c.start, c.end): c for c in citations}.values()),
        unsupported_numbers=unsupported_numbers(text, [p.passage for p in sent]),
        claims=checked,
    )

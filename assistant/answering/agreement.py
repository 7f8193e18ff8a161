"""Whether the two readers agree on the key fact: the figure, date or name the question
asks for, as the model's draft states it and as the extractive reader read it.

Two readers whose errors are independent rarely name the same wrong fact, so agreement
is what verifies an answer. The draft's facts are found with the same candidates the
extractive reader reads (``candidates``), in the draft's own text, and compared on their
keys: digits for a figure ("18.087" = "18,087"), day and month (and year) for a date
with the month named in any language, phonetic keys for a name in any script ("Hoàng
Trung Dũng" = "هوانج ترونج دونج"); a name of several words agrees when its words' keys
run inside the other's ("Nguyễn Anh Tuấn" in "Genosse Nguyen Anh Tuan").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from assistant.answering.candidates import Candidate, candidates_in, script_runs
from assistant.answering.citations import without_markers
from assistant.answering.extractive import KIND_OF_ROLE, ROLES, Reading, ScoredCandidate
from ingest.names import name_key, script_of
from ingest.tokens import fold

# agree: the draft states the reader's best candidate. disagree: it states another fact
# of the asked kind (``draft_fact``). unstated: it states none (a period asked, no figure
# given). unread: the reader had no candidate (a kind it does not read, or none found).
Status = Literal["agree", "disagree", "unstated", "unread"]


@dataclass
class Agreement:
    status: Status
    draft_facts: list[Candidate] = field(default_factory=list)
    # The reader's candidate the draft states when it disagrees, if the draft's fact is one.
    draft_fact: ScoredCandidate | None = None


def facts_stated(
    answer: str,
    known: str,
    reading: Reading,
    language: str,
    number_words_dir: Path,
    min_name_letters: int,
) -> list[Candidate]:
    """The figures, dates or names of the asked kind that ``answer`` states beyond what
    ``known`` (the question, the conversation before it) says. Names of scripts without
    capitals cannot be told from other words in an answer, so names are the reader's
    candidates the answer writes (in any script)."""
    if reading.kind not in ROLES:
        return []
    text = without_markers(answer)
    if reading.kind in ("person", "place"):
        found = {}
        for scored in reading.ranked:
            name = scored.candidate
            if name.text not in found and name_written(name.text, text, min_name_letters):
                found[name.text] = name
        return [
            name for name in found.values() if not name_written(name.text, known, min_name_letters)
        ]
    wanted, admitted = ROLES[reading.kind]
    roles = wanted | admitted
    kinds = sorted({KIND_OF_ROLE[role] for role in roles})
    said = {
        key
        for candidate in candidates_in(known, language, kinds, number_words_dir)
        for key in candidate.keys
    }
    return [
        candidate
        for candidate in candidates_in(text, language, kinds, number_words_dir)
        if candidate.role in roles and not candidate.keys <= said
    ]


def name_written(name: str, text: str, min_letters: int) -> bool:
    """Whether ``text`` writes the name, in any script (``names_match`` on its words)."""
    return names_match(name, " ".join(run[0] for run in script_runs(text)), min_letters)


def same_fact(stated: Candidate, read: Candidate) -> bool:
    """Whether a fact the draft states is the one a candidate of the reader holds (names:
    the reader's own candidates, ``facts_stated``)."""
    if stated.kind == "name" or read.kind == "name":
        return stated.text == read.text
    if read.kind == "date" and stated.kind == "date":
        return read.keys <= stated.keys or (
            # A draft's "25 August" agrees with "25 August 2023": day and month both said.
            {k for k in read.keys if k[0] in "dm"} <= stated.keys
            and any(k[0] == "d" for k in stated.keys)
        )
    return bool(read.keys & stated.keys)


def words_match(first: str, second: str) -> bool:
    """Two words of a name are one: the same folded word in one script, the same phonetic
    key (``ingest.names``) across scripts."""
    if script_of(first) == script_of(second):
        return fold(first) == fold(second)
    return name_key(first) == name_key(second) != ""


def names_match(first: str, second: str, min_letters: int) -> bool:
    """Whether two names (any scripts) are one: they share a run of at least two words
    (titles around them differ: "Genosse Nguyen Anh Tuan", "Comrade Nguyễn Anh Tuấn"),
    whose keys have ``min_letters`` letters or more, enough to tell names apart across
    scripts ("Anh" alone keys "n"); a name of one word must be the other's one word."""
    a, b = first.split(), second.split()
    if len(a) == 1 or len(b) == 1:
        return len(a) == len(b) and words_match(a[0], b[0])
    for i in range(len(a) - 1):
        for j in range(len(b) - 1):
            length = 0
            while i + length < len(a) and j + length < len(b):
                if not words_match(a[i + length], b[j + length]):
                    break
                length += 1
            run = a[i : i + length]
            if length >= 2 and sum(len(name_key(w)) for w in run) >= min_letters:
                return True
    return False


def compare(reading: Reading, stated: Sequence[Candidate]) -> Agreement:
    """How the draft's ``stated`` facts stand to the reader's reading."""
    best = reading.best
    if best is None:
        return Agreement("unread", list(stated))
    if not stated:
        return Agreement("unstated")
    if any(same_fact(fact, best.candidate) for fact in stated):
        return Agreement("agree", list(stated))
    draft_fact = next(
        (
            scored
            for scored in reading.ranked
            if any(same_fact(fact, scored.candidate) for fact in stated)
        ),
        None,
    )
    return Agreement("disagree", list(stated), draft_fact)

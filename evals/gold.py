"""The gold question set: JSON Lines, one question an object.

A file with any bad line is rejected as a whole, before anything runs: every problem is
reported as ``FILE:LINE: what is wrong``, so one pass fixes them all, and no figure is ever
computed over a silently shortened set.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

REQUIRED_FIELDS = ("id", "language", "question", "answer", "must_include", "sources", "answerable")
OPTIONAL_FIELDS = ("history", "type", "split")
HISTORY_ROLES = ("user", "assistant")


@dataclass(frozen=True)
class GoldItem:
    id: str
    language: str
    question: str
    answer: str
    must_include: list[list[str]]  # every group must match; a group matches on any alternative
    sources: list[str]  # doc ids; the extension is optional
    answerable: bool
    history: list[dict] = field(default_factory=list)
    type: str = ""
    split: str = ""  # "frozen" for the frozen batch; otherwise taken from the id (split_of)

    def __post_init__(self) -> None:
        if not self.type:
            object.__setattr__(self, "type", "fact" if self.answerable else "unanswerable")


class GoldError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def load_gold(path: Path) -> list[GoldItem]:
    """Parse and validate the whole file; raise GoldError listing every bad line."""
    items: list[GoldItem] = []
    problems: list[str] = []
    first_line_of_id: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"{path}:{number}: not valid JSON ({error.msg})")
            continue
        line_problems = record_problems(record)
        if not line_problems and record["id"] in first_line_of_id:
            first = first_line_of_id[record["id"]]
            line_problems = [f"duplicate id {record['id']!r} (first on line {first})"]
        if line_problems:
            problems.extend(f"{path}:{number}: {problem}" for problem in line_problems)
            continue
        first_line_of_id[record["id"]] = number
        items.append(GoldItem(**record))
    if problems:
        raise GoldError(problems)
    return items


def record_problems(record: object) -> list[str]:
    if not isinstance(record, dict):
        return ["expected a JSON object"]
    problems = []
    unknown = [name for name in record if name not in REQUIRED_FIELDS + OPTIONAL_FIELDS]
    if unknown:
        problems.append("unknown field " + ", ".join(repr(name) for name in unknown))
    missing = [name for name in REQUIRED_FIELDS if name not in record]
    if missing:
        problems.append("missing field " + ", ".join(repr(name) for name in missing))
    checks = {
        "id": _is_text,
        "language": _is_text,
        "question": _is_text,
        "answer": lambda value: isinstance(value, str),
        "must_include": _is_groups,
        "sources": lambda value: isinstance(value, list) and all(map(_is_text, value)),
        "answerable": lambda value: isinstance(value, bool),
        "history": _is_history,
        "type": _is_text,
        "split": lambda value: value in EXPLICIT_SPLITS,
    }
    problems.extend(
        f"bad value of {name!r}: {record[name]!r}"
        for name, check in checks.items()
        if name in record and not check(record[name])
    )
    return problems


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_groups(value: object) -> bool:
    # An empty group could never match, so it is a mistake, not a wildcard.
    return isinstance(value, list) and all(
        isinstance(group, list) and group and all(map(_is_text, group)) for group in value
    )


def _is_history(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(turn, dict)
        and set(turn) == {"role", "content"}
        and turn["role"] in HISTORY_ROLES
        and isinstance(turn["content"], str)
        for turn in value
    )


# The first 80 questions are split once, by question id, so a parameter chosen on numbers
# can be checked on questions that played no part in choosing it. The frozen batch was
# written before the answering pipeline of issue 17 was built, by someone who did not build
# it, and is reported as a third column: a check fitted to the first 80 questions shows
# there before users meet it.
TRAILING_NUMBER = re.compile(r"\d+$")
SPLITS = {
    "dev": "questions with an odd numeric id; parameters are chosen on these",
    "held_out": "questions with an even numeric id; never used to choose anything",
    "frozen": "a batch written before the answering pipeline it measures; chooses nothing",
}
EXPLICIT_SPLITS = ("frozen",)  # a record names these; dev and held_out come from its id


def split_of(item: GoldItem) -> str:
    """The record's own split, else by the number ending the id ("q07" -> dev); an id
    without one is held out."""
    return item.split or split_of_id(item.id)


def split_of_id(question_id: str) -> str:
    """The split an id without an explicit one falls in: dev when the number ending it is
    odd, else held out."""
    number = TRAILING_NUMBER.search(question_id)
    return "dev" if number and int(number[0]) % 2 else "held_out"

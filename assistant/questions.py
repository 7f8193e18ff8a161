"""What counts as a question. Every way in (the HTTP API, the OpenAI-compatible endpoint,
the chat, the CLI, ``Assistant.ask``) applies the same rules, so no path answers a
question another path rejects: a model handed whitespace or control bytes still writes
an answer, and that answer is invented."""

from __future__ import annotations

import unicodedata
from typing import Literal

# Line breaks and tabs are how people paste questions; every other control character
# (NUL, escape sequences, C1 controls) and lone surrogates are not text.
ALLOWED_CONTROLS = frozenset("\t\n\r")
REJECTED_CATEGORIES = frozenset({"Cc", "Cs"})

Problem = Literal["not_text", "blank", "control_character", "too_long"]


class InvalidQuestion(ValueError):
    """The question cannot be answered as given; the message says why and what to do.
    ``problem`` and its ``details`` say the same to a caller that words it for its reader
    in another language (the chat: its catalogue's ``question_<problem>``)."""

    def __init__(self, problem: Problem, message: str, field: str = "question", **details: object):
        super().__init__(f"{field}: {message}")
        self.problem, self.details = problem, details
        self.field = field
        self.message = message


def check_question(question: object, max_chars: int, field: str = "question") -> str:
    """``question`` stripped of surrounding whitespace; raises InvalidQuestion when it is
    not text, empty, only whitespace, longer than ``max_chars`` or holds control
    characters."""
    if not isinstance(question, str):
        raise InvalidQuestion("not_text", "must be text.", field)
    stripped = question.strip()
    if not stripped:
        raise InvalidQuestion(
            "blank", "is empty or only whitespace; ask a question in words.", field
        )
    bad = control_character(stripped)
    if bad is not None:
        code = f"{ord(bad):04X}"
        raise InvalidQuestion(
            "control_character",
            f"holds the control character U+{code}; send plain text.",
            field,
            code=code,
        )
    if len(stripped) > max_chars:
        raise InvalidQuestion(
            "too_long",
            f"is {len(stripped)} characters long; the limit is {max_chars}. Ask it shorter.",
            field,
            length=len(stripped),
            limit=max_chars,
        )
    return stripped


def control_character(text: str) -> str | None:
    """The first character of ``text`` that is not text (a control character other than a
    line break or tab, or a lone surrogate), None when there is none."""
    return next(
        (
            char
            for char in text
            if char not in ALLOWED_CONTROLS and unicodedata.category(char) in REJECTED_CATEGORIES
        ),
        None,
    )

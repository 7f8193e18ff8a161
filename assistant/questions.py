"""What counts as a question. Every way in (the HTTP API, the OpenAI-compatible endpoint,
the chat, the CLI, ``Assistant.ask``) applies the same rules, so no path answers a
question another path rejects: a model handed whitespace or control bytes still writes
an answer, and that answer is invented."""

from __future__ import annotations

import unicodedata

# Line breaks and tabs are how people paste questions; every other control character
# (NUL, escape sequences, C1 controls) and lone surrogates are not text.
ALLOWED_CONTROLS = frozenset("\t\n\r")
REJECTED_CATEGORIES = frozenset({"Cc", "Cs"})


class InvalidQuestion(ValueError):
    """The question cannot be answered as given; the message says why and what to do."""

    def __init__(self, message: str, field: str = "question"):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def check_question(question: object, max_chars: int, field: str = "question") -> str:
    """``question`` stripped of surrounding whitespace; raises InvalidQuestion when it is
    not text, empty, only whitespace, longer than ``max_chars`` or holds control
    characters."""
    if not isinstance(question, str):
        raise InvalidQuestion("must be text.", field)
    stripped = question.strip()
    if not stripped:
        raise InvalidQuestion("is empty or only whitespace; ask a question in words.", field)
    bad = control_character(stripped)
    if bad is not None:
        raise InvalidQuestion(
            f"holds the control character U+{ord(bad):04X}; send plain text.", field
        )
    if len(stripped) > max_chars:
        raise InvalidQuestion(
            f"is {len(stripped)} characters long; the limit is {max_chars}. Ask it shorter.",
            field,
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

"""The chat's words in its reader's language: one catalogue per language,
``prompts/ui/<code>.json`` (package data), whose ``dir`` key is the language's writing
direction. A language is chosen from the browser's ``Accept-Language`` until a question is
asked, then follows the question's language; a catalogue's missing strings, and a language
with no catalogue, fall back to English."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

from assistant.languages import DEFAULT_LANGUAGE

# One range of an Accept-Language header: "vi-VN", "ar;q=0.8", "*;q=0.1".
ACCEPTED_RANGE = re.compile(r"\s*([A-Za-z]{1,8}|\*)(?:-[A-Za-z0-9]{1,8})*\s*(?:;\s*q=([\d.]+))?\s*")


def _catalogue_dir():
    return resources.files("prompts") / "ui"


@cache
def ui_languages() -> frozenset[str]:
    """The languages with a catalogue."""
    return frozenset(
        entry.name.removesuffix(".json")
        for entry in _catalogue_dir().iterdir()
        if entry.name.endswith(".json")
    )


@cache
def ui_text(language: str) -> dict[str, str]:
    """The chat's strings in ``language``, English where its catalogue lacks one."""

    def read(code: str) -> dict[str, str]:
        return json.loads((_catalogue_dir() / f"{code}.json").read_text(encoding="utf-8"))

    english = read(DEFAULT_LANGUAGE)
    return english | read(language) if language in ui_languages() else english


def accepted_language(header: str | None) -> str:
    """The language of the chat for an ``Accept-Language`` header: its most preferred
    language with a catalogue, English when none has one."""
    ranked = []
    for position, part in enumerate((header or "").split(",")):
        match = ACCEPTED_RANGE.fullmatch(part)
        if not match:
            continue
        try:
            quality = float(match.group(2) or 1)
        except ValueError:
            continue
        ranked.append((-quality, position, match.group(1).lower()))
    for quality, _, language in sorted(ranked):
        if quality < 0 and language in ui_languages():
            return language
    return DEFAULT_LANGUAGE


def chat_language(question_language: str | None, accepted: str) -> str:
    """The last question's language when the chat has its words, else ``accepted``."""
    return question_language if question_language in ui_languages() else accepted

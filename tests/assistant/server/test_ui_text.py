"""The chat's string catalogues (prompts/ui/<code>.json) and how a language is chosen."""

from __future__ import annotations

import json
import string
from importlib import resources

import pytest

from assistant.server.ui_text import accepted_language, chat_language, ui_languages, ui_text

PROMPTS = resources.files("prompts")
# The languages the answers are written in: the chat speaks each of them.
ANSWER_LANGUAGES = {
    entry.name.removesuffix(".txt")
    for entry in (PROMPTS / "answer_start").iterdir()
    if entry.name.endswith(".txt")
}


def catalogue(language: str) -> dict[str, str]:
    """The catalogue file as written, without ui_text's English fallback."""
    return json.loads((PROMPTS / "ui" / f"{language}.json").read_text(encoding="utf-8"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_answer_language_has_a_catalogue():
    assert len(ANSWER_LANGUAGES) >= 17
    assert ui_languages() >= ANSWER_LANGUAGES, ANSWER_LANGUAGES - ui_languages()


@pytest.mark.parametrize("language", sorted(ui_languages()))
def test_a_catalogue_has_every_english_string_with_its_placeholders(language):
    english, strings = catalogue("en"), catalogue(language)

    assert set(strings) == set(english), set(strings) ^ set(english)
    for key, text in strings.items():
        assert isinstance(text, str) and text.strip(), f"{language}.json: {key} is empty"
        assert placeholders(text) == placeholders(english[key]), f"{language}.json: {key}"
        # Formats as the chat formats it: no stray brace, no positional field.
        text.format(**dict.fromkeys(placeholders(text), 1))
    assert strings["dir"] == ("rtl" if language == "ar" else "ltr")
    if language != "en":  # translated, not copied: the words a reader sees first
        assert strings["placeholder"] != english["placeholder"], language
        assert strings["empty_conversation"] != english["empty_conversation"], language


def test_a_language_without_a_catalogue_gets_english():
    assert "th" not in ui_languages()
    assert ui_text("th") == catalogue("en")
    assert chat_language("th", "de") == "de"  # the browser's, not English
    assert chat_language("ja", "de") == "ja"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-DE,de;q=0.9", "de"),
        ("zh-CN", "zh"),
        ("pt-BR,pt;q=0.9,en;q=0.5", "pt"),
        ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
        ("th-TH, ar;q=0.5, en;q=0.4", "ar"),  # Thai has no catalogue: the next one
        ("en;q=0.2, uk-UA;q=0.9", "uk"),
        ("fr;q=0.5, ja", "ja"),
        ("th, sw", "en"),
        ("ko;q=0", "en"),  # q=0: not acceptable
        ("", "en"),
        (None, "en"),
        ("vi;q=x, ;;, *", "en"),
    ],
)
def test_the_chat_language_comes_from_accept_language(header, language):
    assert accepted_language(header) == language

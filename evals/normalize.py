"""Text normalisation shared by every answer metric, so that "Hà Tĩnh" matches "ha tinh"
and "18.087", "18,087", "18 087" and "18087" are the same number."""

from __future__ import annotations

import re
import unicodedata

# Only the Latin/Greek/Cyrillic diacritic blocks: stripping every combining mark would also
# turn Japanese が into か, which changes the word rather than its spelling.
DIACRITICS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff]")
# Letters that carry their stroke in the base code point, so NFD cannot strip it.
STROKED_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h"})

# A thousands grouping: 1-3 leading digits (not a lone 0, as in 0.125), then groups of
# exactly three digits, all with the same separator, and not followed by another digit.
# NFKC has already turned no-break and narrow no-break spaces into plain spaces.
DIGIT_GROUPING = re.compile(r"(?<![\d.,])([1-9]\d{0,2})([., ])(\d{3}(?:\2\d{3})*)(?!\d)")
DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")
CITATION_MARKER = re.compile(r"\[\d+\]")
WHITESPACE = re.compile(r"\s+")

CJK_CHARACTER = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # Han
    "\uac00-\ud7af"  # Hangul syllables
)
TOKEN = re.compile(rf"[{CJK_CHARACTER}]|\d+(?:\.\d+)?|[^\W_]+")


def strip_markers(answer: str) -> str:
    """Remove "[n]" citation markers, which would otherwise count as numbers and words."""
    return CITATION_MARKER.sub(" ", answer)


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    text = DIACRITICS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text).translate(STROKED_LETTERS)
    text = DIGIT_GROUPING.sub(lambda m: m[1] + m[3].replace(m[2], ""), text)
    text = DECIMAL_COMMA.sub(".", text)
    return WHITESPACE.sub(" ", text).strip()


def tokens(text: str) -> list[str]:
    """Normalised word tokens; CJK text has no spaces, so each character is a token."""
    return TOKEN.findall(normalize(text))


def contains(text: str, phrase: str) -> bool:
    """Whether ``phrase`` appears in ``text`` after normalisation. A number only matches
    as a whole number: 29 is not found in 2029, 2.29 or 29.5."""
    haystack, needle = normalize(text), normalize(phrase)
    if not needle:
        return False
    start = haystack.find(needle)
    while start != -1:
        end = start + len(needle)
        if not (
            (needle[0].isdigit() and _number_continues_left(haystack, start))
            or (needle[-1].isdigit() and _number_continues_right(haystack, end))
        ):
            return True
        start = haystack.find(needle, start + 1)
    return False


def _number_continues_left(text: str, start: int) -> bool:
    before = text[max(0, start - 2) : start]
    return before[-1:].isdigit() or (before[-1:] in ".," and before[:1].isdigit())


def _number_continues_right(text: str, end: int) -> bool:
    after = text[end : end + 2]
    return after[:1].isdigit() or (after[:1] in ".," and after[1:].isdigit())

"""The lexical tokeniser shared by the lexical index (``ingest.lexical``), retrieval and the
answer checks: one function turns chunks and queries alike into BM25 terms.

The tokeniser works by script, not by a detected language, so a query needs no language
detection and a question in one language still matches names and numbers in another:

* numbers stay whole and lose their digit grouping: 18.087, 18,087, 18 087 and 18087 are all
  ``18087``; ``29`` never matches inside ``2029``; 3,5 and 3.5 are both ``3.5``;
* diacritics fold away (Vietnamese "Hà Tĩnh" matches German "Ha Tinh"), case folds;
* Arabic loses its short vowels, hamza and tatweel, unifies alef/yeh/teh-marbuta forms and
  strips the commonest clitic prefixes and suffixes (a light stemmer after Larkey's light10);
* Chinese, Japanese, Korean and Thai runs become overlapping character bigrams, since those
  scripts do not separate words by spaces reliably.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_BMP = [chr(code) for code in range(0x10000)]

# Marks that only decorate a letter and are spelled inconsistently across languages and
# transliterations: Latin/Greek/Cyrillic accents, Arabic harakat/hamza/madda, Hebrew points.
_FOLDED_RANGES = ((0x0300, 0x036F), (0x0591, 0x05C7), (0x0610, 0x061A), (0x064B, 0x065F),
                  (0x0670, 0x0670), (0x06D6, 0x06ED))  # fmt: skip
_FOLDED_MARKS = "".join(chr(c) for start, end in _FOLDED_RANGES for c in range(start, end + 1))
_DIGITS = {c: str(unicodedata.decimal(c)) for c in _BMP if unicodedata.decimal(c, None) is not None}
_FOLD_TABLE = str.maketrans(
    {
        **{mark: None for mark in _FOLDED_MARKS + "\u0640"},  # and tatweel
        **_DIGITS,  # Arabic-Indic, Devanagari, fullwidth... digits become ASCII
        # Letters NFKD does not decompose, and Arabic/Persian spelling variants.
        **dict(zip("đłøıٱىیةک", "dloiاييهك", strict=True)),
        **{"æ": "ae", "œ": "oe", "þ": "th"},
    }
)

# Marks that remain (Indic vowel signs, Thai tone marks) are part of their word.
_OTHER_MARKS = re.escape(
    "".join(
        char
        for char in _BMP
        if unicodedata.category(char).startswith("M") and char not in _FOLDED_MARKS
    )
)
_GROUP_SEPARATORS = ".,'’ \u00a0\u202f\u2009"
_TOKEN = re.compile(
    # A number in thousands groups (1-3 leading digits, then groups of exactly three) ...
    rf"(\d{{1,3}}(?:[{_GROUP_SEPARATORS}]\d{{3}})+(?!\d))"
    # ... or a plain number, possibly with a decimal part (or a date like 3.6.2013) ...
    r"|(\d+(?:[.,]\d+)*)"
    # ... or a word.
    rf"|((?:[^\W\d_]|[{_OTHER_MARKS}])+)"
)
_GROUP_SEPARATOR = re.compile(f"[{_GROUP_SEPARATORS}]")
_BIGRAM_SCRIPTS = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_BIGRAM_RUN = re.compile(f"[{_BIGRAM_SCRIPTS}]+|[^{_BIGRAM_SCRIPTS}]+")
_HAS_BIGRAM_SCRIPT = re.compile(f"[{_BIGRAM_SCRIPTS}]")
_HAS_ARABIC = re.compile("[\u0600-\u06ff]")

_ARABIC_PREFIXES = ("بال", "كال", "فال", "لل", "ال")
_ARABIC_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")


def fold(text: str) -> str:
    """Case-, diacritic- and digit-folded text; the same function serves chunks and queries."""
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_FOLD_TABLE)
    # Recompose so Hangul syllables (decomposed by NFKD) stay one character each.
    return unicodedata.normalize("NFC", decomposed)


def _arabic_stem(word: str) -> str:
    if word.startswith("و") and len(word) > 3:
        word = word[1:]
    for prefix in _ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    for suffix in _ARABIC_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=1 << 16)
def _word_tokens(word: str) -> tuple[str, ...]:
    # Cached: a corpus's words are few and repeat (Zipf), and the Arabic stemmer is Python.
    if _HAS_BIGRAM_SCRIPT.search(word):
        tokens = []
        for run in _BIGRAM_RUN.findall(word):
            tokens.extend(_bigrams(run) if _HAS_BIGRAM_SCRIPT.match(run) else [run])
        return tuple(tokens)
    if _HAS_ARABIC.search(word):
        return (_arabic_stem(word),)
    return (word,)


def tokenize(text: str) -> list[str]:
    """BM25 terms of ``text`` (see the module docstring). No stopword list: IDF already
    discounts function words, and short words of one language are names in another
    (Vietnamese "Ha", "Le", "Da")."""
    folded = fold(text)
    simple = not (_HAS_BIGRAM_SCRIPT.search(folded) or _HAS_ARABIC.search(folded))
    tokens: list[str] = []
    for grouped, number, word in _TOKEN.findall(folded):
        if grouped:
            tokens.append(_GROUP_SEPARATOR.sub("", grouped))
        elif number:
            tokens.append(number.replace(",", "."))
        else:
            tokens.extend((word,) if simple else _word_tokens(word))
    return tokens

"""Names of places and people across scripts.

A question names a province as "Ha Tinh", "Хатинь", "ハティン", "하띤" or "ها تينه"; an
article spells it in its own script. No translation model is to be had offline, and the
multilingual embedder matches such names barely better than chance, so names are matched
on a phonetic key instead: the name romanized (anyascii), then reduced to its consonant
skeleton. Scripts disagree on vowels (Arabic writes few, Japanese adds some), on
aspiration and on word breaks, but rarely on the consonants of a transliterated name:
all five spellings above come out as "htn".

Only words that can be names are kept: capitalised words in cased scripts (Latin,
Cyrillic, Greek), runs of Katakana (the script of foreign names in Japanese), and every
word of uncased alphabetic scripts (Arabic, Hebrew, Hangul, Thai, Devanagari...), where a
name cannot be told from other words. Han characters carry no sound of the name they
write (河静 is read "He Jing" in Mandarin, not "Ha Tinh"), so Chinese names are not keyed.

A key is short, so two different names can share one; keys are evidence for ranking and
a check that may fail open ("cannot tell"), never proof.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

CASED_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})
UNKEYED_SCRIPTS = frozenset({"CJK", "HIRAGANA"})
MAX_SPAN_WORDS = 3
MIN_KEY_LENGTH = 3
# In a document, one word of an uncased script may be any word, and a three-letter skeleton
# is shared by many words: alone it must key longer to count as one of its names.
MIN_UNCASED_WORD_KEY_LENGTH = 4
NAME_MARKED_SCRIPTS = CASED_SCRIPTS | {"KATAKANA"}  # scripts whose names stand out
# Romanizations that scripts write differently for one sound, folded before vowels go.
DIGRAPHS = (
    ("kh", "h"),
    ("ph", "f"),
    ("v", "f"),
    ("th", "t"),
    ("gh", "g"),
    ("ng", "n"),
    ("nj", "n"),  # Arabic writes a final "ng" as "نج"
    ("nh", "n"),
    ("ch", "c"),
    ("q", "k"),
    ("c", "k"),
    ("g", "k"),
    ("x", "s"),
    ("z", "s"),
    ("d", "t"),
)
VOWELS = frozenset("aeiouyw")
# A word: letters and combining marks, with inner apostrophes or hyphens ("Quang Ninh-i").
WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f'’])*")
KATAKANA_RUN = re.compile(r"[\u30a0-\u30ff\u31f0-\u31ff]+")
# Korean writes administrative units and particles onto the name ("박닌성은" = "Bac Ninh
# province" + topic marker); they are cut off so the name keys alone.
HANGUL_SUFFIXES = re.compile(
    r"(?:성|시|군|현|도|구|동)?(?:은|는|이|가|을|를|의|에서|에|와|과|도|로|으로)?$"
)


@dataclass(frozen=True)
class NameSpan:
    text: str
    script: str


def script_of(word: str) -> str:
    """The Unicode script of a word's first letter: "LATIN", "ARABIC", "CJK", ..."""
    return _script_of_letter(word[0])


@lru_cache(maxsize=1 << 14)
def _script_of_letter(letter: str) -> str:
    name = unicodedata.name(letter, "")
    for script in ("CJK", "HANGUL", "KATAKANA", "HIRAGANA"):
        if script in name:
            return script
    return name.split(" ", 1)[0] or "OTHER"


def name_key(span: str) -> str:
    """The consonant skeleton of a name: romanized, lower-cased, letters only, digraphs
    folded, vowels and inner h's dropped (the first letter stays if it is a consonant),
    doubled letters collapsed. "Hà Tĩnh", "Хатинь" and "ها تينه" all give "htn"."""
    letters = re.sub(r"[^a-z]", "", anyascii(span).lower())
    for written, folded in DIGRAPHS:
        letters = letters.replace(written, folded)
    if not letters:
        return ""
    head = "" if letters[0] in VOWELS else letters[0]
    body = "".join(char for char in letters[1:] if char not in VOWELS and char != "h")
    return re.sub(r"(.)\1+", r"\1", head + body)


def _script_runs(word: str) -> list[str]:
    """``word`` cut where its script changes: Japanese and Korean write particles straight
    after a name in Latin letters ("Nguyen Anh Tuanです")."""
    runs: list[str] = []
    current = ""
    for char in word:
        same = not current or not char.isalpha() or script_of(char) == script_of(current[-1])
        if same:
            current += char
        else:
            runs.append(current)
            current = char
    return [*runs, current] if current else runs


def _name_words(text: str) -> Iterable[tuple[str, str] | None]:
    """Each word of ``text`` that may be (part of) a name, as (word, script); None where a
    run of name words breaks."""
    position = 0
    for match in WORD.finditer(text):
        gap = text[position : match.start()]
        position = match.end()
        if gap.strip():  # punctuation or digits between two words end a name
            yield None
        runs = _script_runs(match[0])
        for index, word in enumerate(runs):
            if index:
                yield None  # a change of script ends a name too
            yield from _classified(word)


def _classified(word: str) -> Iterable[tuple[str, str] | None]:
    script = script_of(word)
    if script == "KATAKANA":
        yield None
        for run in KATAKANA_RUN.findall(word):
            yield run, script
        yield None
    elif script in UNKEYED_SCRIPTS:
        yield None
    elif script in CASED_SCRIPTS:
        yield (word, script) if word[0].isupper() else None
    else:
        if script == "HANGUL":
            word = HANGUL_SUFFIXES.sub("", word) or word
        yield word, script


def name_spans(text: str) -> list[NameSpan]:
    """Every run of up to ``MAX_SPAN_WORDS`` consecutive name words of one script. The
    capitalised word opening the text is not a name alone: it is capitalised for its place."""
    spans: list[NameSpan] = []
    run: list[str] = []
    run_script = ""
    opening = WORD.search(text)
    first = _script_runs(opening[0])[0] if opening else ""

    def flush() -> None:
        for size in range(1, MAX_SPAN_WORDS + 1):
            for start in range(len(run) - size + 1):
                words = run[start : start + size]
                if words == [first] and run_script in CASED_SCRIPTS:
                    continue
                spans.append(NameSpan(" ".join(words), run_script))
        run.clear()

    for item in [*_name_words(text), None]:
        if item is None or (run and item[1] != run_script):
            flush()
        if item is not None:
            run.append(item[0])
            run_script = item[1]
    return spans


def word_key(span: str) -> str:
    """The key of each word of a name of several words, joined with "-": more telling
    than the whole name's key where vowels carry most of it ("Nguyen Hoai Anh" keys
    "n" whole, "n-h-n" word by word), for scripts that keep the words apart."""
    words = span.split()
    return "-".join(name_key(word) for word in words) if len(words) > 1 else ""


@lru_cache(maxsize=65536)
def span_keys(span: str) -> tuple[str, ...]:
    """The keys a name is matched on (whole, and word by word) that are long enough to
    tell names apart (``MIN_KEY_LENGTH`` letters)."""
    keys = (name_key(span), word_key(span))
    return tuple(key for key in keys if len(key.replace("-", "")) >= MIN_KEY_LENGTH)


def keyed_names(text: str, *, document: bool = False) -> dict[str, set[str]]:
    """The name keys of ``text`` (at least ``MIN_KEY_LENGTH`` letters), each with the
    scripts it was written in. For a ``document``, only keys written at least twice, and
    single words of uncased scripts only if they key to ``MIN_UNCASED_WORD_KEY_LENGTH``
    letters: an article names what it is about more than once, while words that merely
    key like a name rarely repeat, and in an Arabic or Korean article any word might."""
    counts: Counter[str] = Counter()
    scripts: dict[str, set[str]] = {}
    for span in name_spans(text):
        lone_word = span.script not in NAME_MARKED_SCRIPTS and " " not in span.text
        shortest = MIN_UNCASED_WORD_KEY_LENGTH if document and lone_word else MIN_KEY_LENGTH
        for key in span_keys(span.text):
            if len(key.replace("-", "")) >= shortest:
                counts[key] += 1
                scripts.setdefault(key, set()).add(span.script)
    least = 2 if document else 1
    return {key: scripts[key] for key, count in counts.items() if count >= least}


def cross_script_matches(question: dict[str, set[str]], document: dict[str, set[str]]) -> set[str]:
    """Keys the question and a document share in different scripts. Within one script
    the words themselves match (BM25 and plain comparison do that, and better)."""
    return {key for key, scripts in question.items() if key in document and document[key] - scripts}

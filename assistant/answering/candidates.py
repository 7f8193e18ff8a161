"""What a short answer can be, found in the evidence sentences: figures, dates and names.

The extractive reader (``extractive``) ranks them against the question; the agreement
check (``agreement``) finds the same kinds of things in the model's draft and compares.
Every candidate carries the keys it is compared on, which hold across languages and
scripts: a figure's digit-normalised number ("18.087" = "18,087" = "18087"), a date's
(day, month, year) with the month read from its name in any language, a name's phonetic
keys (``ingest.names``: "Hoàng Trung Dũng" = "هوانج ترونج دونج").

The lexicons are bundled, general resources (``prompts/number_words``, month names from
CLDR through Babel), not fitted to a corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from babel import Locale
from babel.dates import get_month_names

from assistant.settings import bundled_prompts
from ingest.names import CASED_SCRIPTS, name_key, script_of, word_key
from ingest.tokens import fold, tokenize

Kind = Literal["figure", "date", "name"]
# A figure's role in its sentence: a count or amount, a year, a document's number ("Decision
# 657-QD/TU", "Nr. 25"), a percentage.
FigureRole = Literal["count", "year", "code", "percent"]

# A number as written: thousands groups ("18 087", "18.087") or digits with a decimal part.
# Chinese, Japanese and Korean write figures straight after a word ("有13个", "から18087件"),
# other scripts after a space: a Latin letter or a digit before one makes it part of a code.
FIGURE = re.compile(
    r"(?<![\dA-Za-z.,])"
    r"(\d{1,3}(?:[.,'’ \u00a0\u202f\u2009]\d{3})+(?![\d])|\d+(?:[.,]\d+)?)(?![\d])"
)
# What makes a number a document's number: letters joined to it ("25-NQ/TW", "657-QĐ/TU",
# "41/CT") or a number sign before it ("Nr. 25", "No. 43", "số 961", "رقم 43", "№ 5").
CODE_AFTER = re.compile(r"[-–/][^\W\d_]")
NUMBER_SIGN_BEFORE = re.compile(
    r"(?:\b(?:nr|no|nº|n°|num|number|nummer|số|số hiệu|numéro|número|numero|numer|номер)\.?"
    r"|№|#|رقم|第)\s*$",
    re.IGNORECASE,
)
PERCENT_AFTER = re.compile(r"\s?(?:%|٪|percent|prozent|phần trăm|процент|százalék|por ciento)")
YEAR = re.compile(r"(?:1[89]|20|21)\d\d")
# A date written in digits: 3.6.2013, 3/6/2013, 2013-06-03.
NUMERIC_DATE = re.compile(
    r"(?<![\d.])(\d{1,2})[./](\d{1,2})[./]((?:19|20)\d\d)(?![\d])|(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)"
)
# Chinese, Japanese and Korean dates: 2013年6月3日, 8月15日, 8월 15일.
CJK_DATE = re.compile(
    r"(?:((?:19|20)\d\d)\s?[年년]\s?)?(\d{1,2})\s?[月월]\s?(?:(\d{1,2})\s?[日일])?"
)
# What follows a day, folded: "15.", "4-én", "1st", "15-го".
DAY_SUFFIX = r"(?:\.|-?(?:jen|jan|en|an|ig|er|th|st|nd|rd|ого|го|i|e|е))?"

NAME_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|[\u0300-\u036f'’-])*")
# Definite articles and clitics that a transliterated foreign name never takes (Arabic "ال").
NATIVE_PREFIXES = ("ال", "وال", "بال", "لل", "فال", "كال")
# "و" (and) written onto a word of four letters or more: "وأكد" (and confirmed).
CONJUNCTION_PREFIX = re.compile(r"^و\w{3,}")
EAST_ASIAN_SCRIPTS = frozenset({"CJK", "HIRAGANA", "KATAKANA", "HANGUL"})
MIN_NAME_WORDS = 2  # one capitalised word is as often a noun (German) as a name
NUMBER_AFTER = re.compile(r"\.?\s*(?:nr\.?|no\.?|№)?\s*\d", re.IGNORECASE)
MAX_NAME_WORDS = 4  # a longer run is a title or an institution, of which a name ends it


@dataclass(frozen=True)
class Candidate:
    kind: Kind
    role: str  # FigureRole for a figure; "date" or "year" for a date; "name"
    text: str  # as the source writes it
    keys: frozenset[str]  # what it is compared on (``figure_keys``, ``date_keys``, name keys)
    sentence: str  # the evidence sentence it stands in
    start: int  # its offsets in ``sentence``
    end: int
    part: bool = False  # a figure its sentence gives as part of an earlier one (``parts``)


@dataclass(frozen=True)
class DateParts:
    day: int | None
    month: int | None
    year: int | None

    def keys(self) -> frozenset[str]:
        """ "d15", "m8", "y2013": each part a key, so "15 August" agrees with "15.8.2013"
        on day and month."""
        parts = (("d", self.day), ("m", self.month), ("y", self.year))
        return frozenset(f"{prefix}{value}" for prefix, value in parts if value is not None)


def figure_key(text: str) -> str | None:
    """The digit-normalised number ``text`` writes (``ingest.tokens``), None if none."""
    tokens = [token for token in tokenize(text) if token[:1].isdigit()]
    return tokens[0] if tokens else None


# ---- month names ---------------------------------------------------------------------


@cache
def month_numbers() -> dict[str, int]:
    """Every month name and abbreviation of the product's languages (those with question
    words: ``prompts/question_words``), folded, to its number (CLDR's, through Babel):
    "august", "agosto", "أغسطس", "augusztus", "tháng 8". Not every language Babel knows:
    short abbreviations of some are words of others ("des", Indonesian for December, is
    French and German for "of the")."""
    found: dict[str, int] = {}
    for path in sorted((bundled_prompts() / "question_words").glob("*.txt")):
        locale = Locale.parse(path.stem)
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, locale).items():
                    folded = fold(name).rstrip(".")
                    # One- and two-letter abbreviations are words too ("mar", "ma").
                    if len(folded) >= 3 and not folded.isdigit():
                        found.setdefault(folded, number)
    return found


@cache
def month_pattern() -> re.Pattern[str]:
    names = sorted(month_numbers(), key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, names)) + r")(?!\w)")


@cache
def written_date_pattern() -> re.Pattern[str]:
    """A day and a month name in either order, with an optional year: "15. August 2023",
    "25 أغسطس", "július 4-én", "August 15, 2023", "ngày 15 tháng 8 năm 2013"."""
    month = month_pattern().pattern.removeprefix("(?<!\\w)").removesuffix("(?!\\w)")
    day = r"(?<![\d.])(\d{1,2})" + DAY_SUFFIX
    year = r"(?:,?\s*(?:nam\s)?((?:19|20)\d\d))?"
    return re.compile(
        rf"{day}\s*(?:de\s|of\s)?(?<!\w){month}(?!\w){year}"
        rf"|(?<!\w){month}(?!\w)\s*{day}(?!\d){year}",
    )


def folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` (case, accents, Arabic marks and digits folded, ``ingest.tokens``)
    and, for each of its characters, the offset in ``text`` of the character it comes
    from: folding drops marks, so offsets shift."""
    pieces, offsets = [], []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        offsets.extend([index] * len(folded))
    offsets.append(len(text))
    return "".join(pieces), offsets


@cache
def _fold_char(char: str) -> str:
    return fold(char)


def dates_in(text: str) -> list[tuple[int, int, DateParts]]:
    """(start, end, parts) of each date ``text`` writes, in text order."""
    folded, offsets = folded_with_offsets(text)
    months = month_numbers()
    found: list[tuple[int, int, DateParts]] = []
    for match in written_date_pattern().finditer(folded):
        if match[1] is not None:
            day, month, year = match[1], match[2], match[3]
        else:
            month, day, year = match[4], match[5], match[6]
        number = months.get(month.rstrip("."))
        if number is None or not 1 <= int(day) <= 31:
            continue
        parts = DateParts(int(day), number, int(year) if year else None)
        found.append((offsets[match.start()], offsets[match.end() - 1] + 1, parts))
    for match in NUMERIC_DATE.finditer(text):
        if match[1]:
            day, month, year = int(match[1]), int(match[2]), int(match[3])
        else:
            year, month, day = int(match[4]), int(match[5]), int(match[6])
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append((match.start(), match.end(), DateParts(day, month, year)))
    for match in CJK_DATE.finditer(text):
        month, day = int(match[2]), int(match[3]) if match[3] else None
        if 1 <= month <= 12 and (day is None or 1 <= day <= 31):
            year = int(match[1]) if match[1] else None
            found.append((match.start(), match.end(), DateParts(day, month, year)))
    return _without_overlaps(found)


def _without_overlaps(spans: list[tuple[int, int, DateParts]]) -> list[tuple[int, int, DateParts]]:
    """The longest of overlapping spans, in text order."""
    kept: list[tuple[int, int, DateParts]] = []
    for span in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if kept and span[0] < kept[-1][1]:
            continue
        kept.append(span)
    return kept


# ---- number words --------------------------------------------------------------------


@cache
def number_words(language: str, directory: Path) -> dict[str, str]:
    """Folded number words of ``language`` (prompts/number_words/<language>.txt) to their
    number; empty for a language without a list."""
    path = directory / f"{language}.txt"
    if not path.is_file():
        return {}
    words = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            number, _, word = line.partition(":")
            words[fold(word.strip())] = number.strip()
    return words


def spelled_numbers(text: str, language: str, directory: Path) -> list[tuple[int, int, str]]:
    """(start, end, number) of each small number ``text`` writes as a word."""
    words = number_words(language, directory)
    if not words:
        return []
    folded, offsets = folded_with_offsets(text)
    return [
        (offsets[m.start()], offsets[m.end() - 1] + 1, words[m[1]])
        for m in _words_pattern(tuple(sorted(words, key=len, reverse=True))).finditer(folded)
    ]


@cache
def _words_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?!\w)")


# ---- the candidates of a sentence ----------------------------------------------------


def figure_role(text: str, start: int, end: int) -> FigureRole:
    written = text[start:end]
    if CODE_AFTER.match(text, end) or NUMBER_SIGN_BEFORE.search(text[max(0, start - 12) : start]):
        return "code"
    if PERCENT_AFTER.match(text, end):
        return "percent"
    if YEAR.fullmatch(written):
        return "year"
    return "count"


@cache
def breakdown_words(language: str, directory: Path) -> tuple[str, ...]:
    """Folded words of ``language`` that break a figure down (prompts/breakdown_words)."""
    path = directory / f"{language}.txt"
    if not path.is_file():
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(fold(line.strip()) for line in lines if line.strip() and line[0] != "#")


def breakdown_starts(sentence: str, language: str, directory: Path) -> list[int]:
    """Offsets in ``sentence`` where a breakdown of a figure begins ("darunter", "其中")."""
    words = breakdown_words(language, directory)
    if not words:
        return []
    folded, offsets = folded_with_offsets(sentence)
    return [offsets[m.start()] for m in _words_pattern(words).finditer(folded)]


def part_regions(text: str, language: str, directory: Path) -> list[tuple[int, int]]:
    """(start, end) in ``text`` (a sentence) of what follows each breakdown word that
    comes after a figure: in "29 models, including 13 economic and 3 defence ones" the
    figures 13 and 3 are parts of 29, which a question about the models as a whole asks
    for."""
    first_figure = next(FIGURE.finditer(text), None)
    if first_figure is None:
        return []
    return [
        (start, len(text))
        for start in breakdown_starts(text, language, directory)
        if start > first_figure.end()
    ]


def figures(sentence: str, language: str, number_words_dir: Path) -> list[Candidate]:
    """The figures of ``sentence`` that are not part of a date: numbers written in digits
    with their role, and small numbers written as words (counts)."""
    dated = [(start, end) for start, end, _ in dates_in(sentence)]

    def in_date(start: int, end: int) -> bool:
        return any(s <= start and end <= e for s, e in dated)

    found = []
    for match in FIGURE.finditer(sentence):
        key = figure_key(match[1])
        if key is None or in_date(match.start(1), match.end(1)):
            continue
        role = figure_role(sentence, match.start(1), match.end(1))
        found.append(
            Candidate(
                "figure", role, match[1], frozenset({key}), sentence, match.start(1), match.end(1)
            )
        )
    for start, end, number in spelled_numbers(sentence, language, number_words_dir):
        if not in_date(start, end):
            found.append(
                Candidate(
                    "figure",
                    "count",
                    sentence[start:end],
                    frozenset({number}),
                    sentence,
                    start,
                    end,
                )
            )
    return found


def dates(sentence: str) -> list[Candidate]:
    """The dates of ``sentence``, and its years that stand alone (role "year")."""
    found = []
    dated = []
    for start, end, parts in dates_in(sentence):
        dated.append((start, end))
        found.append(
            Candidate("date", "date", sentence[start:end], parts.keys(), sentence, start, end)
        )
    for match in FIGURE.finditer(sentence):
        start, end = match.start(1), match.end(1)
        if YEAR.fullmatch(match[1]) and not any(s <= start and end <= e for s, e in dated):
            parts = DateParts(None, None, int(match[1]))
            found.append(Candidate("date", "year", match[1], parts.keys(), sentence, start, end))
    return found


def names(sentence: str, uncased_common: frozenset[str] = frozenset()) -> list[Candidate]:
    """The names ``sentence`` writes: runs of two to four name words. In a cased script
    (Latin, Cyrillic, Greek) a name word is capitalised, and the capitalised word opening the
    sentence counts only with others; in an uncased script (Arabic, Hangul...) it is a word
    that takes no article and is not one of ``uncased_common`` (folded words the document
    writes in many sentences). Keys: the name's and its words' (``ingest.names``)."""
    found = []
    run: list[re.Match[str]] = []
    run_script = ""

    def flush() -> None:
        # A capitalised phrase followed by a number is a title ("Resolution Nr. 25",
        # "Ringstraße 4"), not a person's or a place's name.
        titled = run and NUMBER_AFTER.match(sentence, run[-1].end())
        if len(run) >= MIN_NAME_WORDS and not titled:
            words = run[-MAX_NAME_WORDS:]
            start, end = words[0].start(), words[-1].end()
            text = sentence[start:end]
            keys = {key for key in (name_key(text), word_key(text)) if key}
            found.append(Candidate("name", "name", text, frozenset(keys), sentence, start, end))
        run.clear()

    position = 0
    for match in script_runs(sentence):
        word = match[0]
        gap = sentence[position : match.start()]
        position = match.end()
        if gap.strip():  # punctuation or digits between two words end a name
            flush()
        script = script_of(word)
        if script in CASED_SCRIPTS:
            is_name = word[0].isupper()
        elif script in ("CJK", "HIRAGANA", "KATAKANA"):
            is_name = False  # Han characters carry no name's sound (``ingest.names``)
        else:
            is_name = not (
                word.startswith(NATIVE_PREFIXES)
                or CONJUNCTION_PREFIX.match(word)
                or fold(word) in uncased_common
            )
        if not is_name or (run and script != run_script):
            flush()
        if is_name:
            run.append(match)
            run_script = script
    flush()
    return found


class _Run:
    """A run of one script within a word, as a match: ``run[0]``, start(), end()."""

    def __init__(self, text: str, start: int):
        self.text, self._start = text, start

    def __getitem__(self, index: int) -> str:
        return self.text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._start + len(self.text)


def script_runs(text: str) -> Iterable[_Run]:
    """The words of ``text``, each cut where its script changes: Japanese and Korean write
    particles straight after a name in Latin letters ("Nguyen Hoai Anhです")."""
    for match in NAME_WORD.finditer(text):
        word, start = match[0], match.start()
        piece = 0
        for index in range(1, len(word) + 1):
            if index == len(word) or (
                word[index].isalpha() and script_of(word[index]) != script_of(word[piece])
            ):
                yield _Run(word[piece:index], start + piece)
                piece = index


def mixed_script_words(text: str) -> list[str]:
    """Words that mix two alphabets ("стellvertretенный", "하باط성"): a small model's garble,
    in no language. Japanese mixes its own scripts, and Japanese and Korean write particles
    straight after a Latin name ("Tuanです", "Tuan입니다"): those are words."""
    garbled = []
    for match in NAME_WORD.finditer(text):
        scripts = {script_of(char) for char in match[0] if char.isalpha()}
        alphabets = scripts - EAST_ASIAN_SCRIPTS
        if len(alphabets) > 1 or (alphabets - {"LATIN"} and scripts & EAST_ASIAN_SCRIPTS):
            garbled.append(match[0])
    return garbled


def common_words(sentences: Iterable[str], share: float) -> frozenset[str]:
    """Folded words of uncased scripts written in more than ``share`` of ``sentences``
    (and in more than two): the language's own words, where no capital letter tells a name,
    as a name is written where its person acts."""
    counts: dict[str, int] = {}
    sentences = list(sentences)
    for sentence in sentences:
        for word in {fold(w) for w in NAME_WORD.findall(sentence)}:
            if script_of(word) not in CASED_SCRIPTS:
                counts[word] = counts.get(word, 0) + 1
    least = max(2, share * len(sentences))
    return frozenset(word for word, count in counts.items() if count > least)


def candidates_in(
    sentence: str,
    language: str,
    kinds: Sequence[Kind],
    number_words_dir: Path,
    uncased_common: frozenset[str] = frozenset(),
) -> list[Candidate]:
    found: list[Candidate] = []
    if "figure" in kinds:
        found += figures(sentence, language, number_words_dir)
    if "date" in kinds:
        found += dates(sentence)
    if "name" in kinds:
        found += names(sentence, uncased_common)
    return found

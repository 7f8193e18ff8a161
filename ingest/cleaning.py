"""Strip the boilerplate news sites wrap around an article and derive what the files lack.

Everything site-specific is data: add a language by adding a row to ``BOILERPLATE``."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

from ingest.chunking import split_sentences


@dataclass(frozen=True)
class Markers:
    source: tuple[str, ...]  # "Quelle" alone, or "Quelle: https://..."
    comments: tuple[str, ...]  # "Kommentar (0)"
    photo: tuple[str, ...]  # "Foto: L.Thi" credits closing a caption


BOILERPLATE: dict[str, Markers] = {
    "de": Markers(source=("Quelle",), comments=("Kommentar", "Kommentare"), photo=("Foto",)),
    "ar": Markers(source=("مصدر", "المصدر"), comments=("تعليق", "تعليقات"), photo=("صورة",)),
    "hu": Markers(source=("Forrás",), comments=("Hozzászólás", "Hozzászólások"), photo=("Fotó",)),
    "vi": Markers(source=("Nguồn",), comments=("Bình luận",), photo=("Ảnh",)),
    "en": Markers(source=("Source",), comments=("Comment", "Comments"), photo=("Photo",)),
    "fr": Markers(source=("Source",), comments=("Commentaire", "Commentaires"), photo=("Photo",)),
    "es": Markers(source=("Fuente",), comments=("Comentario", "Comentarios"), photo=("Foto",)),
    "ru": Markers(source=("Источник",), comments=("Комментарий", "Комментарии"), photo=("Фото",)),
    "zh": Markers(source=("来源", "來源"), comments=("评论", "評論"), photo=("图", "圖")),
    "ja": Markers(source=("出典", "ソース"), comments=("コメント",), photo=("写真",)),
}


def _alternation(words: set[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# The markers of all languages apply to every document: a footer is recognisable whatever
# language the detector later assigns, and no word here is an article's last line.
_SOURCES = _alternation({w for m in BOILERPLATE.values() for w in m.source})
_COMMENTS = _alternation({w for m in BOILERPLATE.values() for w in m.comments})
_PHOTOS = _alternation({w for m in BOILERPLATE.values() for w in m.photo})
SOURCE_LINE = re.compile(rf"^(?:{_SOURCES})\s*(?:[:：]\s*(?P<rest>.*))?$", re.IGNORECASE)
COMMENTS_LINE = re.compile(rf"^(?:{_COMMENTS})\s*[(（]\s*\d+\s*[)）]$", re.IGNORECASE)
PHOTO_CREDIT = re.compile(rf"\s+(?:{_PHOTOS})\s*[:：]\s*\S+(?:\s\S+){{0,3}}$")
URL = re.compile(r"https?://\S+")

BYLINE_MAX_WORDS = 4
BYLINE_MAX_CHARS = 40
SENTENCE_PUNCTUATION = ".!?;:؟۔。！？"
SENTENCE_STOP = re.compile(f"[{re.escape(SENTENCE_PUNCTUATION)}]+")
SENTENCE_GAP = re.compile(f"[{re.escape(SENTENCE_PUNCTUATION)}]+\\s+")
# A line that repeats a sentence found elsewhere is a photo caption echoing the text;
# a long repeated line is more likely a quotation worth keeping.
CAPTION_MIN_CHARS = 20
CAPTION_MAX_CHARS = 300
TITLE_MAX_CHARS = 120


@dataclass
class Cleaned:
    text: str
    url: str | None = None


def clean_text(raw: str) -> Cleaned:
    """Article text without site chrome; ``url`` from a trailing ``Quelle: https://...``."""
    lines = [_normalize_line(line) for line in _normalize(raw).split("\n")]
    lines, url = _drop_footer(lines)
    lines = _drop_repeated_captions(lines)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return Cleaned(text=text, url=url)


def derive_title(text: str, language: str) -> str:
    """The first sentence, cut at a word boundary to ``TITLE_MAX_CHARS``."""
    spans = split_sentences(text, language)
    if not spans:
        return ""
    sentence = text[spans[0][0] : spans[0][1]]
    if len(sentence) <= TITLE_MAX_CHARS:
        return sentence
    cut = sentence[:TITLE_MAX_CHARS]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:-–،") + "…"


def _normalize(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    # Zero-width characters and stray BOMs break word matching downstream.
    return re.sub("[\u200b\u200c\u200d\u2060\ufeff]", "", text)


def _normalize_line(line: str) -> str:
    line = line.replace("\u00a0", " ").rstrip()
    # Some exports end paragraphs with a table-cell separator " |".
    line = re.sub(r"\s+\|$", "", line)
    return PHOTO_CREDIT.sub("", line)


def _drop_footer(lines: list[str]) -> tuple[list[str], str | None]:
    url = None
    end = len(lines)
    while end:
        line = lines[end - 1].strip()
        source = SOURCE_LINE.match(line)
        if not line or COMMENTS_LINE.match(line):
            end -= 1
        elif source:
            found = URL.search(source.group("rest") or "")
            url = url or (found.group(0) if found else None)
            end -= 1
        else:
            break
    if end and _is_byline(lines[end - 1]):
        end -= 1
    return lines[:end], url


def _is_byline(line: str) -> bool:
    line = line.strip()
    return (
        0 < len(line) <= BYLINE_MAX_CHARS
        and len(line.split()) <= BYLINE_MAX_WORDS
        and line[-1] not in SENTENCE_PUNCTUATION
        and not any(ch.isdigit() for ch in line)
    )


def _drop_repeated_captions(lines: list[str]) -> list[str]:
    """Without a caption-sized line that repeats another line or a sentence inside one."""
    inside_others: set[str] = set()
    for line in lines:
        inside_others.update(_sentence_runs(line.strip()))
    kept: list[str] = []
    seen: set[str] = set()
    for line in lines:
        stripped = line.strip()
        if _is_caption_sized(stripped) and (stripped in seen or stripped in inside_others):
            continue
        seen.add(stripped)
        kept.append(line)
    return kept


def _is_caption_sized(line: str) -> bool:
    return CAPTION_MIN_CHARS <= len(line) <= CAPTION_MAX_CHARS and line[-1] in SENTENCE_PUNCTUATION


def _sentence_runs(line: str) -> set[str]:
    """Every caption-sized run of whole sentences inside ``line``, other than ``line``."""
    starts = [0, *(m.end() for m in SENTENCE_GAP.finditer(line))]
    ends = [m.end() for m in SENTENCE_STOP.finditer(line)]
    return {
        line[start:end]
        for start in starts
        for end in ends[bisect_right(ends, start) : bisect_right(ends, start + CAPTION_MAX_CHARS)]
        if (start, end) != (0, len(line))
    }

"""A realistic synthetic news archive, generated deterministically and cheaply: any number of
articles (100,000 and more) of 5 to 10 paragraphs each, in the nine languages of the gold
questions, each paragraph one chunk.

Text is drawn from the bundled corpus's sentences, but each article gets its own cast: the
names a sentence writes (capitalised words after its first) are replaced by the article's
names, drawn from a made-up gazetteer of places and people with Zipf-like popularity (a few
names in thousands of articles, most in a handful), and every number is redrawn (years
near today, counts of any size, written with the corpus's digit grouping). So an archive
has the long tail of names and numbers that real news has, BM25's posting lists are as
skewed as real ones, and an article names its cast several times, as the name keys of
``ingest.names`` expect. Vectors are random unit vectors (nothing is embedded), from a
seed per chunk id, so every run and both code versions store the same archive.

    .venv/bin/python -m benchmarks.archive --articles 100000 --out /tmp/archive.jsonl

writes it as JSON Lines (``assistant ingest`` reads that format).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np

from ingest.chunking import split_sentences
from ingest.types import Chunk, Document

LANGUAGES = ("ar", "de", "en", "hu", "ja", "ko", "ru", "vi", "zh")
PARAGRAPHS = (5, 10)  # per article, inclusive
PARAGRAPH_CHARS = 600  # a paragraph grows sentence by sentence to at least this
GAZETTEER_SIZE = 20_000
CAST = (3, 6)  # names per article
SYLLABLES = [
    "an",
    "ba",
    "bac",
    "binh",
    "cao",
    "chi",
    "da",
    "dong",
    "duc",
    "giang",
    "ha",
    "hai",
    "hoa",
    "hung",
    "kha",
    "lam",
    "lang",
    "long",
    "minh",
    "nam",
    "ninh",
    "phu",
    "quang",
    "son",
    "tan",
    "thanh",
    "tinh",
    "trung",
    "tuan",
    "van",
    "vinh",
    "xuan",
    "yen",
    "ko",
    "ri",
    "sa",
    "mi",
    "to",
    "ber",
    "lin",
    "mar",
    "kus",
    "el",
    "ra",
    "ta",
    "no",
    "vo",
    "ka",
    "ze",
]
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Two or more capitalised words in a row: a name ("Nguyen Hoai Anh", "Bac Ninh"), not the
# capitalised nouns of German.
_CAPITALISED = r"[A-ZÄÖÜÁÉÍÓÚŐŰĐ][\w\-]*"
NAME = re.compile(rf"(?<!\S){_CAPITALISED}(?:\s+{_CAPITALISED})+")


@cache
def corpus_sentences(corpus_dir: Path) -> tuple[str, ...]:
    """The bundled corpus's sentences of more than 20 characters."""
    sentences = []
    for path in sorted(corpus_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[start:end] for start, end in split_sentences(text, "und")]
    return tuple(sentence for sentence in sentences if len(sentence) > 20)


@cache
def gazetteer(seed: int = 0) -> tuple[str, ...]:
    """``GAZETTEER_SIZE`` made-up names of one to three words, most popular first."""
    rng = random.Random(seed)
    names: dict[str, None] = {}
    while len(names) < GAZETTEER_SIZE:
        words = [
            "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))).capitalize()
            for _ in range(rng.choice((1, 2, 2, 3)))
        ]
        names[" ".join(words)] = None
    return tuple(names)


def _zipf_index(rng: random.Random, size: int) -> int:
    # Rank r is drawn with probability ~ 1/r: a few names everywhere, most rarely.
    return min(int(size ** rng.random()) - 1, size - 1)


def _number(rng: random.Random, written: str) -> str:
    if len(written) == 4 and written.startswith(("19", "20")):
        return str(rng.randint(1990, 2026))
    value = rng.randint(1, 10 ** rng.randint(1, 6))
    if value >= 1000 and rng.random() < 0.5:
        return f"{value:,}".replace(",", rng.choice(".,"))
    return str(value)


def article(number: int, corpus_dir: Path, seed: int = 0) -> Document:
    """The ``number``-th article of the archive (the same for a seed, whatever else is
    generated): its paragraphs separated by newlines."""
    rng = random.Random(f"{seed}:{number}")
    sentences = corpus_sentences(corpus_dir)
    names = gazetteer(seed)
    cast = [names[_zipf_index(rng, len(names))] for _ in range(rng.randint(*CAST))]
    paragraphs = []
    for _ in range(rng.randint(*PARAGRAPHS)):
        paragraph = ""
        while len(paragraph) < PARAGRAPH_CHARS:
            sentence = NUMBER.sub(lambda m: _number(rng, m[0]), rng.choice(sentences))
            sentence = NAME.sub(lambda m: rng.choice(cast), sentence)
            paragraph += sentence + " "
        paragraphs.append(paragraph.strip())
    language = LANGUAGES[number % len(LANGUAGES)]
    return Document(
        doc_id=f"archive/{number:07d}",
        text="\n".join(paragraphs),
        title=f"{cast[0]}: {paragraphs[0][:60]}",
        date=f"{rng.randint(2015, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        language=language,
    )


def paragraph_chunks(document: Document) -> list[Chunk]:
    """One chunk per paragraph (newline-separated), with offsets into the text."""
    chunks, start = [], 0
    paragraphs = document.text.split("\n")
    for index, paragraph in enumerate(paragraphs):
        end = start + len(paragraph)
        chunks.append(
            Chunk(
                chunk_id=f"{document.doc_id}#{index}",
                doc_id=document.doc_id,
                index=index,
                text=paragraph,
                start=start,
                end=end,
                language=document.language,
                title=document.title,
                prev_id=f"{document.doc_id}#{index - 1}" if index else None,
                next_id=f"{document.doc_id}#{index + 1}" if index + 1 < len(paragraphs) else None,
            )
        )
        start = end + 1
    return chunks


def random_vectors(keys: list[str], dimension: int) -> np.ndarray:
    """One random unit vector per key, the same for a key in every run."""
    rows = []
    for key in keys:
        seed = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")
        rows.append(np.random.default_rng(seed).standard_normal(dimension))
    vectors = np.asarray(rows, dtype=np.float32).reshape(len(keys), dimension)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


class RandomEmbedder:
    """Random unit vectors, one per text (``random_vectors``): ingestion's cost without a
    model's. Implements ``ingest.interfaces.Embedder``."""

    name = "random-unit-vectors"

    def __init__(self, dimension: int = 384):
        self.dimension = dimension

    def embed_passages(self, texts):
        return random_vectors(list(texts), self.dimension)

    def embed_queries(self, texts):
        return random_vectors([f"query: {text}" for text in texts], self.dimension)


def articles(first: int, count: int, corpus_dir: Path, seed: int = 0) -> Iterator[Document]:
    """Articles ``first`` to ``first + count - 1``."""
    for number in range(first, first + count):
        yield article(number, corpus_dir, seed)


def articles_for_chunks(chunks: int, corpus_dir: Path, seed: int = 0) -> Iterator[Document]:
    """Articles from the first until they hold at least ``chunks`` paragraphs."""
    held, number = 0, 0
    while held < chunks:
        document = article(number, corpus_dir, seed)
        held += document.text.count("\n") + 1
        number += 1
        yield document


def write_jsonl(documents: Iterator[Document], path: Path) -> int:
    """The articles as JSON Lines (id, text, title, date, language); returns how many."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for document in documents:
            record = {
                "id": document.doc_id,
                "text": document.text,
                "title": document.title,
                "date": document.date,
                "language": document.language,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def main() -> None:
    from assistant.settings import bundled_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    documents = articles(args.first, args.articles, bundled_corpus(), args.seed)
    print(f"wrote {write_jsonl(documents, args.out)} articles to {args.out}")


if __name__ == "__main__":
    main()

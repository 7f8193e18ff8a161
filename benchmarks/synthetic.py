"""A large corpus generated cheaply, for latency at scale: random unit vectors (nothing is
embedded) and text made of the bundled corpus's sentences, shuffled, under the nine
languages of the gold questions in turn. Written through the real store (Chroma), so the
dense part of a query runs as it would on a corpus of that size. Its vocabulary is the
bundled corpus's, so every BM25 posting list is far longer than in real text: a
pessimistic case for lexical search."""

from __future__ import annotations

import random
import time
from pathlib import Path

import numpy as np

from ingest.chunking import split_sentences
from ingest.interfaces import VectorStore
from ingest.types import Chunk, Document

LANGUAGES = ("ar", "de", "en", "hu", "ja", "ko", "ru", "vi", "zh")
CHUNKS_PER_DOCUMENT = 2000  # few, large documents: each store write has a fixed cost
CHUNK_CHARS = 700


def corpus_sentences(corpus_dir: Path) -> list[str]:
    sentences = []
    for path in sorted(corpus_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [text[start:end] for start, end in split_sentences(text, "und")]
    return [sentence for sentence in sentences if len(sentence) > 20]


def synthetic_document(number: int, sentences: list[str], rng: random.Random) -> Document:
    language = LANGUAGES[number % len(LANGUAGES)]
    paragraphs = []
    for _ in range(CHUNKS_PER_DOCUMENT):
        paragraph = ""
        while len(paragraph) < CHUNK_CHARS:
            paragraph += rng.choice(sentences) + " "
        paragraphs.append(paragraph.strip())
    return Document(
        doc_id=f"synthetic/{number:06d}.txt",
        text="\n".join(paragraphs),
        title=paragraphs[0][:80],
        language=language,
    )


def paragraph_chunks(document: Document) -> list[Chunk]:
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


def fill_store(
    store: VectorStore, corpus_dir: Path, chunks: int, dimension: int, seed: int = 0
) -> dict:
    """Write ``chunks`` synthetic chunks (rounded up to whole documents) into ``store``;
    return how long generating and writing took."""
    rng = random.Random(seed)
    vectors_rng = np.random.default_rng(seed)
    sentences = corpus_sentences(corpus_dir)
    documents = -(-chunks // CHUNKS_PER_DOCUMENT)
    generate_s = write_s = 0.0
    for number in range(documents):
        started = time.perf_counter()
        document = synthetic_document(number, sentences, rng)
        document_chunks = paragraph_chunks(document)
        vectors = vectors_rng.standard_normal((len(document_chunks), dimension))
        vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
        generated = time.perf_counter()
        store.replace_document(document, document_chunks, vectors, f"synthetic:{seed}:{number}")
        generate_s += generated - started
        write_s += time.perf_counter() - generated
    return {
        "chunks": documents * CHUNKS_PER_DOCUMENT,
        "documents": documents,
        "languages": len(LANGUAGES),
        "generate_s": round(generate_s, 1),
        "store_write_s": round(write_s, 1),
    }

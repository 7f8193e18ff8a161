"""The scale benchmark's synthetic archive (benchmarks.archive): deterministic, shaped as
the issue asks (5-10 paragraphs, nine languages), each article with its own names and
numbers, chunks that point back into their text, vectors that are unit and repeatable."""

from __future__ import annotations

import json

import numpy as np

from assistant.settings import bundled_corpus
from benchmarks.archive import (
    LANGUAGES,
    NAME,
    NUMBER,
    article,
    articles,
    articles_for_chunks,
    gazetteer,
    paragraph_chunks,
    random_vectors,
    write_jsonl,
)


def test_an_article_is_the_same_in_every_run_and_differs_from_its_neighbours():
    first, again = article(7, bundled_corpus()), article(7, bundled_corpus())
    other = article(8, bundled_corpus())
    assert (first.text, first.title, first.date) == (again.text, again.title, again.date)
    assert first.text != other.text
    assert first.doc_id == "archive/0000007"


def test_articles_have_five_to_ten_paragraphs_in_nine_languages():
    generated = list(articles(0, 90, bundled_corpus()))
    counts = {len(a.text.split("\n")) for a in generated}
    assert min(counts) >= 5 and max(counts) <= 10 and len(counts) > 3
    assert {a.language for a in generated} == set(LANGUAGES) and len(LANGUAGES) == 9


def test_names_come_from_the_gazetteer_and_numbers_are_redrawn():
    names = set(gazetteer())
    corpus_text = "".join(p.read_text() for p in bundled_corpus().glob("*.txt"))
    corpus_numbers = set(NUMBER.findall(corpus_text))
    one = article(3, bundled_corpus())
    written = NAME.findall(one.text)
    assert written and all(name in names for name in written)
    assert max(written.count(name) for name in set(written)) >= 2  # a cast named repeatedly
    numbers = NUMBER.findall(one.text)
    assert numbers and set(numbers) - corpus_numbers  # not the corpus's figures


def test_popular_names_recur_across_articles_and_most_are_rare():
    per_article = [set(NAME.findall(a.text)) for a in articles(0, 300, bundled_corpus())]
    counts: dict[str, int] = {}
    for names in per_article:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    ordered = sorted(counts.values(), reverse=True)
    assert ordered[0] >= 10  # a few names everywhere
    assert sum(1 for c in ordered if c == 1) > len(ordered) / 2  # most in one article


def test_chunks_are_the_paragraphs_with_offsets_into_the_text():
    document = article(11, bundled_corpus())
    chunks = paragraph_chunks(document)
    assert [c.text for c in chunks] == document.text.split("\n")
    assert all(document.text[c.start : c.end] == c.text for c in chunks)
    assert chunks[0].prev_id is None and chunks[-1].next_id is None
    assert chunks[1].prev_id == chunks[0].chunk_id


def test_random_vectors_are_unit_and_the_same_for_a_key():
    vectors = random_vectors(["a", "b", "a"], 384)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert np.array_equal(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])


def test_enough_articles_for_a_number_of_chunks_and_json_lines(tmp_path):
    generated = list(articles_for_chunks(100, bundled_corpus()))
    held = sum(len(a.text.split("\n")) for a in generated)
    assert held >= 100 and held - len(generated[-1].text.split("\n")) < 100
    path = tmp_path / "archive.jsonl"
    assert write_jsonl(iter(generated), path) == len(generated)
    first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert first["id"] == generated[0].doc_id and first["language"] == generated[0].language

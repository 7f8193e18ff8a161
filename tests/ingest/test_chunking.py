from itertools import pairwise
from pathlib import Path

import pytest

from assistant.settings import bundled_corpus
from ingest.chunking import chunk_document, embedding_texts, split_sentences
from ingest.cleaning import clean_text
from ingest.types import Document

CORPUS_LANGUAGES = {"000": "de", "001": "de", "002": "ar", "003": "hu", "004": "de"}


def corpus_document(path: Path) -> Document:
    text = clean_text(path.read_text(encoding="utf-8")).text
    return Document(doc_id=path.name, text=text, language=CORPUS_LANGUAGES[path.name[:3]])


def sentences(text: str, language: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text, language)]


@pytest.mark.parametrize("max_chars", [100, 300, 900])
@pytest.mark.parametrize("path", sorted(bundled_corpus().glob("*.txt")), ids=lambda p: p.name[:3])
def test_every_chunk_is_an_exact_span_of_its_document(path: Path, max_chars: int):
    document = corpus_document(path)
    chunks = chunk_document(document, max_chars)
    assert chunks
    for position, chunk in enumerate(chunks):
        assert chunk.text == document.text[chunk.start : chunk.end]
        assert 0 < len(chunk.text) <= max_chars
        assert chunk.index == position
        assert chunk.chunk_id == f"{path.name}#{position}"
        assert chunk.prev_id == (f"{path.name}#{position - 1}" if position else None)
        last = position == len(chunks) - 1
        assert chunk.next_id == (None if last else f"{path.name}#{position + 1}")
    # Nothing but whitespace falls between consecutive chunks.
    assert document.text[: chunks[0].start].strip() == ""
    for before, after in pairwise(chunks):
        assert document.text[before.end : after.start].strip() == ""
    assert document.text[chunks[-1].end :].strip() == ""


def test_chunks_end_on_sentence_boundaries():
    document = corpus_document(next(bundled_corpus().glob("000_*.txt")))
    ends = {end for _, end in split_sentences(document.text, "de")}
    assert all(chunk.end in ends for chunk in chunk_document(document, 900))


def test_overlap_repeats_the_last_sentence():
    document = corpus_document(next(bundled_corpus().glob("003_*.txt")))
    chunks = chunk_document(document, 900, overlap_sentences=1)
    first_sentences = split_sentences(chunks[1].text, "hu")
    repeated = chunks[1].text[first_sentences[0][0] : first_sentences[0][1]]
    assert chunks[0].text.endswith(repeated)
    assert chunks[1].start < chunks[0].end


def test_german_abbreviations_and_dates_do_not_split():
    text = (
        "Heute Morgen (15. August) tagte der Ausschuss zur Resolution Nr. 25 der Partei. "
        "Danach sprach er."
    )
    assert sentences(text, "de") == [
        "Heute Morgen (15. August) tagte der Ausschuss zur Resolution Nr. 25 der Partei.",
        "Danach sprach er.",
    ]


def test_arabic_question_mark_and_urdu_full_stop_end_sentences_but_comma_does_not():
    text = "من ترأس المؤتمر؟ في يوم 25 أغسطس، عقدت اللجنة مؤتمرا. ثم غادر۔ نعم"
    assert sentences(text, "ar") == [
        "من ترأس المؤتمر؟",
        "في يوم 25 أغسطس، عقدت اللجنة مؤتمرا.",
        "ثم غادر۔",
        "نعم",
    ]


@pytest.mark.parametrize("language", ["zh", "ja"])
def test_cjk_full_stops_split_without_spaces_and_keep_closing_quotes(language: str):
    text = "谁主持了会议？会议在北宁举行。他说：“很好！”然后离开了。"
    assert sentences(text, language) == [
        "谁主持了会议？",
        "会议在北宁举行。",
        "他说：“很好！”",
        "然后离开了。",
    ]


def test_hungarian_ordinals_and_initials_do_not_split():
    text = "A 2024. július 4-i ülésen L. Thi beszélt. Utána vita következett."
    assert sentences(text, "hu") == [
        "A 2024. július 4-i ülésen L. Thi beszélt.",
        "Utána vita következett.",
    ]


def test_line_breaks_end_sentences_and_spans_exclude_whitespace():
    text = "  Überschrift ohne Punkt\n\nErster Satz.  Zweiter Satz.  \n"
    spans = split_sentences(text, "de")
    assert [text[s:e] for s, e in spans] == [
        "Überschrift ohne Punkt",
        "Erster Satz.",
        "Zweiter Satz.",
    ]


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces():
    words = " ".join(f"wort{i}" for i in range(200))
    document = Document(doc_id="long.txt", text=words + ".", language="de")
    chunks = chunk_document(document, 100)
    assert len(chunks) > 1
    assert all(len(c.text) <= 100 and c.text == document.text[c.start : c.end] for c in chunks)
    assert all(not c.text.startswith(" ") and not c.text.endswith(" ") for c in chunks)
    assert " ".join(c.text for c in chunks) == document.text


def test_cjk_sentence_without_spaces_is_cut_hard():
    document = Document(doc_id="zh.txt", text="很" * 250 + "。", language="zh")
    chunks = chunk_document(document, 100)
    assert [len(c.text) for c in chunks] == [100, 100, 51]


def test_each_chunk_is_embedded_as_its_own_text():
    document = corpus_document(next(bundled_corpus().glob("001_*.txt")))
    document.title = "Massenmobilisierung im Bezirk"
    chunks = chunk_document(document, 300)
    assert embedding_texts(document, chunks) == [chunk.text for chunk in chunks]


def test_sentences_split_the_same_from_many_threads_at_once():
    # pysbd keeps the text it splits on its Segmenter: a shared one, used by two answers at
    # once, split one question's text at the other's offsets.
    from concurrent.futures import ThreadPoolExecutor

    texts = [path.read_text(encoding="utf-8") for path in sorted(bundled_corpus().glob("00[014]*"))]
    expected = [split_sentences(text, "de") for text in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda text: split_sentences(text, "de"), texts * 8))
    assert results == expected * 8

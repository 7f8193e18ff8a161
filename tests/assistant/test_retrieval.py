from pathlib import Path

import numpy as np
import pytest

from assistant import retrieval
from assistant.retrieval import (
    HybridRetriever,
    LanguageMeans,
    LexicalIndex,
    best_per_language,
    make_retriever,
    names_and_numbers,
    rrf_fuse,
)
from assistant.settings import Settings
from ingest.store import make_store
from ingest.types import Chunk
from tests.fakes import HashEmbedder
from tests.support.chunks import DOCUMENTS, write_document


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


@pytest.fixture
def store(settings):
    store = make_store(settings)
    for doc_id, (language, paragraphs) in DOCUMENTS.items():
        aliases = ["copy-of-bac-ninh.txt"] if doc_id == "bac-ninh.txt" else []
        write_document(store, HashEmbedder(), doc_id, language, paragraphs, aliases)
    return store


def retriever_for(settings, store, mode):
    configured = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
        update={"mode": mode})})  # fmt: skip
    return make_retriever(configured, embedder=HashEmbedder(), store=store)


def test_rrf_fuse_on_hand_computed_ranks():
    fused = rrf_fuse([["a", "b", "c"], ["c", "a"]], [1.0, 1.0], rrf_k=60)
    # a: 1/61 + 1/62 = 0.032522; c: 1/63 + 1/61 = 0.032266; b: 1/62 = 0.016129
    assert [item for item, _ in fused] == ["a", "c", "b"]
    assert [round(score, 6) for _, score in fused] == [0.032522, 0.032266, 0.016129]
    # Doubling the second list's weight: c = 1/63 + 2/61 = 0.048660 > a = 1/61 + 2/62.
    assert rrf_fuse([["a", "b", "c"], ["c", "a"]], [1, 2], 60)[0][0] == "c"
    assert rrf_fuse([["x"], []], [1, 1], rrf_k=1) == [("x", 0.5)]  # 1 / (1 + 1)


def test_best_per_language_keeps_each_languages_first():
    def chunk(chunk_id, language):
        return Chunk(chunk_id, "d", 0, "t", 0, 1, language)

    ranked = [(chunk("1", "de"), 0.9), (chunk("2", "de"), 0.8), (chunk("3", "ar"), 0.5)]
    assert [c.chunk_id for c, _ in best_per_language(ranked)] == ["1", "3"]


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_language_and_document_filters(settings, store, mode):
    retriever = retriever_for(settings, store, mode)
    by_language = retriever.retrieve("Ninh 18087 Dialoge", 10, language="hu")
    assert by_language and {p.language for p in by_language} == {"hu"}
    by_document = retriever.retrieve("Ninh 18087 Dialoge", 10, doc_ids=["ha-tinh.txt"])
    assert by_document and {p.doc_id for p in by_document} == {"ha-tinh.txt"}
    # An alias names the document it duplicates.
    by_alias = retriever.retrieve("Bac Ninh Dialoge", 10, doc_ids=["copy-of-bac-ninh.txt"])
    assert by_alias and {p.doc_id for p in by_alias} == {"bac-ninh.txt"}
    assert retriever.retrieve("Bac Ninh", 10, doc_ids=["unknown.txt"]) == []
    assert retriever.retrieve("Bac Ninh", 10, language="zz") == []


def test_passages_carry_offsets_into_the_document(settings, store):
    passage = retriever_for(settings, store, "hybrid").retrieve("18,087", 1)[0]
    assert passage.chunk_id == "ha-tinh.txt#0"
    document = store.get_document(passage.doc_id)
    assert document.text[passage.start : passage.end] == passage.text


def test_hybrid_fuses_bm25_and_lists_each_language(settings, store):
    retriever = retriever_for(settings, store, "hybrid")
    assert isinstance(retriever, HybridRetriever)
    # Only BM25 can match a reformatted number; the fused list still starts with it.
    assert retriever.retrieve("1269", 3)[0].chunk_id == "bac-ninh.txt#0"
    # Every language's best chunk gets a vote, so all three languages reach the top 3.
    assert {p.language for p in retriever.retrieve("Bac Ninh Dialoge", 3)} == {"de", "ar", "hu"}
    lexical = LexicalIndex(store)
    unbalanced = HybridRetriever(HashEmbedder(), store, lexical,
                                 settings.retrieval, language_balanced=False)  # fmt: skip
    assert {p.language for p in unbalanced.retrieve("Bac Ninh Dialoge", 3)} != {"de", "ar", "hu"}


def test_names_and_numbers_list_lifts_a_passage_sharing_only_a_number(settings, store):
    assert names_and_numbers("How did Ha Tinh do in 2024? ok") == "How Ha Tinh 2024?"
    # Full-query BM25 prefers the German chunk (two shared words); the Hungarian one shares
    # only the number, which the extra list ranks first.
    lexical = LexicalIndex(store)
    query = "dialoge geführt 2024"
    with_list, without = (
        HybridRetriever(HashEmbedder(), store, lexical, settings.retrieval, names_and_numbers=on)
        for on in (True, False)
    )
    assert without.retrieve(query, 1)[0].chunk_id == "bac-ninh.txt#0"
    assert with_list.retrieve(query, 1)[0].chunk_id == "quang-ninh.txt#1"


def test_language_bias_removal_equals_scoring_centred_vectors():
    rng = np.random.default_rng(0)
    languages = ["de", "de", "de", "ar", "ar", "hu"]
    chunks = [Chunk(f"c{i}", "d", i, "t", 0, 1, lang) for i, lang in enumerate(languages)]
    vectors = rng.normal(size=(len(chunks), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = rng.normal(size=8).astype(np.float32)
    query /= np.linalg.norm(query)
    means = LanguageMeans.of(languages, vectors)
    share = 0.5
    rescored = means.without_language_bias(
        query, list(zip(chunks, vectors @ query, strict=True)), vectors, share
    )

    # The same, the long way: every vector less half its language's mean, re-normalised.
    by_language = {lang: vectors[[lang == x for x in languages]].mean(0) for lang in languages}
    centred = vectors - share * np.array([by_language[lang] for lang in languages])
    expected = centred @ query / np.linalg.norm(centred, axis=1)
    assert [c.chunk_id for c, _ in rescored] == [f"c{i}" for i in np.argsort(-expected)]
    assert np.allclose([score for _, score in rescored], np.sort(expected)[::-1], atol=1e-5)
    assert means.without_language_bias(query, [], vectors[:0], share) == []


def test_language_means_come_from_the_store(settings, store):
    means = LexicalIndex(store).language_means()
    assert means.languages == ["ar", "de", "hu"]
    stored = store.embeddings([f"ha-tinh.txt#{i}" for i in range(2)])
    expected = stored / np.linalg.norm(stored, axis=1, keepdims=True)
    assert np.allclose(means.vectors[0], expected.mean(0), atol=1e-6)
    configured = settings.retrieval.model_copy(update={"language_mean_share": 0.5})
    hybrid = HybridRetriever(HashEmbedder(), store, LexicalIndex(store), configured)
    assert hybrid.retrieve("Bac Ninh Dialoge", 1)[0].doc_id == "bac-ninh.txt"


def test_empty_store_finds_nothing(tmp_path):
    settings = Settings(data_dir=tmp_path)
    for mode in ("hybrid", "dense", "bm25"):
        assert retriever_for(settings, make_store(settings), mode).retrieve("anything", 5) == []


def test_lexical_index_is_updated_in_place_and_read_from_disk(settings, store, monkeypatch):
    # Nothing is rebuilt or loaded whole: a new reader searches what ingestion committed.
    assert store.lexical.chunk_count() == 6
    write_document(store, HashEmbedder(), "new.txt", "en", ["Fresh news about Ha Long"])
    assert store.lexical.chunk_count() == 7
    reopened = make_store(settings)
    hits = LexicalIndex(reopened).search("Ha Long", 5)
    assert hits[0][0] == "new.txt#0"
    write_document(reopened, HashEmbedder(), "new.txt", "en", ["Other news about Hue"])
    assert LexicalIndex(reopened).search("Ha Long", 5) == []
    reopened.delete_document("new.txt")
    assert LexicalIndex(reopened).search("Hue", 5) == []
    assert reopened.lexical.chunk_count() == 6


def test_a_running_retriever_sees_reingested_documents(settings, store, monkeypatch):
    monkeypatch.setattr(retrieval, "FRESHNESS_CHECK_S", 0.0)
    retriever = retriever_for(settings, store, "bm25")
    assert retriever.retrieve("Halong", 5) == []
    write_document(store, HashEmbedder(), "quang-ninh.txt", "hu", ["Halong öböl", "Más."])
    assert [p.chunk_id for p in retriever.retrieve("Halong", 5)] == ["quang-ninh.txt#0"]

from pathlib import Path

import numpy as np
import pytest
from chromadb.api.types import DefaultEmbeddingFunction
from chromadb.utils.embedding_functions.onnx_mini_lm_l6_v2 import ONNXMiniLM_L6_V2

from assistant.settings import Settings
from ingest.store import ChromaStore, make_store
from ingest.types import Chunk, Document, DocumentSummary, ManifestEntry
from tests.fakes import HashEmbedder

EMBEDDER = HashEmbedder()


def make_document(doc_id: str, sentences: list[str], language: str) -> tuple[Document, list[Chunk]]:
    text = " ".join(sentences)
    document = Document(
        doc_id=doc_id, text=text, title=sentences[0], language=language, url="https://x.org/1"
    )
    chunks, start = [], 0
    for index, sentence in enumerate(sentences):
        chunks.append(
            Chunk(
                chunk_id=f"{doc_id}#{index}",
                doc_id=doc_id,
                index=index,
                text=sentence,
                start=start,
                end=start + len(sentence),
                language=language,
                title=document.title,
                prev_id=f"{doc_id}#{index - 1}" if index else None,
                next_id=f"{doc_id}#{index + 1}" if index + 1 < len(sentences) else None,
            )
        )
        start += len(sentence) + 1
    return document, chunks


def put(store: ChromaStore, document: Document, chunks: list[Chunk], digest: str = "h") -> None:
    store.replace_document(
        document, chunks, EMBEDDER.embed_passages([c.text for c in chunks]), digest
    )


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ChromaStore:
    # Chroma's default embedder downloads a model: make any use of it fail loudly.
    def forbidden(*args, **kwargs):
        raise AssertionError("Chroma tried to embed text itself")

    monkeypatch.setattr(DefaultEmbeddingFunction, "__call__", forbidden)
    monkeypatch.setattr(ONNXMiniLM_L6_V2, "__init__", forbidden)
    store = make_store(Settings(data_dir=tmp_path))
    german, german_chunks = make_document(
        "de.txt", ["Bac Ninh baut Modelle.", "Die Provinz führte 1.269 Dialoge."], "de"
    )
    arabic, arabic_chunks = make_document(
        "ar.txt", ["عقدت ها تينه مؤتمرا.", "حوار مع الشعب."], "ar"
    )
    put(store, german, german_chunks, "h-de")
    put(store, arabic, arabic_chunks, "h-ar")
    return store


def query(store: ChromaStore, text: str, n: int = 10, where: dict | None = None):
    return store.query(EMBEDDER.embed_queries([text])[0], n, where)


def test_chroma_never_embeds(store: ChromaStore):
    assert store._chunks._embedding_function is None
    assert store._documents._embedding_function is None
    assert store._chunks.configuration_json["hnsw"]["space"] == "cosine"


def test_query_returns_chunks_with_similarity(store: ChromaStore):
    results = query(store, "Provinz Dialoge")
    assert len(results) == 4  # n is capped at what the store holds
    best, score = results[0]
    assert best.chunk_id == "de.txt#1"
    assert best.text == "Die Provinz führte 1.269 Dialoge."
    assert (best.start, best.end, best.prev_id, best.next_id) == (23, 56, "de.txt#0", None)
    assert best.title == "Bac Ninh baut Modelle."
    assert 0.5 < score <= 1.0001
    assert [s for _, s in results] == sorted((s for _, s in results), reverse=True)


def test_nearest_ids_match_query(store: ChromaStore):
    vector = EMBEDDER.embed_queries(["Provinz Dialoge"])[0]
    expected = [(c.chunk_id, score) for c, score in store.query(vector, 3, {"language": "de"})]
    assert store.nearest_ids(vector, 3, {"language": "de"}) == expected
    assert [i for i, _ in expected] == ["de.txt#1", "de.txt#0"]


def test_query_filters_by_language_and_doc_id(store: ChromaStore):
    assert {c.doc_id for c, _ in query(store, "Provinz", where={"language": "ar"})} == {"ar.txt"}
    assert {c.doc_id for c, _ in query(store, "x", where={"doc_id": ["de.txt"]})} == {"de.txt"}
    both = query(store, "x", where={"doc_id": ["de.txt", "ar.txt"], "language": "de"})
    assert [c.chunk_id for c, _ in both] != [] and {c.language for c, _ in both} == {"de"}
    operator = {"$or": [{"language": "ar"}, {"doc_id": "de.txt"}]}
    assert len(query(store, "x", where=operator)) == 4


def test_documents_and_manifest(store: ChromaStore):
    document = store.get_document("de.txt")
    assert document.text == "Bac Ninh baut Modelle. Die Provinz führte 1.269 Dialoge."
    assert (document.title, document.url, document.date) == (
        "Bac Ninh baut Modelle.",
        "https://x.org/1",
        None,
    )
    assert store.get_document("missing.txt") is None
    assert store.document_ids() == {"de.txt", "ar.txt"}
    assert store.count() == 4
    assert store.manifest() == {
        "de.txt": ManifestEntry("h-de", [], 2),
        "ar.txt": ManifestEntry("h-ar", [], 2),
    }


def test_summaries_list_every_document_without_its_text(store: ChromaStore):
    summaries = sorted(store.summaries(), key=lambda summary: summary.doc_id)

    assert summaries == [
        DocumentSummary("ar.txt", "عقدت ها تينه مؤتمرا.", "ar", None, "https://x.org/1", 2),
        DocumentSummary("de.txt", "Bac Ninh baut Modelle.", "de", None, "https://x.org/1", 2),
    ]


def test_documents_containing_need_every_word_in_one_chunk(store: ChromaStore):
    lexical = store.lexical

    assert lexical.documents_containing("PROVINZ dialoge", 100) == {"de.txt"}  # case folded
    assert lexical.documents_containing("Provinz Modelle", 100) == set()  # two chunks
    assert lexical.documents_containing("ها تينه", 100) == {"ar.txt"}
    assert lexical.documents_containing("1269", 100) == {"de.txt"}  # "1.269", as tokenized
    assert lexical.documents_containing("?!", 100) == set()


def test_aliases_resolve_to_the_document(store: ChromaStore):
    store.set_aliases("de.txt", ["copy/de.txt"])
    assert store.manifest()["de.txt"].aliases == ["copy/de.txt"]
    assert store.get_document("copy/de.txt").doc_id == "de.txt"
    assert store.get_document("copy/de.txt").aliases == ["copy/de.txt"]


def test_replace_drops_the_old_chunks(store: ChromaStore):
    document, chunks = make_document("de.txt", ["Nur noch ein Satz."], "de")
    put(store, document, chunks, "h-de-2")
    assert [c.chunk_id for c in store.all_chunks() if c.doc_id == "de.txt"] == ["de.txt#0"]
    assert store.manifest()["de.txt"] == ManifestEntry("h-de-2", [], 1)


def test_all_chunks_in_document_order(store: ChromaStore):
    ids = [c.chunk_id for c in store.all_chunks()]
    assert ids == ["ar.txt#0", "ar.txt#1", "de.txt#0", "de.txt#1"]


def test_delete_and_clear(store: ChromaStore):
    store.delete_document("ar.txt")
    assert store.document_ids() == {"de.txt"}
    assert {c.doc_id for c in store.all_chunks()} == {"de.txt"}
    store.clear()
    assert (store.count(), store.document_ids()) == (0, set())
    # A cleared store takes vectors of another dimension.
    document, chunks = make_document("x.txt", ["Ein Satz."], "de")
    store.replace_document(document, chunks, np.ones((1, 3), dtype=np.float32), "h")
    assert store.count() == 1


def test_drop_incomplete_removes_chunks_without_a_complete_record(store: ChromaStore):
    # What a crash between a document's chunks and its record leaves behind: a write
    # begun (the state says so) and not finished.
    store._begin()
    store._documents.delete(ids=["ar.txt"])
    # And a record whose chunk count does not match what landed.
    store._chunks.delete(ids=["de.txt#1"])
    assert store.drop_incomplete() == ["ar.txt", "de.txt"]
    assert (store.count(), store.manifest()) == (0, {})
    assert store.lexical.entries() == {} and store.lexical.chunk_count() == 0
    assert store.drop_incomplete() == []


def test_a_lost_lexical_index_is_rebuilt_from_the_store(store: ChromaStore, tmp_path: Path):
    expected = store.lexical.search("Provinz 1269", 5)
    store.lexical.destroy()
    assert store.lexical.search("Provinz 1269", 5) == []
    assert store.refresh_lexical()
    assert store.lexical.search("Provinz 1269", 5) == expected
    assert set(store.lexical.entries()) == {"de.txt", "ar.txt"}
    assert store.lexical.resolve(["de.txt"]) == ["de.txt"]


def test_many_chunks_are_paged(tmp_path: Path):
    store = make_store(Settings(data_dir=tmp_path))
    document, chunks = make_document("big.txt", [f"Satz {i}." for i in range(2500)], "de")
    put(store, document, chunks)
    assert len(store.all_chunks()) == 2500
    assert store.manifest()["big.txt"].chunk_count == 2500
    assert store.drop_incomplete() == []

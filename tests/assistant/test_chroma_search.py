"""The distributed path: BM25 sparse vectors (ingest.sparse) and the Search API request of
the chroma-search retriever. Local Chroma implements neither sparse indexes nor the Search
API, so the request's shape is checked here, and running it needs a distributed Chroma
cluster or Chroma Cloud."""

import numpy as np
import pytest
from chromadb import SparseVector

from assistant.chroma_search import ChromaSearchRetriever, make_chroma_search, search_request
from assistant.retrieval import LexicalIndex, make_retriever
from assistant.settings import Settings
from ingest.errors import PluginError
from ingest.sparse import document_vector, query_vector, term_index
from ingest.tokens import tokenize
from tests.fakes import HashEmbedder

QUESTION = "How many proposals did Ha Tinh receive? 18.087"


def test_sparse_vectors_use_the_project_tokens_and_bm25_saturation():
    text = "Ha Tinh received 18,087 proposals; Ha Tinh thanked them."
    vector = document_vector(text)
    assert vector.indices == sorted(set(vector.indices))
    by_index = dict(zip(vector.indices, vector.values, strict=True))
    ha, received = by_index[term_index("ha")], by_index[term_index("received")]
    assert ha > received > 0  # twice beats once, saturating below k1 + 1
    assert ha < 2 * received and ha < 2.2
    # A query shares the document's dimensions for the same terms, whatever the writing.
    query = query_vector("Hà Tĩnh 18087")
    assert set(query.indices) == {term_index(t) for t in ("ha", "tinh", "18087")}
    assert set(query.indices) <= set(vector.indices) and query.values == [1.0, 1.0, 1.0]
    assert len(document_vector(" ".join(tokenize(text))).indices) == len(vector.indices)


def test_search_request_fuses_dense_and_sparse_lists_by_rrf_on_the_server():
    config = Settings().retrieval.model_copy(update={"bm25_weight": 0.5, "candidates": 30})
    vector = np.array([0.6, 0.8], dtype=np.float32)
    request = search_request(vector, QUESTION, 5, config, "bm25", "ar", ["ha-tinh.txt"])
    payload = request.to_dict()
    assert payload["filter"] == {
        "$and": [{"language": {"$eq": "ar"}}, {"doc_id": {"$in": ["ha-tinh.txt"]}}]
    }
    assert payload["limit"] == {"offset": 0, "limit": 5}
    assert set(payload["select"]["keys"]) == {
        "#document", "#score", "doc_id", "index", "start", "end", "language", "title",
    }  # fmt: skip
    # -(1 / (60 + dense rank) + 0.5 / (60 + sparse rank)): Chroma ranks ascending.
    [minus_one, fused] = payload["rank"]["$mul"]
    assert minus_one == {"$val": -1}
    dense, sparse = (term["$div"] for term in fused["$sum"])
    assert dense["left"] == {"$val": 1.0} and sparse["left"] == {"$val": 0.5}
    dense_knn = dense["right"]["$sum"][1]["$knn"]
    sparse_knn = sparse["right"]["$sum"][1]["$knn"]
    assert dense["right"]["$sum"][0] == {"$val": 60}
    assert dense_knn == {
        "query": pytest.approx([0.6, 0.8]), "key": "#embedding", "limit": 30, "return_rank": True
    }  # fmt: skip
    expected = query_vector(QUESTION)
    assert sparse_knn["key"] == "bm25" and sparse_knn["limit"] == 30
    assert sparse_knn["query"]["indices"] == expected.indices
    assert search_request(vector, QUESTION, 5, config, "bm25").to_dict()["filter"] is None


class FakeStore:
    """What the retriever sends, and one row back as distributed Chroma answers."""

    lexical = None

    def __init__(self):
        self.requests = []

    def search(self, request):
        self.requests.append(request)
        metadata = {"doc_id": "ha-tinh.txt", "index": 0, "start": 0, "end": 9,
                    "language": "ar", "title": "Ha Tinh"}  # fmt: skip
        return {"ids": [["ha-tinh.txt#0"]], "documents": [["ها تينه 18087"]],
                "metadatas": [[metadata]], "scores": [[-0.0325]]}  # fmt: skip


def test_retriever_turns_the_answer_into_passages(tmp_path):
    settings = Settings(data_dir=tmp_path, index={"sparse_key": "bm25"},
                        retrieval={"mode": "chroma-search"})  # fmt: skip
    store = FakeStore()
    retriever = make_retriever(settings, embedder=HashEmbedder(), store=store)
    assert isinstance(retriever, ChromaSearchRetriever)
    [passage] = retriever.retrieve(QUESTION, 5, language="ar")
    assert (passage.chunk_id, passage.score) == ("ha-tinh.txt#0", 0.0325)
    assert passage.text == "ها تينه 18087" and passage.language == "ar"
    assert store.requests[0].to_dict()["filter"] == {"language": {"$eq": "ar"}}


def test_chroma_search_needs_a_sparse_key(tmp_path):
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(PluginError, match="sparse_key"):
        make_chroma_search(settings, embedder=HashEmbedder(), store=FakeStore(),
                           lexical=LexicalIndex(FakeStore()))  # fmt: skip


def test_the_store_writes_sparse_vectors_only_when_asked(tmp_path):
    from ingest.store import ChromaStore
    from ingest.types import Chunk

    chunk = Chunk("a#0", "a", 0, "Ha Tinh 18.087", 0, 14, "vi")
    plain = ChromaStore.__new__(ChromaStore)
    plain.sparse_key = None
    assert "bm25" not in plain._chunk_metadata(chunk)
    plain.sparse_key = "bm25"
    assert isinstance(plain._chunk_metadata(chunk)["bm25"], SparseVector)

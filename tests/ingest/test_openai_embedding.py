"""The ``openai`` embedder (``ingest.openai_embedding``): against a scripted embeddings server
(batching, prefixes, retries, errors that name the URL and the setting), against the
product's own ``/v1/embeddings`` (the same vectors as in process; an index built by one
model is refused by another), and its registration."""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from assistant.settings import Settings, bundled_corpus
from benchmarks.embedding_speed import corpus_word_chunks
from ingest.embedding import make_embedder
from ingest.errors import ForeignEmbedderError, RemoteEmbeddingError
from ingest.language import make_language_detector
from ingest.openai_embedding import OpenAIEmbedder, make_openai
from ingest.pipeline import ingest_paths
from ingest.store import make_store
from tests.chroma import free_port
from tests.fakes import HashEmbedder
from tests.support.paths import PROJECT_ROOT
from tests.support.web import build_index, live_server, make_app, write_corpus

DIMENSION = 8


def fake_vector(text: str) -> list[float]:
    """A deterministic vector per text, as a server would compute one."""
    digest = hashlib.sha256(text.encode()).digest()
    return [byte / 255 for byte in digest[:DIMENSION]]


class ScriptedEmbeddings:
    """An OpenAI embeddings endpoint answering ``fail`` statuses first, one per request,
    then vectors (``fake_vector``), listed in reverse order with their indices."""

    def __init__(self, *fail: int, model: str = "e5-remote", api_key: str | None = None):
        self.fail, self.model, self.api_key = list(fail), model, api_key
        self.requests: list[dict] = []
        self.app = Starlette(routes=[Route("/v1/embeddings", self.embeddings, methods=["POST"])])

    async def embeddings(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.api_key and request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": {"message": "Invalid API key"}}, status_code=401)
        if self.fail:
            status = self.fail.pop(0)
            headers = {"Retry-After": "0"} if status == 429 else None
            return JSONResponse({"error": f"failure {status}"}, status, headers=headers)
        data = [
            {"object": "embedding", "index": index, "embedding": fake_vector(text)}
            for index, text in enumerate(body["input"])
        ]
        return JSONResponse({"object": "list", "data": data[::-1], "model": self.model})


@pytest.fixture
def scripted() -> Iterator[tuple[ScriptedEmbeddings, str]]:
    server = ScriptedEmbeddings()
    with live_server(server.app) as url:
        yield server, f"{url}/v1"


def normalised(rows: list[list[float]]) -> np.ndarray:
    vectors = np.asarray(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_texts_go_in_batches_with_the_e5_prefixes_and_come_back_in_order(scripted):
    server, base_url = scripted
    embedder = OpenAIEmbedder(base_url, "e5", batch_size=32)
    texts = [f"text {number}" for number in range(70)]
    vectors = embedder.embed_passages(texts)
    assert [len(request["input"]) for request in server.requests] == [32, 32, 6]
    assert server.requests[0]["input"][0] == "passage: text 0"
    assert server.requests[0]["model"] == "e5"
    np.testing.assert_allclose(vectors, normalised([fake_vector(f"passage: {t}") for t in texts]))
    query = embedder.embed_queries(["How many?"])
    np.testing.assert_allclose(query, normalised([fake_vector("query: How many?")]))
    assert embedder.embed_passages([]).shape == (0, DIMENSION)


def test_its_name_and_dimension_are_what_the_server_answers_with(scripted):
    server, base_url = scripted
    embedder = OpenAIEmbedder(base_url, "asked-for")
    assert (embedder.name, embedder.dimension) == ("e5-remote", DIMENSION)
    assert len(server.requests) == 1  # learnt once, from one small request
    embedder.embed_queries(["a"])
    server.model = "another-model"
    with pytest.raises(RemoteEmbeddingError, match="changed model"):
        embedder.embed_queries(["a"])


def test_transient_failures_are_retried_with_backoff():
    server = ScriptedEmbeddings(503, 429, 502)
    with live_server(server.app) as url:
        embedder = OpenAIEmbedder(f"{url}/v1", "e5", retries=3, backoff_s=0.01)
        assert embedder.embed_passages(["a"]).shape == (1, DIMENSION)
    assert len(server.requests) == 4


def test_a_server_that_keeps_failing_is_named_with_what_to_do():
    server = ScriptedEmbeddings(500, 500, 500)
    with live_server(server.app) as url:
        embedder = OpenAIEmbedder(f"{url}/v1", "e5", retries=2, backoff_s=0.01)
        with pytest.raises(RemoteEmbeddingError) as raised:
            embedder.embed_passages(["a"])
    message = str(raised.value)
    assert f"{url}/v1/embeddings" in message and "HTTP 500 (failure 500) 3 times" in message
    assert len(server.requests) == 3


def test_a_server_that_is_down_is_named_after_the_retries():
    url = f"http://127.0.0.1:{free_port()}/v1"
    embedder = OpenAIEmbedder(url, "e5", retries=1, backoff_s=0.01)
    with pytest.raises(RemoteEmbeddingError, match="cannot reach the embeddings server at") as e:
        embedder.embed_passages(["a"])
    assert f"{url}/embeddings after 2 tries" in str(e.value)
    assert "embedding.remote.base_url" in str(e.value)


def test_a_refused_key_and_a_wrong_url_say_which_setting_to_change():
    server = ScriptedEmbeddings(api_key="right")
    with live_server(server.app) as url:
        with pytest.raises(RemoteEmbeddingError, match=r"HTTP 401 .*embedding\.remote\.api_key"):
            OpenAIEmbedder(f"{url}/v1", "e5", api_key="wrong").embed_passages(["a"])
        assert OpenAIEmbedder(f"{url}/v1", "e5", api_key="right").embed_passages(["a"]).size
        with pytest.raises(RemoteEmbeddingError, match=r"HTTP 404 .*ending in /v1"):
            OpenAIEmbedder(url, "e5").embed_passages(["a"])  # without /v1


def test_an_answer_that_is_not_embeddings_is_an_error():
    not_embeddings = Route("/v1/embeddings", lambda _: JSONResponse({"x": 1}), methods=["POST"])
    app = Starlette(routes=[not_embeddings])
    with live_server(app) as url, pytest.raises(RemoteEmbeddingError, match="OpenAI embeddings"):
        OpenAIEmbedder(f"{url}/v1", "e5").embed_passages(["a"])


def test_the_factory_reads_embedding_remote_and_needs_its_url(tmp_path: Path):
    with pytest.raises(RemoteEmbeddingError, match=r"embedding\.remote\.base_url"):
        make_openai(Settings(data_dir=tmp_path, embedding={"backend": "openai"}))
    embedder = make_openai(
        Settings(
            data_dir=tmp_path,
            embedding={
                "backend": "openai",
                "batch_size": 4,
                "query_prefix": "",
                "remote": {"base_url": "http://tei:8080/v1/", "model": "intfloat/e5", "retries": 1},
            },
        )
    )
    assert embedder.url == "http://tei:8080/v1/embeddings"
    assert (embedder.model, embedder.batch_size, embedder.retries) == ("intfloat/e5", 4, 1)
    assert embedder.query_prefix == "" and embedder.passage_prefix == "passage: "


def test_the_openai_embedder_is_registered_under_news_assistant_embedders():
    # The installed metadata is the main checkout's; this reads the branch's own pyproject.
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry = project["project"]["entry-points"]["news_assistant.embedders"]["openai"]
    module, _, factory = entry.partition(":")
    assert (module, factory) == ("ingest.openai_embedding", "make_openai")


# --- against the product's own /v1/embeddings --------------------------------------------


class OtherHashEmbedder(HashEmbedder):
    name = "another-test-embedder"


def ingest_with(embedder, data_dir: Path, corpus: Path, rebuild: bool = True):
    settings = Settings(data_dir=data_dir)
    return ingest_paths(
        [corpus],
        settings,
        embedder=embedder,
        store=make_store(settings),
        detector=make_language_detector(settings),
        progress=False,
        rebuild=rebuild,
    )


def test_an_index_is_kept_by_the_same_model_remote_and_refused_by_another(tmp_path: Path):
    data_dir = build_index(tmp_path)  # HashEmbedder, in process
    corpus = write_corpus(tmp_path / "corpus")
    same = make_app(tmp_path / "same", "http://unused", embedder=HashEmbedder())
    other = make_app(tmp_path / "other", "http://unused", embedder=OtherHashEmbedder())
    with live_server(same) as same_url, live_server(other) as other_url:
        remote = OpenAIEmbedder(f"{same_url}/v1", "multilingual-e5-small")
        assert remote.name == HashEmbedder.name
        kept = ingest_with(remote, data_dir, corpus)
        assert (kept.new, kept.changed, kept.rebuilt) == ([], [], False)
        assert len(kept.skipped) == 3

        foreign = OpenAIEmbedder(f"{other_url}/v1", "multilingual-e5-small")
        with pytest.raises(ForeignEmbedderError):
            ingest_with(foreign, data_dir, corpus, rebuild=False)
        rebuilt = ingest_with(foreign, data_dir, corpus)
        assert rebuilt.rebuilt and len(rebuilt.new) == 3
        # And back: the in-process embedder refuses the index the other model built.
        with pytest.raises(ForeignEmbedderError):
            ingest_with(HashEmbedder(), data_dir, corpus, rebuild=False)


@pytest.mark.slow  # loads the real e5 (ONNX int8)
def test_vectors_from_the_products_endpoint_match_the_in_process_ones(
    tmp_path: Path, model_cache_dir: Path
):
    e5 = make_embedder(Settings(data_dir=tmp_path, model_cache_dir=model_cache_dir))
    app = make_app(tmp_path / "server", "http://unused", embedder=e5, api_key="secret")
    chunks = corpus_word_chunks(bundled_corpus())  # ~200-word chunks in three languages
    queries = [
        "How many proposals did Ha Tinh receive through dialogue conferences?",
        "Hà Tĩnh nhận được bao nhiêu kiến nghị?",
        "河静省收到了多少条建议？",
    ]
    with live_server(app) as url:
        remote = OpenAIEmbedder(f"{url}/v1", "multilingual-e5-small", api_key="secret")
        assert (remote.name, remote.dimension) == (e5.name, e5.dimension)
        passages = (remote.embed_passages(chunks) * e5.embed_passages(chunks)).sum(axis=1)
        asked = (remote.embed_queries(queries) * e5.embed_queries(queries)).sum(axis=1)
    assert len(chunks) >= 10
    assert passages.min() >= 0.999 and asked.min() >= 0.999, (passages.min(), asked)

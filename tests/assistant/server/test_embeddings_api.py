"""``POST /v1/embeddings``: the product's embedder in OpenAI's shape, queries told from
passages by the e5 prefix or ``input_type``, the official client (base64 by default), the
API key, and the errors."""

from __future__ import annotations

import numpy as np
import openai
import pytest
from fastapi.testclient import TestClient

from tests.fakes import HashEmbedder
from tests.support.web import assert_error, live_server, make_app

MODEL = "multilingual-e5-small"  # settings.embedding.model, as the tests' settings leave it


class PrefixSeeingEmbedder(HashEmbedder):
    """HashEmbedder that adds e5's prefixes itself, as the real embedders do, so queries and
    passages of one text differ."""

    def embed_passages(self, texts):
        return self._embed([f"passage {text}" for text in texts])

    def embed_queries(self, texts):
        return self._embed([f"query {text}" for text in texts])


@pytest.fixture(scope="module")
def client(data_dir) -> TestClient:
    return TestClient(make_app(data_dir, "http://unused", embedder=PrefixSeeingEmbedder()))


def vectors(response) -> np.ndarray:
    assert response.status_code == 200, response.text
    body = response.json()
    assert [item["index"] for item in body["data"]] == list(range(len(body["data"])))
    return np.asarray([item["embedding"] for item in body["data"]], dtype=np.float32)


def test_a_list_of_texts_gets_one_vector_each_in_openais_shape(client):
    response = client.post(
        "/v1/embeddings", json={"input": ["Ha Tinh", "Bac Ninh"], "model": MODEL}
    )
    found = vectors(response)
    body = response.json()
    assert body["object"] == "list" and body["model"] == HashEmbedder.name
    assert body["data"][0]["object"] == "embedding"
    assert found.shape == (2, HashEmbedder.dimension)
    np.testing.assert_allclose(
        found, PrefixSeeingEmbedder().embed_passages(["Ha Tinh", "Bac Ninh"])
    )
    assert body["usage"] == {"prompt_tokens": 4, "total_tokens": 4}


def test_queries_are_told_by_their_prefix_or_by_input_type(client):
    embedder = PrefixSeeingEmbedder()
    text = "How many proposals?"
    prefixed = vectors(
        client.post("/v1/embeddings", json={"input": [f"query: {text}", f"passage: {text}"],
                                            "model": MODEL})
    )  # fmt: skip
    typed = vectors(
        client.post("/v1/embeddings", json={"input": text, "model": MODEL, "input_type": "query"})
    )
    plain = vectors(client.post("/v1/embeddings", json={"input": text, "model": MODEL}))
    np.testing.assert_allclose(prefixed[0], embedder.embed_queries([text])[0])
    np.testing.assert_allclose(prefixed[1], embedder.embed_passages([text])[0])
    np.testing.assert_allclose(typed[0], prefixed[0])
    np.testing.assert_allclose(plain[0], prefixed[1])  # no prefix, no input_type: a passage


def test_the_official_client_gets_the_same_vectors_in_base64(data_dir):
    app = make_app(data_dir, "http://unused", embedder=PrefixSeeingEmbedder(), api_key="s3cret")
    with live_server(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
        reply = client.embeddings.create(model=MODEL, input=["query: Ha Tinh", "Bac Ninh"])
        wrong_key = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong_key.embeddings.create(model=MODEL, input="Ha Tinh")
    embedder = PrefixSeeingEmbedder()
    np.testing.assert_allclose(reply.data[0].embedding, embedder.embed_queries(["Ha Tinh"])[0])
    np.testing.assert_allclose(reply.data[1].embedding, embedder.embed_passages(["Bac Ninh"])[0])
    assert reply.model == HashEmbedder.name


def test_the_embedders_full_name_is_a_model_name_too_and_others_are_refused(client):
    full_name = {"input": "a", "model": HashEmbedder.name}
    assert vectors(client.post("/v1/embeddings", json=full_name)).shape == (1, 64)
    message = assert_error(
        client.post("/v1/embeddings", json={"input": "a", "model": "text-embedding-3-small"}),
        404,
        "model_not_found",
    )
    assert HashEmbedder.name in message and MODEL in message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": [], "model": MODEL}, "input: send 1 to 2048 texts, not 0"),
        ({"input": ["a", " "], "model": MODEL}, "input.1: the text is empty"),
        ({"input": "a", "model": MODEL, "dimensions": 12}, "dimensions: hash-test-embedder gives"),
        ({"input": [[1, 2, 3]], "model": MODEL}, "input"),
        ({"input": "a", "model": MODEL, "input_type": "document"}, "input_type"),
    ],
)
def test_bad_requests_get_422_naming_the_field(client, body, field):
    assert field in assert_error(
        client.post("/v1/embeddings", json=body), 422, "invalid_request_error"
    )


def test_embedding_bodies_may_be_larger_than_questions(data_dir):
    app = make_app(data_dir, "http://unused", embedder=PrefixSeeingEmbedder())
    texts = ["Hà Tĩnh " * 100] * 64  # ~60 kB of UTF-8: above max_request_bytes' 64,000
    with TestClient(app) as client:
        assert vectors(client.post("/v1/embeddings", json={"input": texts, "model": MODEL})).size
        assert_error(
            client.post("/api/ask", json={"question": "x" * 70_000}), 413, "request_too_large"
        )

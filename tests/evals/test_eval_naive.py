from types import SimpleNamespace

from assistant.settings import Settings
from evals.gold import GoldItem
from evals.naive import NaivePipeline, ProductEmbedding
from ingest.types import Document
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder

DOCUMENTS = {
    "ha_tinh.txt": Document("ha_tinh.txt", "Ha Tinh received 18,087 proposals from citizens."),
    "bac_ninh.txt": Document("bac_ninh.txt", "Bac Ninh held 1,269 dialogues with businesses."),
    "weather.txt": Document("weather.txt", "Rain is expected in the north this weekend."),
}
ITEM = GoldItem(
    "q", "en", "How many proposals did Ha Tinh receive?", "18,087", [["18087"]], ["ha_tinh"], True
)


class DictStore:
    def document_ids(self):
        return set(DOCUMENTS)

    def get_document(self, doc_id):
        return DOCUMENTS.get(doc_id)


def fake_assistant(base_url):
    return SimpleNamespace(
        settings=Settings(),
        store=DictStore(),
        embedder=HashEmbedder(),
        llm=SimpleNamespace(base_url=base_url, model="fake-model"),
    )


def test_product_embedding_uses_the_product_embedder():
    embedding = ProductEmbedding(HashEmbedder())
    expected = HashEmbedder().embed_queries(["ha tinh"])[0].tolist()
    assert embedding.get_query_embedding("ha tinh") == expected
    assert len(embedding.get_text_embedding_batch(["a", "b c"])) == 2


def test_the_naive_pipeline_answers_from_the_same_documents_and_llm():
    with FakeOpenAIServer(reply="Ha Tinh received 18,087 proposals.") as server:
        pipeline = NaivePipeline(fake_assistant(server.base_url))
        retrieved = pipeline.retrieve(ITEM.question)
        result = pipeline.answer(ITEM)
    assert retrieved[0] == "ha_tinh.txt"
    assert sorted(retrieved) == sorted(DOCUMENTS)  # every document, ranked
    assert result.answer == "Ha Tinh received 18,087 proposals."
    assert result.refused is None and result.citations == []
    timings = result.timings
    assert 0 <= timings["retrieve_s"] <= timings["ttft_s"] <= timings["total_s"]
    request = server.requests[0]
    assert request["model"] == "fake-model" and request["stream"] is True
    prompt = " ".join(message["content"] for message in request["messages"])
    assert "Ha Tinh received 18,087 proposals from citizens." in prompt
    assert ITEM.question in prompt

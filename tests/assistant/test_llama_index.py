"""The LlamaIndex integration (assistant.llama_index) driven through LlamaIndex's own APIs:
the real Assistant over a Chroma index of the API tests' corpus (HashEmbedder), a scripted
OpenAI-compatible server for the product's answers, and LlamaIndex's MockLLM wherever
LlamaIndex itself wants an LLM. Nothing is downloaded."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.retrievers import QueryFusionRetriever
from llama_index.core.schema import MetadataMode, QueryBundle

from assistant.llama_index import AnswerError, NewsQueryEngine, NewsRetriever, citations_of
from assistant.prompts import Prompts
from assistant.service import Assistant
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.web import VI_QUESTION, build_index, make_settings, scripted_reply

NOT_ANSWERED = "Wer gewann die Fußball-WM 1954?"
# Cites the right passage with the wrong figure: the product's check rejects it.
WRONG_FIGURE = "Bắc Ninh đã tổ chức 2.015 cuộc đối thoại với người dân và doanh nghiệp [1]."


def answering_reply(messages: list[dict]) -> str:
    """The API tests' scripted model, which also reads a figure off a quoted sentence when
    the answer's figures are checked a second time (``answer.figure_check``)."""
    prompt = messages[-1]["content"]
    if prompt.startswith("Sentence:"):
        sentence = prompt.partition("\n")[0]
        return next(iter(re.findall(r"\d[\d.,]*\d|\d", sentence)), "none")
    return scripted_reply(messages)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return build_index(tmp_path_factory.mktemp("llama-index"))


@pytest.fixture(scope="module")
def llm_server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=answering_reply) as server:
        yield server


@pytest.fixture(scope="module")
def assistant(data_dir, llm_server) -> Assistant:
    """One for the module: its language detector takes seconds to load."""
    return Assistant(make_settings(data_dir, llm_server.base_url), embedder=HashEmbedder())


def assistant_answering_with(assistant: Assistant, base_url: str) -> Assistant:
    """The module's index and models, another model server."""
    settings = make_settings(assistant.settings.data_dir, base_url)
    return Assistant(settings, embedder=assistant.embedder, detector=assistant.detector)


# --- NewsRetriever ---------------------------------------------------------------------


def test_retriever_returns_the_products_passages_as_nodes(assistant):
    retriever = NewsRetriever(assistant, similarity_top_k=2)
    assert isinstance(retriever, BaseRetriever)

    nodes = retriever.retrieve(VI_QUESTION)

    passages = assistant.search(VI_QUESTION, 2)
    assert len(nodes) == len(passages) == 2
    for hit, passage in zip(nodes, passages, strict=True):
        assert hit.node.node_id == passage.chunk_id
        assert hit.node.get_content() == passage.text
        assert hit.score == pytest.approx(passage.score)
        assert hit.node.ref_doc_id == passage.doc_id
        assert hit.node.metadata == {
            "doc_id": passage.doc_id,
            "title": passage.title,
            "language": passage.language,
            "start": passage.start,
            "end": passage.end,
        }
        # What an LLM reads: the text with its document, title and language, no offsets.
        for_llm = hit.node.get_content(metadata_mode=MetadataMode.LLM)
        assert passage.text in for_llm and f"doc_id: {passage.doc_id}" in for_llm
        assert "start:" not in for_llm
    assert nodes[0].node.metadata["doc_id"] == "vi/bac-ninh.txt"


def test_retriever_defaults_to_the_settings_k_and_filters(assistant):
    assert NewsRetriever(assistant).similarity_top_k == assistant.settings.retrieval.k

    arabic = NewsRetriever(assistant, language="ar").retrieve(VI_QUESTION)
    assert arabic and {hit.node.metadata["language"] for hit in arabic} == {"ar"}
    one_document = NewsRetriever(assistant, doc_ids=["en/lantern.txt"]).retrieve("Bắc Ninh")
    assert one_document and {hit.node.ref_doc_id for hit in one_document} == {"en/lantern.txt"}


def test_retriever_wraps_a_bare_product_retriever(assistant):
    nodes = NewsRetriever(assistant.retriever, similarity_top_k=1).retrieve(VI_QUESTION)
    assert [hit.node.node_id for hit in nodes] == [assistant.search(VI_QUESTION, 1)[0].chunk_id]
    with pytest.raises(TypeError, match="needs an Assistant or a retriever"):
        NewsRetriever(object())
    with pytest.raises(ValueError, match="similarity_top_k"):
        NewsRetriever(assistant, similarity_top_k=0)


def test_async_retrieval_runs_the_search_in_a_worker_thread(assistant, monkeypatch):
    threads = []
    search = assistant.search

    def recording_search(*args, **kwargs):
        threads.append(threading.get_ident())
        return search(*args, **kwargs)

    monkeypatch.setattr(assistant, "search", recording_search)
    retriever = NewsRetriever(assistant, similarity_top_k=3)

    async def both() -> tuple[list, list]:
        return await retriever.aretrieve(VI_QUESTION), retriever.retrieve(VI_QUESTION)

    asynchronous, synchronous = asyncio.run(both())

    assert [(h.node.node_id, h.score) for h in asynchronous] == [
        (h.node.node_id, h.score) for h in synchronous
    ]
    assert threads[0] != threading.get_ident() and threads[1] == threading.get_ident()


def test_retriever_query_engine_reads_the_products_passages(assistant):
    # MockLLM answers with its prompt, so the response shows what the LLM was given.
    engine = RetrieverQueryEngine.from_args(
        NewsRetriever(assistant, similarity_top_k=2), llm=MockLLM()
    )

    response = engine.query(VI_QUESTION)

    passages = assistant.search(VI_QUESTION, 2)
    assert [hit.node.node_id for hit in response.source_nodes] == [p.chunk_id for p in passages]
    assert "1.269 cuộc đối thoại" in str(response)
    assert "doc_id: vi/bac-ninh.txt" in str(response)


def test_query_fusion_retriever_fuses_per_language_news_retrievers(assistant):
    fusion = QueryFusionRetriever(
        [NewsRetriever(assistant, language="vi"), NewsRetriever(assistant, language="ar")],
        llm=MockLLM(),
        num_queries=1,  # the query alone: no generated queries
        mode="reciprocal_rerank",
        similarity_top_k=4,
    )

    nodes = fusion.retrieve(VI_QUESTION)  # use_async: the retrievers' aretrieve, gathered
    asynchronous = asyncio.run(fusion.aretrieve(VI_QUESTION))

    assert {hit.node.metadata["language"] for hit in nodes} == {"vi", "ar"}
    assert {hit.node.node_id for hit in nodes} <= {
        p.chunk_id for p in assistant.search(VI_QUESTION, 10)
    }
    assert [hit.node.node_id for hit in asynchronous] == [hit.node.node_id for hit in nodes]
    scores = [hit.score for hit in nodes]
    assert scores == sorted(scores, reverse=True)


# --- NewsQueryEngine -------------------------------------------------------------------


def test_query_engine_answers_with_the_verified_citations(assistant):
    engine = NewsQueryEngine(assistant)

    response = engine.query(VI_QUESTION)

    answer = assistant.ask(VI_QUESTION)
    assert answer.verified and response.response == answer.answer
    assert "1.269" in str(response)
    assert response.metadata["verified"] is True
    assert response.metadata["refused"] is False
    assert response.metadata["language"] == "vi"
    assert citations_of(response) == answer.citations
    [cited] = response.source_nodes
    [citation] = answer.citations
    metadata = cited.node.metadata
    assert cited.node.node_id == citation.chunk_id
    assert metadata["doc_id"] == "vi/bac-ninh.txt"
    assert metadata["supported"] is True and metadata["marker"] == citation.marker
    assert metadata["quote"] == citation.quote and citation.quote in cited.node.get_content()
    assert (metadata["quote_start"], metadata["quote_end"]) == (citation.start, citation.end)
    passage = next(p for p in answer.passages if p.chunk_id == citation.chunk_id)
    assert cited.node.get_content() == passage.text
    assert cited.score == pytest.approx(passage.score)


def test_query_engine_is_async_too(assistant):
    response = asyncio.run(NewsQueryEngine(assistant).aquery(VI_QUESTION))
    assert response.metadata["verified"] is True and len(response.source_nodes) == 1


def test_a_not_verified_reply_cites_the_quoted_evidence(assistant):
    with FakeOpenAIServer(reply=WRONG_FIGURE) as wrong:
        engine = NewsQueryEngine(assistant_answering_with(assistant, wrong.base_url))
        response = engine.query(VI_QUESTION)

    assert response.metadata["verified"] is False and response.metadata["refused"] is False
    assert response.metadata["problems"]
    assert str(response).startswith(Prompts().not_verified("vi"))
    assert response.source_nodes
    for marker, cited in enumerate(response.source_nodes, start=1):
        assert cited.node.metadata["supported"] is False
        assert cited.node.metadata["marker"] == marker
        assert cited.node.metadata["quote"] in cited.node.get_content()
    assert "1.269" in response.source_nodes[0].node.metadata["quote"]


def test_a_refusal_has_no_source_nodes(assistant):
    response = NewsQueryEngine(assistant).query(NOT_ANSWERED)
    assert response.metadata["refused"] is True
    assert response.source_nodes == [] and response.metadata["citations"] == []


def test_a_model_failure_raises_with_the_retrieved_passages(assistant):
    with FakeOpenAIServer(failure="down") as down:
        engine = NewsQueryEngine(assistant_answering_with(assistant, down.base_url))
        with pytest.raises(AnswerError, match="could not answer") as failure:
            engine.query(VI_QUESTION)
    assert failure.value.answer.error and failure.value.answer.passages


def test_query_engine_retrieves_what_an_answer_reads(assistant):
    nodes = NewsQueryEngine(assistant, k=2).retrieve(QueryBundle(VI_QUESTION))
    assert [hit.node.node_id for hit in nodes] == [
        p.chunk_id for p in assistant.search(VI_QUESTION, 2)
    ]

"""The tutorial baseline: LlamaIndex's stock ``VectorStoreIndex(...).as_query_engine()``
over the same cleaned documents, embedding model and LLM as the product, so a report can
show what the product adds. Stock means stock: its own chunking and prompt, no history,
no citations, no refusal signal. Only two settings follow the product, for a fair match:
the number of passages sent to the LLM and the generation limits."""

from __future__ import annotations

from time import perf_counter
from typing import TYPE_CHECKING, Any

from llama_index.core import Document as LlamaDocument
from llama_index.core import VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.llms.openai_like import OpenAILike
from pydantic import PrivateAttr

from evals.gold import GoldItem
from evals.metrics import RETRIEVAL_DEPTH
from evals.runner import PipelineAnswer
from ingest.interfaces import Embedder

if TYPE_CHECKING:
    from assistant.service import Assistant


class ProductEmbedding(BaseEmbedding):
    """The product's own Embedder (same model, backend and e5 prefixes) as a LlamaIndex
    embedding."""

    _embedder: Any = PrivateAttr()

    def __init__(self, embedder: Embedder, **kwargs: Any):
        super().__init__(model_name=embedder.name, **kwargs)
        self._embedder = embedder

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._embedder.embed_queries([query])[0].tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._embedder.embed_passages([text])[0].tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._embedder.embed_passages(texts).tolist()


class NaivePipeline:
    def __init__(self, assistant: Assistant):
        store = assistant.store
        documents = [store.get_document(doc_id) for doc_id in sorted(store.document_ids())]
        index = VectorStoreIndex.from_documents(
            [LlamaDocument(text=doc.text, id_=doc.doc_id) for doc in documents if doc],
            embed_model=ProductEmbedding(assistant.embedder),
        )
        settings = assistant.settings
        llm = OpenAILike(
            api_base=assistant.llm.base_url,
            model=assistant.llm.model,
            api_key=settings.llm.api_key.get_secret_value(),
            is_chat_model=True,
            temperature=settings.llm.temperature,
            max_tokens=settings.llm.max_tokens,
            timeout=settings.llm.timeout,
        )
        self.retriever = index.as_retriever(similarity_top_k=RETRIEVAL_DEPTH)
        self.query_engine = index.as_query_engine(
            llm=llm, streaming=True, similarity_top_k=settings.answer.k
        )

    def retrieve(self, question: str) -> list[str]:
        return [hit.node.ref_doc_id for hit in self.retriever.retrieve(question)]

    def answer(self, item: GoldItem) -> PipelineAnswer:
        start = perf_counter()
        response = self.query_engine.query(item.question)
        # The stream opens on the first read, so this is retrieval and prompt building.
        timings: dict[str, float | None] = {"retrieve_s": perf_counter() - start, "ttft_s": None}
        parts = []
        for delta in response.response_gen:
            if delta and timings["ttft_s"] is None:
                timings["ttft_s"] = perf_counter() - start
            parts.append(delta)
        timings["total_s"] = perf_counter() - start
        return PipelineAnswer(answer="".join(parts).strip(), refused=None, timings=timings)

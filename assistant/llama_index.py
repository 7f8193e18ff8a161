"""LlamaIndex integration: the product's retrieval and verified answers as LlamaIndex parts.

* ``NewsRetriever`` is a LlamaIndex ``BaseRetriever`` over the product's own retrieval
  (hybrid by default, with its cross-lingual lists): each ``Passage`` becomes a
  ``NodeWithScore`` whose ``TextNode`` has the passage's text, the chunk id as its id,
  ``doc_id``, ``title``, ``language``, ``start`` and ``end`` as metadata, and the document
  as its source. Plug it into any LlamaIndex pipeline: ``RetrieverQueryEngine``,
  ``QueryFusionRetriever``, a router, an agent's tool.
* ``NewsQueryEngine`` is a LlamaIndex query engine that answers with the product's own
  checked pipeline (``Assistant.ask``): the ``Response``'s text is the answer, its source
  nodes the cited passages (each with its quote and whether the quote supports the
  claim), and its metadata the rest of the ``Answer`` (``verified``, ``refused``,
  ``citations``...).

Usage::

    from assistant.service import Assistant
    from assistant.llama_index import NewsQueryEngine, NewsRetriever

    assistant = Assistant()
    nodes = NewsRetriever(assistant, similarity_top_k=3, language="de").retrieve("Ha Tinh")
    response = NewsQueryEngine(assistant).query("How many proposals did Ha Tinh receive?")
    response.metadata["verified"], response.source_nodes[0].node.metadata["quote"]

Only ``llama-index-core``, a dependency of the product, is used. The product's calls are
blocking, so the async entry points (``aretrieve``, ``aquery``) run them in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.prompts.mixin import PromptMixinType
from llama_index.core.schema import (
    NodeRelationship,
    NodeWithScore,
    QueryBundle,
    RelatedNodeInfo,
    TextNode,
)

from assistant.retrieval import Retriever
from assistant.service import Assistant
from assistant.settings import RetrievalSettings
from assistant.types import Answer, Citation, History, Passage

# Character offsets locate a node in its document; they mean nothing to an LLM or an
# embedding model, so LlamaIndex leaves them out of the text it sends to either.
OFFSET_KEYS = ["start", "end", "quote_start", "quote_end"]

Search = Callable[..., list[Passage]]


class AnswerError(RuntimeError):
    """The model failed while ``NewsQueryEngine`` answered; ``answer`` is the product's
    ``Answer``, with the passages retrieved before the failure and the model's error."""

    def __init__(self, answer: Answer):
        super().__init__(f"the model could not answer: {answer.error}")
        self.answer = answer


def passage_node(passage: Passage) -> NodeWithScore:
    """A retrieved passage as a LlamaIndex node: the passage's text, the chunk id as the
    node's id, its document as the node's source, and the retrieval score."""
    node = TextNode(
        id_=passage.chunk_id,
        text=passage.text,
        metadata={
            "doc_id": passage.doc_id,
            "title": passage.title,
            "language": passage.language,
            "start": passage.start,
            "end": passage.end,
        },
        start_char_idx=passage.start,
        end_char_idx=passage.end,
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.doc_id)},
        excluded_embed_metadata_keys=list(OFFSET_KEYS),
        excluded_llm_metadata_keys=list(OFFSET_KEYS),
    )
    return NodeWithScore(node=node, score=passage.score)


def citation_node(citation: Citation, passage: Passage | None) -> NodeWithScore:
    """A cited passage as a node (``passage_node``) with the citation in its metadata:
    ``marker`` (the n of "[n]"), ``quote`` (the sentence cited), ``quote_start`` and
    ``quote_end`` (its offsets in the document) and ``supported`` (whether the quote was
    checked to support the answer; false for the evidence of a "not verified" reply).
    Without the passage, the node's text is the quote."""
    if passage is None:
        passage = Passage(
            doc_id=citation.doc_id,
            chunk_id=citation.chunk_id,
            title=citation.title,
            language="",
            score=0.0,
            start=citation.start,
            end=citation.end,
            text=citation.quote,
        )
    cited = passage_node(passage)
    cited.node.metadata |= {
        "marker": citation.marker,
        "quote": citation.quote,
        "quote_start": citation.start,
        "quote_end": citation.end,
        "supported": citation.supported,
    }
    return cited


def answer_response(answer: Answer) -> Response:
    """The product's ``Answer`` as a LlamaIndex ``Response``: the answer text; one source
    node per citation, in the order of their markers (``citation_node``); and as metadata
    every other field of the public ``ask --json`` shape (``verified``, ``refused``,
    ``citations``, ``problems``, ``passages``...)."""
    passages = {passage.chunk_id: passage for passage in answer.passages}
    citations = sorted(answer.citations, key=lambda citation: citation.marker)
    metadata = {key: value for key, value in answer.to_dict().items() if key != "answer"}
    return Response(
        response=answer.answer,
        source_nodes=[citation_node(c, passages.get(c.chunk_id)) for c in citations],
        metadata=metadata,
    )


class NewsRetriever(BaseRetriever):
    """The product's retrieval as a LlamaIndex retriever.

    ``source`` is an ``Assistant`` (its configured retriever, ``retrieval.mode``, and its
    alias-aware document filter) or any product ``Retriever`` (``retrieve(query, k,
    language, doc_ids)``; a plugin's, say). Each query returns the ``similarity_top_k``
    best passages (default: the settings' ``retrieval.k``) as ``NodeWithScore``s
    (``passage_node``); ``language`` (ISO 639-1) and ``doc_ids`` keep only that language's
    or those documents' passages.
    """

    def __init__(
        self,
        source: Assistant | Retriever,
        *,
        similarity_top_k: int | None = None,
        language: str | None = None,
        doc_ids: Sequence[str] | None = None,
        callback_manager: CallbackManager | None = None,
        verbose: bool = False,
    ):
        if isinstance(source, Assistant):
            self._search: Search = source.search
            default_k = source.settings.retrieval.k
        elif callable(getattr(source, "retrieve", None)):
            self._search = source.retrieve
            default_k = RetrievalSettings().k
        else:
            raise TypeError(
                f"NewsRetriever needs an Assistant or a retriever with a retrieve(query, k, "
                f"language, doc_ids) method, not {type(source).__name__}"
            )
        if similarity_top_k is not None and similarity_top_k < 1:
            raise ValueError(f"similarity_top_k must be at least 1, not {similarity_top_k}")
        self.similarity_top_k = similarity_top_k or default_k
        self.language = language
        self.doc_ids = list(doc_ids) if doc_ids is not None else None
        super().__init__(callback_manager=callback_manager, verbose=verbose)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        passages = self._search(
            query_bundle.query_str,
            self.similarity_top_k,
            language=self.language,
            doc_ids=self.doc_ids,
        )
        return [passage_node(passage) for passage in passages]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


class NewsQueryEngine(BaseQueryEngine):
    """The product's checked answers as a LlamaIndex query engine.

    ``query`` asks ``assistant`` (``Assistant.ask``) and returns its ``Answer`` as a
    ``Response`` (``answer_response``): a verified answer, a refusal (no source nodes), or a
    "not verified" reply whose source nodes quote the closest evidence with ``supported``
    false. ``language`` overrides the detected language of the answer, ``k`` the number
    of passages read (default ``answer.k``), and ``history`` (earlier turns, ``[{"role":
    "user" | "assistant", "content": ...}]``) makes every query a follow-up of them.
    A model failure raises ``AnswerError``, which holds the ``Answer``.
    """

    def __init__(
        self,
        assistant: Assistant,
        *,
        language: str | None = None,
        k: int | None = None,
        history: History | None = None,
        callback_manager: CallbackManager | None = None,
    ):
        self.assistant = assistant
        self.language = language
        self.k = k
        self.history = history
        super().__init__(callback_manager=callback_manager)

    def _get_prompt_modules(self) -> PromptMixinType:
        """No LlamaIndex prompts: the product's prompts are its own templates."""
        return {}

    def retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        """The passages an answer to ``query_bundle`` would be read from, without the LLM
        (a follow-up's are retrieved for its rewritten question, so they may differ)."""
        k = self.k or self.assistant.settings.answer.k
        return NewsRetriever(self.assistant, similarity_top_k=k).retrieve(query_bundle)

    def answer(self, question: str) -> Answer:
        """The product's own ``Answer`` to ``question``, with this engine's options."""
        return self.assistant.ask(question, history=self.history, language=self.language, k=self.k)

    def _query(self, query_bundle: QueryBundle) -> Response:
        answer = self.answer(query_bundle.query_str)
        if answer.error is not None:
            raise AnswerError(answer)
        return answer_response(answer)

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


def citations_of(response: Response) -> list[Citation]:
    """The citations in a ``NewsQueryEngine`` response's metadata, as ``Citation``s."""
    return [Citation(**citation) for citation in (response.metadata or {}).get("citations", [])]


__all__ = [
    "AnswerError",
    "NewsQueryEngine",
    "NewsRetriever",
    "answer_response",
    "citation_node",
    "citations_of",
    "passage_node",
]

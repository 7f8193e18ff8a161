"""The public Python API. The CLI, the HTTP API, the chat and the evaluations all go
through ``Assistant``; it wires the backends the settings choose and builds each one
only when first needed (a `search` never starts the LLM)."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from functools import cached_property

from assistant.answering import Answerer
from assistant.library import Library
from assistant.llms import LLM, make_llm
from assistant.prompts import Prompts
from assistant.retrieval import LexicalIndex, Retriever, make_retriever
from assistant.settings import Settings
from assistant.translation import TRANSLATIONS_FILE, Translation, TranslationCache, Translator
from assistant.types import Answer, Event, History, Passage
from assistant.warm_up import warm_up
from ingest.embedding import make_embedder
from ingest.interfaces import Embedder, LanguageDetector, VectorStore
from ingest.language import make_language_detector
from ingest.store import make_store
from ingest.types import Document, DocumentRecord

WARM_UP_QUESTION = "How many proposals were received through dialogue conferences?"


class Assistant:
    """Search the indexed articles and answer questions about them.

    Each part (embedder, store, LLM, language detector, retriever) is the one the settings
    name (``ingest.plugins``), built on first use; a part passed in wins over the
    settings' choice (tests, notebooks, custom backends).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        store: VectorStore | None = None,
        llm: LLM | None = None,
        detector: LanguageDetector | None = None,
        retriever: Retriever | None = None,
    ):
        self.settings = settings or Settings()
        injected = {
            "embedder": embedder,
            "store": store,
            "llm": llm,
            "detector": detector,
            "retriever": retriever,
        }
        for name, part in injected.items():
            if part is not None:
                setattr(self, name, part)  # shadows the cached_property

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.settings)

    @cached_property
    def store(self) -> VectorStore:
        return make_store(self.settings)

    @cached_property
    def llm(self) -> LLM:
        return make_llm(self.settings)

    @cached_property
    def detector(self) -> LanguageDetector:
        return make_language_detector(self.settings)

    @cached_property
    def lexical(self) -> LexicalIndex:
        """Retrieval's reader of the store: BM25, chunks, aliases, names, kept fresh."""
        return LexicalIndex(self.store)

    @cached_property
    def retriever(self) -> Retriever:
        return make_retriever(
            self.settings, embedder=self.embedder, store=self.store, lexical=self.lexical
        )

    @cached_property
    def library(self) -> Library:
        """The indexed documents as a list: newest first, searched, a page at a time."""
        return Library(self.store, self.lexical)

    def document_names(self, keys: Collection[str]) -> dict[str, dict[str, set[str]]]:
        """The indexed documents writing one of the name ``keys`` (``ingest.names``), each
        with those keys' scripts, by doc_id."""
        return self.lexical.names(keys)

    @cached_property
    def answerer(self) -> Answerer:
        return self.answerer_with(self.llm)

    def answerer_with(self, llm: LLM) -> Answerer:
        """An answerer of the index's articles by ``llm`` (the warm-up's scripted model)."""
        return Answerer(
            self.settings,
            retriever=self.retriever,
            llm=llm,
            detector=self.detector,
            records=self.record,
            documents=self.document,
            names=self.document_names,
            embedder=self.embedder,  # sentence-level evidence, citation checks, the key fact
            passages=self.document_passages,
        )

    @cached_property
    def translator(self) -> Translator:
        """Cited sentences in the asker's language, on demand, kept under ``data_dir``."""
        return Translator(
            self.llm,
            Prompts(self.settings.answer.prompts_dir),
            self.document,
            TranslationCache(self.settings.data_dir / TRANSLATIONS_FILE),
            detector=self.detector,
        )

    def search(
        self,
        query: str,
        k: int | None = None,
        language: str | None = None,
        doc_ids: list[str] | None = None,
    ) -> list[Passage]:
        """The ``k`` passages (default ``retrieval.k``) most relevant to ``query``, best
        first; ``language`` (ISO 639-1) and ``doc_ids`` (or their aliases) filter them."""
        return self.retriever.retrieve(
            query, k or self.settings.retrieval.k, language=language, doc_ids=doc_ids
        )

    def stream(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        k: int | None = None,
    ) -> Iterator[Event]:
        """Answer ``question`` as events: the sources first, progress, then the checked
        answer, its citations and the whole ``Answer`` (``assistant.types``). ``history``
        (earlier turns) makes it a follow-up; ``language`` overrides the detected one; ``k``
        passages are retrieved (default ``answer.k``). Raises InvalidQuestion for a
        question that is not text; model failures come as an ErrorEvent, not raised."""
        return self.answerer.stream(question, history=history, language=language, k=k)

    def ask(
        self,
        question: str,
        history: History | None = None,
        language: str | None = None,
        k: int | None = None,
    ) -> Answer:
        """``stream`` run to its end: the ``Answer``, verified, refused or not verified."""
        return self.answerer.ask(question, history=history, language=language, k=k)

    def translate(self, doc_id: str, start: int, end: int, language: str) -> Translation:
        """The sentence at ``start``..``end`` of document ``doc_id`` machine translated into
        ``language`` (ISO 639-1), for the asker to read; never evidence for an answer. It is
        read from the stored document (a caller cannot pass text of its own) and kept, so
        that asking again costs no model call. Raises ``assistant.translation``'s
        UnknownLanguage and NoSuchSentence, and LLMError when the model fails."""
        return self.translator.translate(doc_id, start, end, language)

    def document(self, doc_id: str) -> Document | None:
        """A cleaned article by its id (or one of its aliases), None when not indexed."""
        return self.store.get_document(doc_id)

    def document_passages(self, doc_id: str) -> list[Passage]:
        """Every stored chunk of a document, in order, as passages (score 0): what the
        extractive reader reads of an article retrieval found."""
        passages: list[Passage] = []
        while True:
            ids = [f"{doc_id}#{index}" for index in range(len(passages), len(passages) + 64)]
            found = self.lexical.chunks(ids)
            passages += [
                Passage(c.doc_id, c.chunk_id, c.title, c.language, 0.0, c.start, c.end, c.text)
                for c in (found[i] for i in ids if i in found)
            ]
            if len(found) < len(ids):
                return passages

    def record(self, doc_id: str) -> DocumentRecord | None:
        """What ingest recorded about an article (``ingest.records``)."""
        document = self.store.get_document(doc_id)
        return document.record if document else None

    def warm_up(self) -> None:
        """Load what the first question would otherwise load: the embedding model, the
        language detector's models of every script, the lexical index, the answering path's
        own tables and the language model (``assistant.warm_up``). `assistant serve` does
        this before it listens, because native libraries hold the GIL while they load
        (llama.cpp 10.6 s, lingua 4.5 s, ONNX Runtime 5.7 s on 2 cores), which would stall
        every other request then, /api/health included."""
        warm_up(self, WARM_UP_QUESTION)

    def health(self) -> dict:
        """The index's size and whether the LLM answers (without starting it)."""
        return {
            "chunks": self.store.count(),
            "documents": len(self.store.document_ids()),
            "llm": self.llm.health(),
            "model": self.llm.model,
        }

"""The bundled corpus ingested as `assistant ingest` does it: with the fast HashEmbedder
(``ingest``: the fault tests run it both in their own process and in a child one, as an
embedded Chroma stuck on a full disk stays stuck in its process), or with an Assistant's
own parts (``ingest_into``)."""

from __future__ import annotations

from assistant.service import Assistant
from assistant.settings import Settings, bundled_corpus
from ingest.language import LinguaDetector
from ingest.pipeline import IngestReport, ingest_paths
from tests.fakes import HashEmbedder


def ingest(settings: Settings, store):
    return ingest_paths(
        [bundled_corpus()], settings, embedder=HashEmbedder(), store=store,
        detector=LinguaDetector(), progress=False,
    )  # fmt: skip


def ingest_into(assistant: Assistant) -> IngestReport:
    """The bundled corpus ingested with ``assistant``'s own embedder, store and detector."""
    return ingest_paths(
        [bundled_corpus()], assistant.settings, embedder=assistant.embedder,
        store=assistant.store, detector=assistant.detector, progress=False,
    )  # fmt: skip

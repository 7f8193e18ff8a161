"""The bundled corpus ingested as `assistant ingest` does it, with the fast HashEmbedder: the
fault tests run it both in their own process and in a child one (an embedded Chroma stuck on
a full disk stays stuck in its process), so it lives in a module both can import."""

from __future__ import annotations

from assistant.settings import Settings, bundled_corpus
from ingest.language import LinguaDetector
from ingest.pipeline import ingest_paths
from tests.fakes import HashEmbedder


def ingest(settings: Settings, store):
    return ingest_paths(
        [bundled_corpus()], settings, embedder=HashEmbedder(), store=store,
        detector=LinguaDetector(), progress=False,
    )  # fmt: skip

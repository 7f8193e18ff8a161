"""The store against a real `chroma run` server, as several app servers would share it:
the chunks and records in Chroma, a lexical index per app server kept in step with it."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import retrieval
from assistant.service import Assistant
from assistant.settings import Settings, bundled_corpus
from ingest.language import LinguaDetector
from ingest.pipeline import ingest_paths
from ingest.store import make_store
from tests.chroma import free_port, start_chroma, stop_chroma
from tests.fakes import HashEmbedder


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    server = start_chroma(tmp_path_factory.mktemp("chroma-server"), port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_chroma(server)


def test_two_app_servers_share_one_chroma_server(chroma_url: str, tmp_path: Path):
    # Each "app server" has its own data_dir: all index state must live in Chroma.
    settings_a = Settings(data_dir=tmp_path / "a", index={"chroma_url": chroma_url})
    settings_b = Settings(data_dir=tmp_path / "b", index={"chroma_url": chroma_url})
    embedder, detector = HashEmbedder(), LinguaDetector()

    report = ingest_paths(
        [bundled_corpus()],
        settings_a,
        embedder=embedder,
        store=make_store(settings_a),
        detector=detector,
        progress=False,
    )
    assert len(report.new) == 5 and report.failed == []
    assert not settings_a.index_dir.exists()

    other = make_store(settings_b)
    assert other.count() == report.chunks
    assert len(other.document_ids()) == 5
    [(best, score)] = other.query(
        embedder.embed_queries(["Bac Ninh Massenmobilisierung"])[0], 1, {"language": "de"}
    )
    assert best.language == "de" and score > 0
    assert other.get_document(best.doc_id).text[best.start : best.end] == best.text

    rerun = ingest_paths(
        [bundled_corpus()],
        settings_b,
        embedder=embedder,
        store=other,
        detector=detector,
        progress=False,
    )
    assert (rerun.new, rerun.changed, len(rerun.skipped)) == ([], [], 5)


def test_each_app_server_keeps_its_lexical_index_in_step_with_chroma(
    chroma_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """App server A ingests and changes documents; app server B, with a data_dir of its own,
    builds its lexical index from Chroma and catches up with every change."""
    monkeypatch.setattr(retrieval, "FRESHNESS_CHECK_S", 0.0)
    index = {"chroma_url": chroma_url, "collection": "lexical-sharing"}
    settings_a = Settings(data_dir=tmp_path / "a", index=index, retrieval={"mode": "bm25"})
    settings_b = Settings(data_dir=tmp_path / "b", index=index, retrieval={"mode": "bm25"})
    corpus = tmp_path / "corpus"
    shutil.copytree(bundled_corpus(), corpus)
    store_a = make_store(settings_a)

    def ingest(prune: bool = False):
        return ingest_paths([corpus], settings_a, embedder=HashEmbedder(), store=store_a,
                            detector=LinguaDetector(), prune=prune, progress=False)  # fmt: skip

    ingest()
    server_b = Assistant(settings_b, embedder=HashEmbedder())
    [first] = server_b.search("18.087", 1)
    assert first.doc_id.startswith("002_") and "18087" in first.text.replace(".", "")
    assert server_b.store.lexical.chunk_count() == store_a.lexical.chunk_count()

    changed = sorted(corpus.glob("*.txt"))[0]
    changed.write_text("Die Provinz Quang Tri meldete 4.321 neue Modelle.", encoding="utf-8")
    ingest()
    assert [p.doc_id for p in server_b.search("4321 Quang Tri", 1)] == [changed.name]
    (corpus / changed.name).unlink()
    ingest(prune=True)
    assert all("4321" not in p.text.replace(".", "") for p in server_b.search("4321", 5))
    assert server_b.store.lexical.entries() == store_a.lexical.entries()

"""`assistant ingest --ray` (``ingest.ray_ingest``) on a real local Ray cluster, a head and
one worker process on loopback, into a real `chroma run` server: the bundled corpus, then
search from an app server of its own finds the Arabic 18,087 passage for the English
question; a rerun skips everything; a job stopped between writing a batch's chunks and its
records is completed by the next run."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from benchmarks.retrieval_quality import CROSS_LINGUAL_EXAMPLE, passage_rank
from tests.support.paths import PROJECT_ROOT

pytest.importorskip("ray.data", reason="the ray extra is not installed")

from benchmarks.ray_ingest import LocalRayCluster, chroma_server
from ingest import ray_ingest
from ingest.store import ChromaStore, make_store


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRayCluster]:
    # Ray's sockets live under its temp dir, whose path must stay short (108 bytes).
    root = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    environment = {"PYTHONPATH": str(PROJECT_ROOT)}  # the workers import this tree
    local = LocalRayCluster(root, workers=1, environment=None)
    local.environment |= environment
    try:
        yield local.start()
    finally:
        local.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with chroma_server(tmp_path / "chroma") as url:
        yield url


def settings_for(data_dir: Path, chroma_url: str, models: Path) -> Settings:
    return Settings(data_dir=data_dir, model_cache_dir=models, index={"chroma_url": chroma_url})


@pytest.mark.slow
def test_the_bundled_corpus_ingested_on_ray_is_found_across_languages(
    cluster: LocalRayCluster, chroma_url: str, tmp_path: Path, model_cache_dir: Path
):
    settings = settings_for(tmp_path / "ingester", chroma_url, model_cache_dir)
    report = ray_ingest.ingest_on_ray(
        [settings.corpus_dir],
        settings,
        address=cluster.address,
        store=make_store(settings),
        progress=False,
    )
    assert report.failed == [] and len(report.new) == 5 and report.chunks > 30

    app = Assistant(settings_for(tmp_path / "app", chroma_url, model_cache_dir))
    rank = passage_rank(app.retriever, *CROSS_LINGUAL_EXAMPLE)
    assert rank is not None and rank <= 5, rank  # the Arabic 18,087 passage, for English

    rerun = ray_ingest.ingest_on_ray(
        [settings.corpus_dir], settings, address=cluster.address, store=make_store(settings),
        progress=False,
    )  # fmt: skip
    assert (rerun.new, rerun.changed, len(rerun.skipped)) == ([], [], 5)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no handler catches it."""


@pytest.mark.slow
def test_a_job_stopped_before_a_batchs_records_is_completed_by_the_next_run(
    cluster: LocalRayCluster,
    chroma_url: str,
    tmp_path: Path,
    model_cache_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    settings = settings_for(tmp_path / "ingester", chroma_url, model_cache_dir)
    monkeypatch.setattr(ray_ingest, "STORE_BATCH_CHUNKS", 10)  # several batches
    writes = {"records": 0}
    write_records = ChromaStore._write_records

    def killed_at_the_second_batch(self, batch):
        writes["records"] += 1
        if writes["records"] == 2:  # its chunks are in Chroma, its records never will be
            raise Killed
        write_records(self, batch)

    monkeypatch.setattr(ChromaStore, "_write_records", killed_at_the_second_batch)
    with pytest.raises(Killed):
        ray_ingest.ingest_on_ray(
            [settings.corpus_dir], settings, address=cluster.address,
            store=make_store(settings), progress=False,
        )  # fmt: skip
    monkeypatch.setattr(ChromaStore, "_write_records", write_records)
    store = make_store(settings)
    complete = set(store.manifest())
    assert 0 < len(complete) < 5  # the first batch's documents only

    rerun = ray_ingest.ingest_on_ray(
        [settings.corpus_dir], settings, address=cluster.address, store=store, progress=False
    )
    assert rerun.failed == [] and rerun.repaired  # the second batch's, redone
    assert set(rerun.new) | {name for name, _ in rerun.skipped} == set(store.manifest())
    assert len(store.manifest()) == 5
    counts = {doc_id: entry.chunk_count for doc_id, entry in store.manifest().items()}
    assert sum(counts.values()) == store.count()  # no chunk without its record

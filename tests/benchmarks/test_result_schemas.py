"""Every results file is what its writer wrote (``benchmarks.schema``), the scale benchmark
records a worker it stopped and its own stop itself, and the archive's real vectors are
kept on disk between runs (``benchmarks.archive_vectors``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import Settings, bundled_corpus
from benchmarks import archive_vectors, scale
from benchmarks.archive import article, paragraph_chunks
from benchmarks.archive_vectors import VectorCache
from benchmarks.scale_worker import fill
from benchmarks.schema import Map, Record, check, problems, schema_of
from ingest.store import make_store
from tests.fakes import HashEmbedder
from tests.support.paths import PROJECT_ROOT


def test_every_committed_results_file_matches_its_writers_schema():
    assert check() == []


def test_the_check_names_unexpected_missing_and_mistyped_values():
    schema = Record({"wall_s": int, "sizes": Map(Record({"p95_ms": float}))})
    typed_in = {"wall_s": "1500", "sizes": {"10000": {"p95_ms": 171.9, "note": "pasted"}}}
    assert problems(typed_in, schema) == [
        '$.wall_s: str "1500", expected int',
        "$.sizes.10000.note: a key its writer does not write",
    ]
    assert problems({}, schema) == ["$.sizes: missing", "$.wall_s: missing"]


def test_a_file_no_benchmark_writes_is_reported(tmp_path: Path):
    (tmp_path / "mine.json").write_text("{}")
    [found] = check(tmp_path)
    assert "mine.json: no benchmark writes this file" in found


def test_what_the_scale_tool_writes_fits_its_schema():
    sizes = {"1000": {"current": {key: 1.0 for key in scale.KEYS}}}
    sizes["2000"] = {"current": scale.unfinished(2000, 60)}
    run = {
        "command": "python -m benchmarks.scale",
        "wall_s": 3,
        "sizes": ["1000", "2000"],
        "load_average_1m_at_write": 1.5,
        "finished": False,
        "stopped": "SIGTERM after 3 s",
    }
    payload = scale.record(sizes, "none", {**MACHINE_INFO}, [run])
    assert problems(json.loads(json.dumps(payload)), schema_of("scale.json")) == []


MACHINE_INFO = {
    "cpu_model": "AMD EPYC",
    "cpu_flags": ["avx2"],
    "cpu_cores": 2,
    "physical_cores": 2,
    "memory_gb": 23.5,
    "processor": "x86_64",
    "python": "3.11.7",
    "load_average_1m_at_write": 1.0,
}


def run_scale(tmp_path: Path, *arguments: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.scale", "--chunks", "200", "--baseline-commit",
         "none", "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "scale.json"),
         *arguments],
        cwd=PROJECT_ROOT, env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_a_worker_past_its_timeout_is_stopped_and_recorded_by_the_tool(tmp_path: Path):
    benchmark = run_scale(tmp_path, "--timeout", "2")
    _, errors = benchmark.communicate(timeout=120)
    assert benchmark.returncode == 0, errors
    written = json.loads((tmp_path / "scale.json").read_text())
    error = written["sizes"]["200"]["current"]["error"]
    assert (error["reason"], error["signal"], error["timeout_s"]) == ("timeout", "SIGKILL", 2)
    assert 2 <= error["elapsed_s"] < 30
    assert written["runs"][-1]["finished"] is True and written["runs"][-1]["wall_s"] >= 2
    assert problems(written, schema_of("scale.json")) == []


def test_a_benchmark_stopped_by_sigterm_records_its_worker_and_itself(tmp_path: Path):
    benchmark = run_scale(tmp_path, "--timeout", "300")
    out = tmp_path / "scale.json"
    deadline = time.monotonic() + 60
    while not out.is_file():  # written, "unfinished", before the worker starts
        assert time.monotonic() < deadline and benchmark.poll() is None
        time.sleep(0.1)
    unfinished = json.loads(out.read_text())["sizes"]["200"]["current"]["error"]
    assert unfinished["reason"] == "unfinished"
    time.sleep(1.5)
    benchmark.send_signal(signal.SIGTERM)
    _, errors = benchmark.communicate(timeout=60)
    assert benchmark.returncode == 1 and "stopped by SIGTERM" in errors
    written = json.loads(out.read_text())
    error = written["sizes"]["200"]["current"]["error"]
    assert (error["reason"], error["signal"]) == ("stopped", "SIGTERM")
    assert error["elapsed_s"] >= 1
    run = written["runs"][-1]
    assert run["finished"] is False and run["stopped"].startswith("SIGTERM after")
    assert problems(written, schema_of("scale.json")) == []


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archive_vectors, "BLOCK_ARTICLES", 3)


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        self.texts = 0

    def embed_passages(self, texts):
        self.texts += len(texts)
        return super().embed_passages(texts)


def test_the_archives_vectors_are_its_chunks_embedded_once_and_kept(tmp_path: Path, small_blocks):
    embedder = CountingEmbedder()
    first = VectorCache(tmp_path, embedder, bundled_corpus())
    found = [item for item, _ in zip(first.articles(), range(7), strict=False)]
    assert [document.doc_id for document, _, _ in found] == [
        article(number, bundled_corpus()).doc_id for number in range(7)
    ]
    document, chunks, vectors = found[4]
    assert [c.text for c in chunks] == [c.text for c in paragraph_chunks(document)]
    np.testing.assert_allclose(vectors, HashEmbedder().embed_passages([c.text for c in chunks]))
    assert first.embedded_chunks == embedder.texts > 0  # three blocks of three articles

    again = VectorCache(tmp_path, CountingEmbedder(), bundled_corpus())
    later = [item for item, _ in zip(again.articles(4), range(3), strict=False)]
    assert again.embedded_chunks == 0  # read from disk
    np.testing.assert_allclose(later[0][2], vectors)

    class Other(HashEmbedder):
        name = "another-model"

    other = VectorCache(tmp_path, Other(), bundled_corpus())
    next(other.articles())
    assert other.embedded_chunks > 0 and other.directory != first.directory


def test_the_store_gets_the_cached_vectors(tmp_path: Path, small_blocks):
    store = make_store(Settings(data_dir=tmp_path / "data", index={"lexical": "none"}))
    cache = VectorCache(tmp_path / "vectors", HashEmbedder(), bundled_corpus())
    filled = fill(store, 20, "hash-test-embedder/64", cache)
    assert filled["vectors"] == "e5" and filled["chunks"] >= 20
    first = article(0, bundled_corpus())
    chunk_ids = [c.chunk_id for c in paragraph_chunks(first)]
    expected = HashEmbedder().embed_passages([c.text for c in paragraph_chunks(first)])
    np.testing.assert_allclose(store.embeddings(chunk_ids), expected, atol=1e-6)


def test_results_md_shows_each_ray_run_with_its_error():
    from benchmarks.results_md import ray_ingest_table

    run = {
        "workers": 2,
        "killed_worker_after_s": 4.0,
        "cluster_start_s": 10.0,
        "completed": False,
        "error": "RayTaskError: lost",
        "documents": 0,
        "chunks": 0,
        "failed": 0,
        "ingest_s": 9.5,
        "chunks_per_s": 0.0,
        "rerun_new": 5,
        "rerun_repaired": 2,
        "rerun_skipped": 0,
    }
    payload = {"command": "python -m benchmarks.ray_ingest", "machine": MACHINE_INFO,
               "runs": [run], "note": "n"}  # fmt: skip
    assert problems(payload, schema_of("ray_ingest.json")) == []
    text = "\n".join(ray_ingest_table(payload))
    assert "| 2 | 4.0 | False | 0 | 0 | 9.5 | 0.0 | 10.0 | 5 | 2 | 0 |" in text
    assert "Errors: 2 workers: RayTaskError: lost" in text

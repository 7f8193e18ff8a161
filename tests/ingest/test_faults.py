"""Faults of the machine under the index: a full disk during ingest, a Chroma server that
restarts while the app serves. (The LLM's faults are in tests/assistant/llms/.)"""

from __future__ import annotations

import errno
import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from assistant.service import Assistant
from assistant.settings import Settings, bundled_corpus
from ingest import pipeline
from ingest.store import make_store
from tests.chroma import free_port, start_chroma, stop_chroma
from tests.fakes import HashEmbedder
from tests.support.bundled_corpus import ingest
from tests.support.paths import PROJECT_ROOT

DISK_FULL = "the disk holding the index is full"


def assert_complete(store) -> None:
    """Every document whole: its chunks all there, nothing without a record."""
    manifest = store.manifest()
    assert sorted(manifest) == sorted(path.name for path in bundled_corpus().glob("*.txt"))
    assert store.count() == sum(entry.chunk_count for entry in manifest.values())
    assert store.drop_incomplete() == []


def test_a_full_disk_stops_ingest_with_a_clear_error_and_the_rerun_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # One document a batch, so that the disk can fill up between two of them.
    monkeypatch.setattr(pipeline, "EMBED_GROUP_CHUNKS", 1)
    monkeypatch.setattr(pipeline, "STORE_BATCH_CHUNKS", 1)
    settings = Settings(data_dir=tmp_path)
    store = make_store(settings)
    real_add, adds = store._chunks.add, []

    def add_until_the_disk_fills(**chunks):
        # The third document finds the disk full, after its old record and chunks went.
        adds.append(len(chunks["ids"]))
        if len(adds) >= 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_add(**chunks)

    store._chunks.add = add_until_the_disk_fills
    report = ingest(settings, store)

    assert len(report.new) == 2
    failed = dict(report.failed)
    assert len(failed) == 3  # the one being written and the two never tried
    assert all(DISK_FULL in why and "Free space there" in why for why in failed.values())
    assert not {Path(where).name for where in failed} & set(report.new)
    # Searchable meanwhile: the documents written are whole, the broken one is not shown.
    assert sorted(store.manifest()) == sorted(report.new)

    store._chunks.add = real_add  # space freed
    rerun = ingest(settings, store)
    assert rerun.failed == [] and len(rerun.new) == 3
    assert_complete(store)


def mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return mounted.returncode == 0


# One ingest run as `assistant ingest` is, in a process of its own (with the fast embedder):
# an embedded Chroma that hit a full disk stays stuck in its process, so a rerun is a new one.
INGEST_RUN = """
import json, sys
from pathlib import Path
from assistant.settings import Settings
from ingest.store import make_store
from tests.support.bundled_corpus import ingest
settings = Settings(data_dir=Path(sys.argv[1]))
store = make_store(settings)
report = ingest(settings, store)
manifest = store.manifest()
print(json.dumps({"new": report.new, "failed": report.failed, "repaired": report.repaired,
                  "count": store.count(), "records": sorted(manifest),
                  "record_chunks": sum(entry.chunk_count for entry in manifest.values())}))
"""


def ingest_in_a_process(data_dir: Path) -> dict:
    run = subprocess.run(
        [sys.executable, "-c", INGEST_RUN, str(data_dir)],
        capture_output=True, text=True, timeout=300, cwd=PROJECT_ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_a_real_full_disk_under_embedded_chroma(tmp_path: Path):
    """The same on a 700 KiB tmpfs, where Chroma (not Python) hits the full disk and says
    only "Error in compaction"."""
    disk = tmp_path / "small-disk"
    if not mount_tmpfs(disk, "700k"):
        pytest.skip("mounting a tmpfs needs root (CAP_SYS_ADMIN); the injected test covers it")
    try:
        first = ingest_in_a_process(disk / "data")
        assert first["failed"], first
        assert all(DISK_FULL in why for _, why in first["failed"])
        assert first["records"] == sorted(first["new"])  # nothing half-written shown
        subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)
        rerun = ingest_in_a_process(disk / "data")
        assert rerun["failed"] == [] and len(rerun["new"]) == len(first["failed"])
        assert rerun["records"] == sorted(p.name for p in bundled_corpus().glob("*.txt"))
        assert rerun["count"] == rerun["record_chunks"]
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_the_app_keeps_answering_across_a_chroma_server_restart(tmp_path: Path):
    port, path = free_port(), tmp_path / "chroma"
    server = start_chroma(path, port)
    try:
        index = {"chroma_url": f"http://127.0.0.1:{port}", "collection": uuid.uuid4().hex}
        settings = Settings(data_dir=tmp_path / "app", index=index, retrieval={"mode": "dense"})
        assistant = Assistant(settings, embedder=HashEmbedder())
        ingest(settings, assistant.store)
        before = [p.chunk_id for p in assistant.search("Ha Tinh 18.087", 3)]

        stop_chroma(server)
        server = start_chroma(path, port)

        assert [p.chunk_id for p in assistant.search("Ha Tinh 18.087", 3)] == before
        assert_complete(assistant.store)
    finally:
        stop_chroma(server)

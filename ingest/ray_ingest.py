"""Ingest over a Ray cluster (``assistant ingest --ray ADDRESS``, the optional extra ``ray``):
the files are read, cleaned, chunked and embedded by Ray Data on the cluster's workers, and
this process writes the results to the store (a Chroma server, ``index.chroma_url``, in a
deployment) in the batches and the order of the local ingest (``ingest.pipeline``).

The semantics are the local ingest's, because every decision and every write stays here:

* one read of the store's manifest plans the run; unchanged documents are skipped before
  anything is sent to the cluster (their content hash, computed on the workers, matches);
* documents are stored in batches of ``STORE_BATCH_CHUNKS`` chunks by the store's own
  ``replace_documents``, chunks first and records last, so a job killed anywhere (this
  process, a worker, the cluster) leaves documents without records, which the next run's
  ``drop_incomplete`` removes and redoes; a rerun completes the job;
* a document the workers fail on is reported, the rest is ingested; a failed Ray task is
  retried by Ray Data on another worker.

The workers need the product installed (its readers and embedders are plugins: the same
entry points on every node) and the files at the same paths (a shared file system); each
embedding actor loads the embedder once (or calls an embeddings server, with
``embedding.backend = "openai"``)."""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter

from ingest import offline
from ingest.embedding import make_embedder
from ingest.errors import DiskFullError, PluginError
from ingest.interfaces import VectorStore
from ingest.language import make_language_detector
from ingest.pipeline import (
    STORE_BATCH_CHUNKS,
    IngestReport,
    add_scanned,
    embed_prepared,
    finish,
    index_lock,
    open_index,
    plan_documents,
    prepare_document,
    progress_bar,
    read_documents,
    report_plan,
    report_unwritten,
    store_batch,
)
from ingest.readers import find_files
from ingest.settings import IngestSettings
from ingest.types import Document, DocumentWrite

INSTALL_HINT = "install the ray extra: pip install 'news-assistant[ray]'"


@dataclass(frozen=True)
class EmbedderIdentity:
    """The embedder the workers run, as this process needs it: its name and dimension (for
    the content hashes and the index's record of its model), without the model."""

    name: str
    dimension: int


def ingest_on_ray(
    paths: Sequence[Path],
    settings: IngestSettings,
    *,
    address: str,
    store: VectorStore,
    prune: bool = False,
    progress: bool = True,
    rebuild: bool = True,
) -> IngestReport:
    """``ingest_paths`` with the reading, cleaning, chunking and embedding done on the Ray
    cluster at ``address`` (see the module docstring). An embedded index is locked as the
    local ingest locks it; an index on a Chroma server is not (one ingest at a time)."""
    ray = _ray()
    local = settings.index.chroma_url is None
    with (
        index_lock(settings.index_dir, wait=False) if local else contextlib.nullcontext(),
        _connected(ray, address),
    ):
        return _ingest(ray, paths, settings, store, prune, progress, rebuild)


def _ray():
    """The ``ray`` module, with Ray Data; a clear error without the extra."""
    offline.apply()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # Ray's own telemetry: off
    try:
        import ray
        import ray.data
    except ImportError as error:
        raise PluginError(f"--ray needs Ray and Ray Data ({error}): {INSTALL_HINT}") from error
    return ray


@contextlib.contextmanager
def _connected(ray, address: str) -> Iterator[None]:
    """Connected to the cluster for the ``with`` block (a connection already made by the
    caller is used and left open)."""
    if ray.is_initialized():
        yield
        return
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConnectionError(
            f"cannot connect to the Ray cluster at {address!r} ({error}). Start it (`ray start "
            "--head` on one machine, `ray start --address HEAD:6379` on the others) or fix "
            "--ray / ray.address (ASSISTANT_RAY__ADDRESS)."
        ) from error
    try:
        yield
    finally:
        ray.shutdown()


def _ingest(
    ray,
    paths: Sequence[Path],
    settings: IngestSettings,
    store: VectorStore,
    prune: bool,
    progress: bool,
    rebuild: bool,
) -> IngestReport:
    started = perf_counter()
    _quiet_ray_data(ray)
    worker_settings = _worker_settings(settings)
    identity = EmbedderIdentity(
        *ray.get(ray.remote(num_cpus=settings.ray.cpus_per_embedder)(_identity).remote(
            worker_settings
        ))
    )  # fmt: skip
    report, stored = open_index(store, identity, rebuild)
    with progress_bar(progress) as bar:
        scanned = _scan(ray, paths, settings, identity, report)
        plan = plan_documents(scanned, stored, store, prune)
        writes = report_plan(plan, scanned, stored, report)
        task = bar.add_task("Embedding (Ray) and storing", total=len(writes))
        documents = [
            (replace(plan[doc_id].document, doc_id=doc_id, aliases=plan[doc_id].aliases),
             plan[doc_id].content_hash)
            for doc_id in writes
        ]  # fmt: skip
        embedded: list[DocumentWrite] = []
        for write, failed in _embedded(ray, documents, worker_settings):
            if failed is not None:
                report.failed.append(failed)
                bar.advance(task)
                continue
            embedded.append(write)
            if sum(len(w.chunks) for w in embedded) >= STORE_BATCH_CHUNKS:
                if not _store(embedded, store, stored, report, bar, task, settings, writes, plan):
                    break
                embedded = []
        else:
            if embedded:
                _store(embedded, store, stored, report, bar, task, settings, writes, plan)
    finish(store, stored, plan, report)
    report.seconds = perf_counter() - started
    return report


def _store(embedded, store, stored, report, bar, task, settings, writes, plan) -> bool:
    """One batch into the store (``ingest.pipeline.store_batch``); False when the disk is
    full (every planned document not written is then reported)."""
    try:
        store_batch(embedded, store, stored, report, bar, task, settings.index_dir)
    except DiskFullError as full:
        report_unwritten(full, writes, plan, report)
        return False
    return True


def _worker_settings(settings: IngestSettings) -> IngestSettings:
    """The settings the workers run with: the embedder on as many threads as its actor
    has CPUs, unless set."""
    embedding = settings.embedding
    if embedding.threads is None:
        threads = max(1, int(settings.ray.cpus_per_embedder))
        embedding = embedding.model_copy(update={"threads": threads})
    return settings.model_copy(update={"embedding": embedding})


def _identity(settings: IngestSettings) -> tuple[str, int]:
    """On a worker: the embedder's name and dimension."""
    embedder = make_embedder(settings)
    return embedder.name, embedder.dimension


def _quiet_ray_data(ray) -> None:
    """No progress bars or execution plans of Ray Data's own: the ingest shows its bar."""
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)


def _scan(
    ray,
    paths: Sequence[Path],
    settings: IngestSettings,
    identity: EmbedderIdentity,
    report: IngestReport,
) -> dict[str, tuple[Document, str]]:
    """Every readable document, cleaned and hashed on the workers, by doc_id; in the order
    of the files, as the local ingest has them (the first of two same ids wins)."""
    files, problems = find_files(paths)
    report.failed.extend((p.where, p.message) for p in problems)
    scanned: dict[str, tuple[Document, str]] = {}
    if not files:
        return scanned
    rows = [
        {"position": position, "path": str(file), "doc_id": doc_id}
        for position, (file, doc_id) in enumerate(files)
    ]
    read = ray.data.from_items(rows).map_batches(
        _read_batch,
        fn_kwargs={"settings": settings, "identity": identity},
        batch_size=settings.ray.documents_per_task,
        num_cpus=1,
    )
    found = sorted(
        (row["position"], pickle.loads(row["found"])) for row in read.iter_rows()
    )  # fmt: skip
    for _, (documents, failed) in found:
        report.failed.extend(failed)
        add_scanned(scanned, documents, report)
    return scanned


def _read_batch(batch: dict, settings: IngestSettings, identity: EmbedderIdentity) -> dict:
    """On a worker: each file's documents and failures (``read_documents``), pickled."""
    found = [
        pickle.dumps(read_documents(Path(path), doc_id, settings, identity))
        for path, doc_id in zip(batch["path"], batch["doc_id"], strict=True)
    ]
    return {"position": batch["position"], "found": found}


def _embedded(
    ray, documents: list[tuple[Document, str]], settings: IngestSettings
) -> Iterator[tuple[DocumentWrite | None, tuple[str, str] | None]]:
    """Each document chunked and embedded on the cluster, as it comes: (write, None), or
    (None, (where, why)) when it failed."""
    if not documents:
        return
    config = settings.ray
    embedders = config.embedders or max(
        1, int(ray.cluster_resources().get("CPU", 1) // config.cpus_per_embedder)
    )
    rows = [{"document": pickle.dumps(item)} for item in documents]
    embedded = ray.data.from_items(rows).map_batches(
        ChunkAndEmbed,
        fn_constructor_kwargs={"settings": settings},
        batch_size=config.documents_per_task,
        compute=ray.data.ActorPoolStrategy(size=min(embedders, len(documents))),
        num_cpus=config.cpus_per_embedder,
    )
    for row in embedded.iter_rows():
        yield pickle.loads(row["result"])


class ChunkAndEmbed:
    """A Ray actor: the language detector and the embedder loaded once, then batches of
    documents chunked and embedded (``ingest.pipeline.prepare_document``,
    ``embed_prepared``), each document's result or failure pickled."""

    def __init__(self, settings: IngestSettings):
        self.settings = settings
        self.embedder = make_embedder(settings)
        self.detector = make_language_detector(settings)

    def __call__(self, batch: dict) -> dict:
        results: list[tuple[DocumentWrite | None, tuple[str, str] | None]] = []
        prepared = []
        for blob in batch["document"]:
            document, digest = pickle.loads(blob)
            try:
                prepared.append(prepare_document(document, digest, self.settings, self.detector))
            except Exception as error:  # one document's failure must not sink the batch
                where = document.source_path or document.doc_id
                results.append((None, (where, f"not indexed: {error}")))
        report = IngestReport()
        with progress_bar(False) as bar:
            task = bar.add_task("", total=None)
            writes = embed_prepared(prepared, self.embedder, report, bar, task)
        results += [(write, None) for write in writes]
        results += [(None, failed) for failed in report.failed]
        return {"result": [pickle.dumps(result) for result in results]}

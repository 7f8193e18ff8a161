"""Incremental, crash-safe ingestion: files -> cleaned documents -> chunks -> vectors -> store.

A document is redone only when its content hash changed (the hash covers the cleaned text,
its metadata, the chunking settings, the embedding-text recipe and the embedder). Identical
texts under several names are stored once, under the first name, with the others as aliases.
Documents are stored in batches of thousands of chunks (``STORE_BATCH_CHUNKS``), across
documents, each batch's chunks written before its records, so after a crash
``drop_incomplete`` finds what to redo; the store keeps its lexical index in step."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate, pairwise
from pathlib import Path
from time import perf_counter

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from ingest.chunking import EMBEDDING_TEXT_VERSION, chunk_document, embedding_texts
from ingest.cleaning import clean_text, derive_title
from ingest.errors import DiskFullError, ForeignEmbedderError, IndexBusyError
from ingest.interfaces import Embedder, LanguageDetector, VectorStore
from ingest.readers import ReadError, find_files, read_file
from ingest.records import RECORD_VERSION, build_record
from ingest.settings import IngestSettings
from ingest.types import Chunk, Document, DocumentWrite, ManifestEntry

# Chunks embedded in one call, across documents.
EMBED_GROUP_CHUNKS = 256
# Chunks stored in one batch, across documents: Chroma adds thousands per call, and the
# records, the lexical index and the state are written once per batch. Bounds the vectors
# held before storing (4096 x 384 floats: 6 MB).
STORE_BATCH_CHUNKS = 4096
# A write that fails with less than this free where the index lives failed for want of
# space: Chroma reports a full disk as "Error in compaction", not as ENOSPC.
MIN_FREE_BYTES = 64 * 2**20
# Held by every ingest, in the index's folder: two ingests into one index would delete each
# other's documents in progress (``drop_incomplete``), or rebuild under each other.
LOCK_FILE = ".ingest.lock"


@dataclass
class IngestReport:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file or file:line, why)
    removed: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # left incomplete by an interrupted run
    rebuilt: bool = False  # the embedder changed, so the whole index was redone
    # (file, doc_id): names held by a document from outside ``ingest_paths``' own_folder
    foreign: list[tuple[str, str]] = field(default_factory=list)
    chunks: int = 0
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks / self.seconds if self.seconds else 0.0


@dataclass
class _Planned:
    """A document as it should end up in the store."""

    content_hash: str
    aliases: list[str]
    document: Document | None  # None: kept from the store untouched, not in this run


def content_hash(document: Document, settings: IngestSettings, embedder: Embedder) -> str:
    """``<embedder>:<sha256>``; the prefix tells when vectors from another model are stored."""
    payload = [
        document.text,
        document.title,
        document.url,
        document.date,
        document.language,
        settings.index.chunk_max_chars,
        settings.index.chunk_overlap_sentences,
        EMBEDDING_TEXT_VERSION,
        RECORD_VERSION,
    ]
    digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()
    return f"{_embedder_key(embedder)}:{digest}"


def _embedder_key(embedder: Embedder) -> str:
    return f"{embedder.name}/{embedder.dimension}"


def ingest_paths(
    paths: Sequence[Path],
    settings: IngestSettings,
    *,
    embedder: Embedder,
    store: VectorStore,
    detector: LanguageDetector,
    prune: bool = False,
    progress: bool = True,
    own_folder: Path | None = None,
    rebuild: bool = True,
    wait: bool = False,
) -> IngestReport:
    """Ingests ``paths`` into ``store`` (see the module docstring), holding the index's lock
    (``LOCK_FILE``): while another process holds it, waits for it when ``wait``, else raises
    ``IndexBusyError``.

    When the index holds vectors of another embedding model it is rebuilt, or, unless
    ``rebuild``, ``ForeignEmbedderError`` is raised and nothing is changed.

    With ``own_folder`` (the library's uploads), only documents read from that folder may
    be replaced: a name (file name or record id) held by any other document, the corpus's
    included, is reported in ``IngestReport.foreign`` and nothing is written for it. Names
    are checked rather than namespaced so that uploads keep the ids `assistant ingest`
    gives the same folder, and the answers' citations keep naming the files.

    An index on a Chroma server (``index.chroma_url``) is not locked: it lives on no local
    disk, and a lock file on this machine would not stop another machine's ingest."""
    local = settings.index.chroma_url is None
    with index_lock(settings.index_dir, wait=wait) if local else contextlib.nullcontext():
        return _ingest(
            paths, settings, embedder, store, detector, prune, progress, own_folder, rebuild
        )


@contextlib.contextmanager
def index_lock(index_dir: Path, *, wait: bool) -> Iterator[None]:
    """Holds ``<index_dir>/LOCK_FILE`` (an advisory lock the system drops when its process
    ends, killed or not); the holder's process id is written in it for the error."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    with path.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "unknown"
            raise IndexBusyError(
                f"another ingest (process {holder}) is running on {index_dir}; wait for it"
            ) from None
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _ingest(
    paths: Sequence[Path],
    settings: IngestSettings,
    embedder: Embedder,
    store: VectorStore,
    detector: LanguageDetector,
    prune: bool,
    progress: bool,
    own_folder: Path | None,
    rebuild: bool,
) -> IngestReport:
    started = perf_counter()
    report, stored = open_index(store, embedder, rebuild)

    with progress_bar(progress) as bar:
        scanned = _scan(paths, settings, embedder, report, bar)
        if own_folder is not None:
            _drop_foreign(scanned, stored, store, own_folder, report)
        plan = plan_documents(scanned, stored, store, prune)
        writes = report_plan(plan, scanned, stored, report)
        task = bar.add_task("Embedding and storing", total=len(writes))
        prepared: list[Prepared] = []
        embedded: list[DocumentWrite] = []
        for position, doc_id in enumerate(writes, start=1):
            last = position == len(writes)
            planned = plan[doc_id]
            document = replace(planned.document, doc_id=doc_id, aliases=planned.aliases)
            try:
                prepared.append(
                    prepare_document(document, planned.content_hash, settings, detector)
                )
            except Exception as error:  # one document's failure must not sink the batch
                report.failed.append((document.source_path or doc_id, f"not indexed: {error}"))
                bar.advance(task)
            pending = sum(len(item.chunks) for item in prepared)
            if prepared and (pending >= EMBED_GROUP_CHUNKS or last):
                embedded += embed_prepared(prepared, embedder, report, bar, task)
                prepared = []
            if embedded and (sum(len(w.chunks) for w in embedded) >= STORE_BATCH_CHUNKS or last):
                try:
                    store_batch(embedded, store, stored, report, bar, task, settings.index_dir)
                except DiskFullError as full:
                    report_unwritten(full, writes, plan, report)
                    break
                embedded = []

    finish(store, stored, plan, report)
    report.seconds = perf_counter() - started
    return report


def open_index(
    store: VectorStore, embedder: Embedder, rebuild: bool
) -> tuple[IngestReport, dict[str, ManifestEntry]]:
    """What every ingest does first: refuse (unless ``rebuild``) or clear an index of
    another embedding model, redo what an interrupted run left incomplete; the report
    begun, and the manifest of what is stored."""
    key = _embedder_key(embedder)
    if not rebuild and _other_model(store.manifest(), key):
        raise ForeignEmbedderError(
            "the index was built with another embedding model; run `assistant ingest` first"
        )
    report = IngestReport(repaired=store.drop_incomplete())
    stored = store.manifest()
    if _other_model(stored, key):
        # Vectors of another model cannot share a collection with this one's.
        store.clear()
        stored, report.rebuilt = {}, True
    return report, stored


def finish(
    store: VectorStore,
    stored: dict[str, ManifestEntry],
    plan: dict[str, _Planned],
    report: IngestReport,
) -> None:
    """What every ingest does last: delete the documents the plan drops (``--prune``), and
    give unchanged documents their new aliases."""
    removed = sorted(stored.keys() - plan.keys())
    store.delete_documents(removed)
    report.removed.extend(removed)
    for doc_id, planned in plan.items():
        entry = stored.get(doc_id)
        unchanged = entry and entry.content_hash == planned.content_hash
        if unchanged and entry.aliases != planned.aliases:
            store.set_aliases(doc_id, planned.aliases)


def _other_model(stored: dict[str, ManifestEntry], embedder_key: str) -> bool:
    """Whether some stored vectors are another embedding model's."""
    return any(not entry.content_hash.startswith(f"{embedder_key}:") for entry in stored.values())


def progress_bar(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        disable=not enabled,
    )


def _scan(
    paths: Sequence[Path],
    settings: IngestSettings,
    embedder: Embedder,
    report: IngestReport,
    bar: Progress,
) -> dict[str, tuple[Document, str]]:
    """Every readable document of this run, cleaned, with its content hash, by name."""
    files, problems = find_files(paths)
    report.failed.extend((p.where, p.message) for p in problems)
    scanned: dict[str, tuple[Document, str]] = {}
    for file, doc_id in bar.track(files, description="Reading"):
        documents, failed = read_documents(file, doc_id, settings, embedder)
        report.failed.extend(failed)
        add_scanned(scanned, documents, report)
    return scanned


def read_documents(
    file: Path, doc_id: str, settings: IngestSettings, embedder: Embedder
) -> tuple[list[tuple[Document, str]], list[tuple[str, str]]]:
    """One file's documents, cleaned, each with its content hash, and what failed in it
    ((where, why) each). Runs wherever the file can be read (a Ray worker too)."""
    try:
        raws, problems = read_file(file, doc_id, int(settings.index.max_file_mb * 1_000_000))
    except ReadError as error:
        return [], [(str(file), str(error))]
    failed = [(p.where, p.message) for p in problems]
    documents = []
    for raw in raws:
        cleaned = clean_text(raw.text)
        if not cleaned.text:
            failed.append((str(file), "no text left after removing boilerplate"))
        else:
            document = replace(raw, text=cleaned.text, url=raw.url or cleaned.url)
            documents.append((document, content_hash(document, settings, embedder)))
    return documents, failed


def add_scanned(
    scanned: dict[str, tuple[Document, str]],
    documents: list[tuple[Document, str]],
    report: IngestReport,
) -> None:
    """``documents`` into ``scanned`` by doc_id; one whose id is taken is a failure."""
    for document, digest in documents:
        if document.doc_id in scanned:
            other = scanned[document.doc_id][0].source_path
            report.failed.append(
                (document.source_path, f"doc_id {document.doc_id!r} already used by {other}")
            )
        else:
            scanned[document.doc_id] = (document, digest)


def _drop_foreign(
    scanned: dict[str, tuple[Document, str]],
    stored: dict[str, ManifestEntry],
    store: VectorStore,
    own_folder: Path,
    report: IngestReport,
) -> None:
    """Takes out of ``scanned`` each name held, as its id or an alias, by a stored document
    whose source is not in ``own_folder``, and reports it in ``report.foreign``."""
    holders = {name: doc_id for doc_id, kept in stored.items() for name in (doc_id, *kept.aliases)}
    own = own_folder.resolve()
    for name in sorted(scanned.keys() & holders.keys()):
        holder = store.get_document(holders[name])
        if holder is not None and Path(holder.source_path).resolve().is_relative_to(own):
            continue
        document = scanned.pop(name)[0]
        report.foreign.append((document.source_path, name))


def plan_documents(
    scanned: dict[str, tuple[Document, str]],
    stored: dict[str, ManifestEntry],
    store: VectorStore,
    prune: bool,
) -> dict[str, _Planned]:
    """The store's intended state: one record per distinct text, keyed by its primary name.
    An existing record keeps its primary name when it can, so it is not re-embedded."""
    groups: dict[str, list[str]] = {}
    for name in sorted(scanned):
        groups.setdefault(scanned[name][1], []).append(name)
    stored_by_hash = {entry.content_hash: doc_id for doc_id, entry in stored.items()}

    plan: dict[str, _Planned] = {}
    for digest, names in groups.items():
        all_names = set(names)
        previous = stored_by_hash.get(digest)
        if previous is not None and not prune:
            old_names = {previous, *stored[previous].aliases}
            all_names |= {n for n in old_names if n not in scanned}
        primary = previous if previous in all_names else names[0]
        source = scanned[primary if primary in scanned else names[0]][0]
        plan[primary] = _Planned(digest, sorted(all_names - {primary}), source)
    if prune:
        return plan

    # Records not in this run stay, less the names this run gave other texts.
    for doc_id, entry in stored.items():
        if entry.content_hash in groups:
            continue
        remaining = sorted(n for n in {doc_id, *entry.aliases} if n not in scanned)
        if doc_id in remaining:
            plan[doc_id] = _Planned(entry.content_hash, [n for n in remaining if n != doc_id], None)
        elif remaining:
            # Its primary name now holds another text: re-file it under a remaining alias.
            kept = store.get_document(doc_id)
            plan[remaining[0]] = _Planned(entry.content_hash, remaining[1:], kept)
    return plan


def report_plan(
    plan: dict[str, _Planned],
    scanned: dict[str, tuple[Document, str]],
    stored: dict[str, ManifestEntry],
    report: IngestReport,
) -> list[str]:
    """Record the fate of each scanned name not to be written; return the doc_ids to write."""
    writes = []
    for doc_id, planned in plan.items():
        unchanged = doc_id in stored and stored[doc_id].content_hash == planned.content_hash
        if planned.document is not None and not unchanged:
            writes.append(doc_id)
        elif doc_id in scanned:
            report.skipped.append((doc_id, "unchanged"))
        report.skipped.extend(
            (alias, f"same text as {doc_id}") for alias in planned.aliases if alias in scanned
        )
    return writes


@dataclass
class Prepared:
    """A document chunked and ready to embed."""

    document: Document
    content_hash: str
    chunks: list[Chunk]


def prepare_document(
    document: Document, digest: str, settings: IngestSettings, detector: LanguageDetector
) -> Prepared:
    if document.language == "und":
        document.language = detector.detect(document.text)
    if not document.title:
        document.title = derive_title(document.text, document.language)
    document.record = build_record(document)
    chunks = chunk_document(
        document,
        settings.index.chunk_max_chars,
        settings.index.chunk_overlap_sentences,
        detector,
    )
    return Prepared(document, digest, chunks)


def embed_prepared(
    prepared: list[Prepared],
    embedder: Embedder,
    report: IngestReport,
    bar: Progress,
    task: TaskID,
) -> list[DocumentWrite]:
    """Embed several documents' chunks in one call (for a backend that batches texts,
    short documents alone make small batches). Should the joint call fail, each document
    is embedded alone, so only the one at fault is lost."""
    texts = [embedding_texts(item.document, item.chunks) for item in prepared]
    try:
        vectors = embedder.embed_passages([text for group in texts for text in group])
        offsets = list(accumulate((len(group) for group in texts), initial=0))
        vectors_by_document = [vectors[a:b] for a, b in pairwise(offsets)]
    except Exception:
        vectors_by_document = [None] * len(prepared)
    embedded = []
    for item, document_texts, document_vectors in zip(
        prepared, texts, vectors_by_document, strict=True
    ):
        document = item.document
        try:
            if document_vectors is None:
                document_vectors = embedder.embed_passages(document_texts)
        except Exception as error:  # one document's failure must not sink the batch
            report.failed.append((document.source_path or document.doc_id, f"not indexed: {error}"))
            bar.advance(task)
        else:
            embedded.append(
                DocumentWrite(document, item.chunks, document_vectors, item.content_hash)
            )
    return embedded


def store_batch(
    embedded: list[DocumentWrite],
    store: VectorStore,
    stored: dict[str, ManifestEntry],
    report: IngestReport,
    bar: Progress,
    task: TaskID,
    index_dir: Path,
) -> None:
    """Store a batch of embedded documents in one go; should that fail, each alone, so
    only the one at fault is lost. A full disk stops it all (``DiskFullError``): every
    further write would fail too."""

    def outcome(write: DocumentWrite, error: Exception | None) -> None:
        document = write.document
        if error is not None:
            report.failed.append((document.source_path or document.doc_id, f"not indexed: {error}"))
        else:
            (report.changed if document.doc_id in stored else report.new).append(document.doc_id)
            report.chunks += len(write.chunks)
        bar.advance(task)

    try:
        store.replace_documents(embedded)
    except Exception as error:
        if _disk_full(error, index_dir):  # the batch's chunks took the space: no retries
            raise DiskFullError(f"a batch of {len(embedded)} documents") from error
        for write in embedded:
            try:
                store.replace_documents([write])
            except Exception as error:
                if _disk_full(error, index_dir):
                    raise DiskFullError(write.document.doc_id) from error
                outcome(write, error)
            else:
                outcome(write, None)
    else:
        for write in embedded:
            outcome(write, None)


def report_unwritten(
    full: DiskFullError, writes: list[str], plan: dict[str, _Planned], report: IngestReport
) -> None:
    """Every planned document neither written nor already failed, as failed for ``full``."""
    done = {*report.new, *report.changed}
    failed = {where for where, _ in report.failed}
    for doc_id in writes:
        where = plan[doc_id].document.source_path or doc_id
        if doc_id not in done and where not in failed:
            report.failed.append((where, str(full)))


def _disk_full(error: BaseException, index_dir: Path) -> bool:
    """Whether ``error`` (or its cause) is a full disk, or it came with almost no space left
    where an embedded index lives."""
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            return True
    if not index_dir.exists():  # a Chroma server's disk is the server's business
        return False
    return shutil.disk_usage(index_dir).free < MIN_FREE_BYTES

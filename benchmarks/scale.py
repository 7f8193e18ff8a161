"""The scale benchmark: the current code and the branch point's, each at several corpus sizes,
in the same run, on the same generated archive (``benchmarks.archive``).

    .venv/bin/python -m benchmarks.scale                          # 10k, 30k, 100k chunks
    .venv/bin/python -m benchmarks.scale --chunks 10000 --baseline-commit none

Writes benchmarks/results/scale.json: per size, the figures of the current code
(``current``), of the branch point (``baseline``) and their ratio (current / baseline),
each with exactly the keys of ``KEYS`` (and diagnostics under ``details``); a curve fitted
to the sizes and extrapolated to a million chunks; the machine (CPU model and SIMD flags)
and the targets, with whether each is met at the largest size measured. Each size runs in
a fresh process (``benchmarks.scale_worker``) and a fresh data directory; the baseline's
source is taken from git and put first on the path.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.run import GOLD, PROJECT_ROOT, RESULTS_DIR, machine
from benchmarks.scale_worker import CHILD_KEYS
from benchmarks.schema import MACHINE, NUMBER, Either, List, Map, Record, nullable

BASELINE_COMMIT = "2abc3c2"
SIZES = (10_000, 30_000, 100_000)
EXTRAPOLATE_TO = 1_000_000
KEYS = (
    "articles",
    "chunks",
    "store_write_chunks_per_s",
    "add_1000_articles_s",
    "add_1000_articles_ratio",
    *CHILD_KEYS,  # measured in the worker's fresh process
)
# At the largest size: (key, comparison, bound).
TARGETS = (
    ("add_1000_articles_ratio", "<=", 1.2),
    ("start_to_first_search_s", "<=", 5.0),
    ("store_write_chunks_per_s", ">=", 1000),
    ("hybrid_p95_ms", "<=", 200),
    ("rss_mb_after_queries", "<=", 1536),
    ("gold_recall_at_5", ">=", 0.95),
)
# From this size on the archive's vectors are its chunks embedded by the product's embedder
# (benchmarks.archive_vectors, kept between runs), so that recall measures dense retrieval
# against real distractors; below it, random unit vectors (nothing to embed).
REAL_VECTORS_FROM = 10_000
VECTOR_CACHE = PROJECT_ROOT / ".assistant" / "scale-vectors"
LOG_TAIL_CHARS = 4000
# A ratio of a whole to its part is at least 1 whatever a power law fitted to it says.
NOT_EXTRAPOLATED = ("add_1000_articles_ratio",)
PACKAGES = ("assistant", "ingest", "evals", "prompts")


def baseline_tree(commit: str, into: Path) -> Path:
    """The product's packages as of ``commit`` (``benchmarks`` stays the current one)."""
    archive = subprocess.run(
        ["git", "archive", commit, *PACKAGES], cwd=PROJECT_ROOT, capture_output=True, check=True
    ).stdout
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


class Stopped(Exception):
    """The benchmark itself was told to stop (SIGTERM, SIGINT: an outer time limit)."""

    def __init__(self, signal_number: int):
        super().__init__(signal.Signals(signal_number).name)
        self.signal_name = signal.Signals(signal_number).name


def stop_on_signals() -> None:
    """SIGTERM and SIGINT raise ``Stopped``, so that the worker in flight is stopped and
    recorded as such, with the run, before the benchmark exits."""

    def stop(signal_number: int, frame) -> None:
        raise Stopped(signal_number)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def failure(reason: str, began: float, log: Path, timeout_s: int, **exit_status) -> dict:
    """A worker's ``error``, as the tool saw it: why it ended (``timeout``, ``exit``,
    ``signal``, ``stopped``: the benchmark was; ``unfinished``: written before the worker
    started and left by a benchmark killed outright), how (its exit code or signal), after
    how long, at which step (the last line of its log) and the log's end."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    steps = [line for line in text.splitlines() if line.startswith("[")]
    return {
        "error": {
            "reason": reason,
            "exit_code": exit_status.get("exit_code"),
            "signal": exit_status.get("signal"),
            "elapsed_s": round(time.perf_counter() - began, 1),
            "timeout_s": timeout_s,
            "step": steps[-1] if steps else None,
            "log": text[-LOG_TAIL_CHARS:],
        }
    }


def unfinished(chunks: int, timeout_s: int) -> dict:
    """What a size holds while its worker runs: should the benchmark be killed outright
    (SIGKILL), this is what stays in scale.json, written by the tool."""
    return {
        "error": {
            "reason": "unfinished",
            "exit_code": None,
            "signal": None,
            "elapsed_s": 0.0,
            "timeout_s": timeout_s,
            "step": f"the benchmark ended while the worker of {chunks} chunks ran, before it "
            "could record the worker's end (killed outright, or the machine stopped)",
            "log": "",
        }
    }


def run_worker(
    chunks: int,
    source: Path | None,
    work: Path,
    models: Path,
    timeout: int,
    vectors: str = "random",
    vector_cache: Path = VECTOR_CACHE,
    chroma_server: bool = False,
) -> dict:
    """One size with the current code (``source`` None) or the tree at ``source``: its
    figures, or its ``failure``. Raises ``Stopped`` (after stopping the worker) when the
    benchmark is."""
    side = "baseline" if source else "current"
    data_dir = work / f"data-{side}-{chunks}"
    out = work / f"result-{side}-{chunks}.json"
    environment = dict(os.environ)
    cwd = PROJECT_ROOT
    if source is not None:  # its packages first; benchmarks from here
        cwd = source
        environment["PYTHONPATH"] = os.pathsep.join([str(source), str(PROJECT_ROOT)])
    log = out.with_suffix(".log")
    began = time.perf_counter()
    command = [
        sys.executable, "-m", "benchmarks.scale_worker", "--chunks", str(chunks),
        "--data-dir", str(data_dir), "--models", str(models), "--gold", str(GOLD),
        "--out", str(out), "--vectors", vectors, "--vector-cache", str(vector_cache),
        *(["--chroma-server"] if chroma_server else []),
    ]  # fmt: skip
    with log.open("w") as errors:  # the worker's progress and any traceback
        # A session of its own: stopping it stops its child (the search process) too.
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=errors,
            start_new_session=True,
        )  # fmt: skip
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(process)
            return failure("timeout", began, log, timeout, signal="SIGKILL")
        except Stopped as stopped:
            _stop(process)
            stopped.result = failure("stopped", began, log, timeout, signal=stopped.signal_name)
            raise
    if code < 0:
        return failure("signal", began, log, timeout, signal=signal.Signals(-code).name)
    if code != 0:
        return failure("exit", began, log, timeout, exit_code=code)
    result = json.loads(out.read_text())
    result["details"]["worker_wall_s"] = time.perf_counter() - began
    return result


def _stop(process: subprocess.Popen) -> None:
    """The worker and its children, killed (their figures are lost either way)."""
    with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def ratios(current: dict, baseline: dict) -> dict:
    return {
        key: round(current[key] / baseline[key], 3) if baseline.get(key) else None
        for key in KEYS
        if key in current and key in baseline
    }


def partial(failed: dict) -> dict:
    """What a worker that failed or was stopped measured before: its store write, from the
    "filled: {...}" line of its log (``error.log``)."""
    error = failed.get("error") or {}
    text = error.get("log", "") if isinstance(error, dict) else error
    for line in text.splitlines():
        _, found, figures = line.partition("filled: ")
        if found:
            filled = json.loads(figures.split("; ")[0])
            return {
                "articles": filled["articles"],
                "chunks": filled["chunks"],
                "store_write_chunks_per_s": round(filled["chunks"] / filled["write_s"], 1),
            }
    return {}


def with_partial_baselines(sizes: dict) -> dict:
    """Each worker that failed after writing the archive gets that figure under
    ``partial``; a baseline's, its ratio too."""
    for row in sizes.values():
        if "error" in row["current"] and partial(row["current"]):
            row["current"]["partial"] = partial(row["current"])
        baseline = row.get("baseline") or {}
        if "error" in baseline and "error" not in row["current"]:
            figures = partial(baseline)
            if figures:
                baseline["partial"] = figures
                keys = {"store_write_chunks_per_s"}
                row["ratio_to_baseline"] = {
                    key: value
                    for key, value in ratios(row["current"], figures).items()
                    if key in keys
                }
    return sizes


def extrapolate(sizes: dict[str, dict]) -> dict:
    """Each key of the current code fitted as ``a * chunks^b`` over the sizes measured
    (log-log least squares), at ``EXTRAPOLATE_TO`` chunks."""
    rows = [result for result in sizes.values() if "error" not in result.get("current", {})]
    if len(rows) < 2:
        return {}
    chunks = np.log([row["current"]["chunks"] for row in rows])
    curve = {}
    for key in KEYS[2:]:
        values = np.array([row["current"][key] for row in rows], dtype=float)
        if np.any(values <= 0):
            continue
        slope, intercept = np.polyfit(chunks, np.log(values), 1)
        at = float(np.exp(intercept + slope * np.log(EXTRAPOLATE_TO)))
        curve[key] = {"exponent": round(float(slope), 3), f"at_{EXTRAPOLATE_TO}": round(at, 3)}
    return curve


def targets_met(largest: dict) -> dict:
    met = {}
    for key, comparison, bound in TARGETS:
        value = largest.get(key)
        if value is None:
            continue
        ok = value <= bound if comparison == "<=" else value >= bound
        met[key] = {"value": round(value, 3), "target": f"{comparison} {bound}", "met": bool(ok)}
    return met


def rounded(result: dict) -> dict:
    def fix(value):
        if isinstance(value, float):
            return round(value, 4 if abs(value) < 10 else 1)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return fix(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--baseline-commit", default=BASELINE_COMMIT, help="'none': skip it.")
    parser.add_argument(
        "--baseline-chunks",
        type=int,
        nargs="*",
        help="Measure the baseline at these of the sizes only (default: all).",
    )
    parser.add_argument("--work-dir", type=Path, help="Keep data directories here.")
    parser.add_argument("--timeout", type=int, default=3600, help="Seconds per size and code.")
    parser.add_argument(
        "--vectors",
        choices=("auto", "e5", "random"),
        default="auto",
        help=f"The archive's vectors: auto = e5 from {REAL_VECTORS_FROM} chunks on, random "
        "below; e5 = its chunks embedded by the product's embedder (hours at 100,000 chunks "
        "the first time, then read from --vector-cache); random = random unit vectors.",
    )
    parser.add_argument("--vector-cache", type=Path, default=VECTOR_CACHE)
    parser.add_argument(
        "--chroma-server",
        action="store_true",
        help="The current code's index on a `chroma run` server (started by each worker, on "
        "loopback), so that the app server's RSS is measured without the HNSW graph.",
    )
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="Measure nothing: recompute the derived figures of the existing scale.json.",
    )
    parser.add_argument(
        "--extend",
        action="store_true",
        help="Add these sizes to the existing scale.json (another run, its command recorded).",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "scale.json")
    args = parser.parse_args()
    if args.rewrite:
        rewrite(args.out)
        return
    stop_on_signals()
    began = time.perf_counter()
    command = " ".join(["python -m benchmarks.scale", *sys.argv[1:]])
    models = Path(os.environ.get("ASSISTANT_MODEL_CACHE_DIR", ".assistant/models")).resolve()
    with tempfile.TemporaryDirectory(prefix="scale-") as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        source = None
        if args.baseline_commit != "none":
            source = baseline_tree(args.baseline_commit, work / "baseline-src")
        # Every size of the current code first, then the baseline's: when the time runs
        # out, what is missing is the comparison, not the curve.
        sizes: dict[str, dict] = {}
        runs: list[dict] = []
        baseline_commit = args.baseline_commit
        if args.extend:
            previous = previous_record(args.out)
            sizes, runs = previous["sizes"], previous["runs"]
            if baseline_commit == "none":  # the earlier sizes' baseline
                baseline_commit = previous["baseline_commit"]

        def save(finished: bool = False, stopped: str | None = None) -> None:
            at = machine()
            run = {
                "command": command,
                "wall_s": round(time.perf_counter() - began),
                "sizes": [str(chunks) for chunks in args.chunks],
                "load_average_1m_at_write": at["load_average_1m_at_write"],
                "finished": finished,
                "stopped": stopped,
            }
            write(record(sizes, baseline_commit, at, [*runs, run]), args.out)

        def measure(chunks: int, side: str, tree: Path | None) -> None:
            row = sizes.setdefault(str(chunks), {})
            row[side] = unfinished(chunks, args.timeout)
            save()
            vectors = args.vectors
            if vectors == "auto":
                vectors = "e5" if chunks >= REAL_VECTORS_FROM else "random"
            try:
                result = run_worker(
                    chunks, tree, work, models, args.timeout, vectors, args.vector_cache,
                    chroma_server=args.chroma_server and tree is None,
                )  # fmt: skip
            except Stopped as stopped:
                row[side] = rounded(stopped.result)
                raise
            print(chunks, side, json.dumps(result)[:600], flush=True)
            row[side] = rounded(result)
            if "baseline" in row and "error" not in row["current"] and "error" not in row[side]:
                row["ratio_to_baseline"] = ratios(row["current"], row["baseline"])
            save()

        try:
            for chunks in args.chunks:
                measure(chunks, "current", None)
            for chunks in args.chunks:
                if source is None or (args.baseline_chunks and chunks not in args.baseline_chunks):
                    continue
                measure(chunks, "baseline", source)
        except Stopped as stopped:
            save(stopped=f"{stopped.signal_name} after {round(time.perf_counter() - began)} s")
            sys.exit(f"stopped by {stopped.signal_name}; what was measured is in {args.out}")
        save(finished=True)


NOTE = (
    "Archive: benchmarks.archive (articles of 5-10 paragraphs, each with one of 9 "
    "language labels; text from the bundled corpus's sentences, which are German, Arabic "
    "and Hungarian, with generated names and numbers) plus the bundled corpus embedded "
    "with the real model (multilingual-e5-small, onnx-int8), which the gold questions ask"
    f" about. The archive's vectors: from {REAL_VECTORS_FROM:,} archive chunks on, its "
    "chunks embedded by the same model (benchmarks.archive_vectors, kept between runs), "
    "so that they compete with the gold passages; below, random unit vectors; "
    "details.archive_vectors says which. A size is the archive's chunks; the chunks key "
    "counts everything searched (archive, bundled corpus and the 1,000 added articles). "
    "add_1000_articles: 1,000 new articles ingested by ingest_paths (random vectors, so "
    "the model's time is left out) while a retriever built before runs, until its next "
    "search returns; the ratio divides that by the time spent embedding (random) and in "
    "Chroma's add of their chunks during the same ingest; "
    "details.add_1000_articles_ratio_e5_estimate puts the real model's time back in, from"
    " its measured speed on 16 of the same chunks. start_to_first_search_s: a new process"
    " (imports, model load, store open) until its first hybrid search returns. RSS "
    "figures exclude the embedding model (the RSS a second copy of it adds, "
    "details.models_mb); with --chroma-server the index is on a `chroma run` server "
    "(details.index; the server's own RSS in details.chroma_server_rss_mb). Latency: 300 "
    "hybrid searches of the gold questions, query embedding included. ratio_to_baseline: "
    "current / baseline. A worker that did not finish has an error written by this tool: "
    "reason (timeout, exit, signal, stopped: the benchmark was, unfinished: the benchmark"
    " was killed outright while it ran), exit code or signal, seconds, its last step and "
    "its log's end; partial: what it measured before. Each run records its wall time at "
    "every write, and whether it finished or what stopped it. "
    "targets_at_1000000_extrapolated: the targets against the log-log fit, a rough guide "
    "when fitted to two or three sizes (not add_1000_articles_ratio: a whole over its "
    "part stays above 1 whatever the fit says)."
)

FIGURES = Record(
    {key: NUMBER for key in KEYS},
    optional={"details": Map(Either((NUMBER, bool, str, None)))},
)
FAILED = Record(
    {
        "error": Record(
            {
                "reason": str,
                "exit_code": nullable(int),
                "signal": nullable(str),
                "elapsed_s": float,
                "timeout_s": int,
                "step": nullable(str),
                "log": str,
            }
        )
    },
    optional={
        "partial": Record({"articles": int, "chunks": int, "store_write_chunks_per_s": float})
    },
)
TARGET = Record({"value": float, "target": str, "met": bool})
RESULT_SCHEMAS = {
    "scale.json": Record(
        {
            "machine": MACHINE,
            "runs": List(
                Record(
                    {
                        "command": str,
                        "wall_s": int,
                        "sizes": List(str),
                        "load_average_1m_at_write": float,
                        "finished": bool,
                        "stopped": nullable(str),
                    }
                )
            ),
            "baseline_commit": str,
            "keys": List(str),
            "sizes": Map(
                Record(
                    {"current": Either((FIGURES, FAILED))},
                    optional={
                        "baseline": Either((FIGURES, FAILED)),
                        "ratio_to_baseline": Map(nullable(float)),
                    },
                )
            ),
            "extrapolated_current": Map(Record({"exponent": float, f"at_{EXTRAPOLATE_TO}": float})),
            "targets_at_largest_size": Map(TARGET),
            f"targets_at_{EXTRAPOLATE_TO}_extrapolated": Map(TARGET),
            "note": str,
        }
    )
}


def record(sizes: dict, baseline_commit: str, machine_info: dict, runs: list[dict]) -> dict:
    """scale.json's content: ``runs`` are the commands that measured the sizes (several
    when a later run added sizes with ``--extend``), each with its wall time."""
    sizes = with_partial_baselines(dict(sorted(sizes.items(), key=lambda item: int(item[0]))))
    measured = [row for row in sizes.values() if "error" not in row["current"]]
    largest = measured[-1]["current"] if measured else {}
    curve = extrapolate(sizes)
    at = f"at_{EXTRAPOLATE_TO}"
    return {
        "machine": machine_info,
        "runs": runs,
        "baseline_commit": baseline_commit,
        "keys": list(KEYS),
        "sizes": sizes,
        "extrapolated_current": curve,
        "targets_at_largest_size": targets_met(largest),
        f"targets_at_{EXTRAPOLATE_TO}_extrapolated": targets_met(
            {key: value[at] for key, value in curve.items() if key not in NOT_EXTRAPOLATED}
        ),
        "note": NOTE,
    }


def write(payload: dict, path: Path = RESULTS_DIR / "scale.json") -> None:
    """``payload`` written whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial_file = path.with_suffix(".json.tmp")
    partial_file.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    os.replace(partial_file, path)
    print(f"wrote {path}")


def previous_record(path: Path = RESULTS_DIR / "scale.json") -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def rewrite(path: Path = RESULTS_DIR / "scale.json") -> None:
    """Recompute what is derived from the sizes measured (curve, targets, note) in the
    existing scale.json, keeping its measurements, runs and machine."""
    previous = previous_record(path)
    write(
        record(
            previous["sizes"], previous["baseline_commit"], previous["machine"], previous["runs"]
        ),
        path,
    )


if __name__ == "__main__":
    main()

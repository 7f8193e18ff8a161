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
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.run import GOLD, PROJECT_ROOT, RESULTS_DIR, machine
from benchmarks.scale_worker import CHILD_KEYS

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
    ("gold_recall_at_5", ">=", 0.90),
)
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


def run_worker(chunks: int, source: Path | None, work: Path, models: Path, timeout: int) -> dict:
    """One size with the current code (``source`` None) or the tree at ``source``."""
    data_dir = work / f"data-{'baseline' if source else 'current'}-{chunks}"
    out = work / f"result-{'baseline' if source else 'current'}-{chunks}.json"
    environment = dict(os.environ)
    cwd = PROJECT_ROOT
    if source is not None:  # its packages first; benchmarks from here
        cwd = source
        environment["PYTHONPATH"] = os.pathsep.join([str(source), str(PROJECT_ROOT)])
    log = out.with_suffix(".log")
    began = time.perf_counter()
    with log.open("w") as errors:  # the worker's progress and any traceback
        try:
            process = subprocess.run(
                [sys.executable, "-m", "benchmarks.scale_worker", "--chunks", str(chunks),
                 "--data-dir", str(data_dir), "--models", str(models), "--gold", str(GOLD),
                 "--out", str(out)],
                cwd=cwd, env=environment, stdout=subprocess.DEVNULL, stderr=errors, timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return {"error": log.read_text()[-4000:] + f"stopped: --timeout {timeout} s\n"}
    if process.returncode != 0:
        return {"error": log.read_text()[-4000:]}
    result = json.loads(out.read_text())
    result["details"]["worker_wall_s"] = time.perf_counter() - began
    return result


def ratios(current: dict, baseline: dict) -> dict:
    return {
        key: round(current[key] / baseline[key], 3) if baseline.get(key) else None
        for key in KEYS
        if key in current and key in baseline
    }


def partial(failed: dict) -> dict:
    """What a worker that failed or was stopped measured before: its store write, from the
    "filled: {...}" line of its log (``error``)."""
    for line in failed.get("error", "").splitlines():
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
        "--rewrite",
        action="store_true",
        help="Measure nothing: recompute the derived figures of the existing scale.json.",
    )
    parser.add_argument(
        "--extend",
        action="store_true",
        help="Add these sizes to the existing scale.json (another run, its command recorded).",
    )
    args = parser.parse_args()
    if args.rewrite:
        rewrite()
        return
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
            previous = previous_record()
            sizes, runs = previous["sizes"], previous["runs"]
            if baseline_commit == "none":  # the earlier sizes' baseline
                baseline_commit = previous["baseline_commit"]

        def save() -> None:
            at = machine()
            run = {
                "command": command,
                "wall_s": round(time.perf_counter() - began),
                "sizes": [str(chunks) for chunks in args.chunks],
                "load_average_1m_at_write": at.get("load_average_1m_at_write"),
            }
            write(record(sizes, baseline_commit, at, [*runs, run]))

        for chunks in args.chunks:
            current = run_worker(chunks, None, work, models, args.timeout)
            print(chunks, "current", json.dumps(current)[:600], flush=True)
            sizes[str(chunks)] = rounded({"current": current})
            save()
        for chunks in args.chunks:
            if source is None or (args.baseline_chunks and chunks not in args.baseline_chunks):
                continue
            row = sizes[str(chunks)]
            baseline = run_worker(chunks, source, work, models, args.timeout)
            print(chunks, "baseline", json.dumps(baseline)[:600], flush=True)
            row["baseline"] = rounded(baseline)
            if "error" not in row["current"] and "error" not in baseline:
                row["ratio_to_baseline"] = ratios(row["current"], row["baseline"])
            save()


NOTE = (
    "Archive: benchmarks.archive (articles of 5-10 paragraphs, each with one of 9 language "
    "labels; text from the bundled corpus's sentences, which are German, Arabic and "
    "Hungarian, with generated names and numbers; random unit vectors) plus the bundled "
    "corpus embedded with the real model (multilingual-e5-small, onnx-int8), which the gold "
    "questions ask about. A size is the archive's chunks; the chunks key counts everything "
    "searched (archive, bundled corpus and the 1,000 added articles). add_1000_articles: "
    "1,000 new articles ingested by ingest_paths (random vectors, so the model's time is "
    "left out) while a retriever built before runs, until its next search returns; the "
    "ratio divides that by the time spent embedding (random) and in Chroma's add of their "
    "chunks during the same ingest; details.add_1000_articles_ratio_e5_estimate puts the "
    "real model's time back in, from its measured speed on 16 of the same chunks. "
    "start_to_first_search_s: a new process (imports, model load, store open) until its "
    "first hybrid search returns. RSS figures exclude the embedding model (the RSS a second "
    "copy of it adds, details.models_mb). Latency: 300 hybrid searches of the gold "
    "questions, query embedding included. ratio_to_baseline: current / baseline. "
    "targets_at_1000000_extrapolated: the targets against the log-log fit, a rough guide "
    "when fitted to two or three sizes (not add_1000_articles_ratio: a whole over its part "
    "stays above 1 whatever the fit says)."
)


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


def write(payload: dict) -> None:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "scale.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


def previous_record() -> dict:
    previous = json.loads((RESULTS_DIR / "scale.json").read_text(encoding="utf-8"))
    if "run" in previous:  # one run, before --extend
        previous["runs"] = [previous.pop("run")]
    return previous


def rewrite() -> None:
    """Recompute what is derived from the sizes measured (curve, targets, note) in the
    existing scale.json, keeping its measurements, runs and machine."""
    previous = previous_record()
    write(
        record(
            previous["sizes"], previous["baseline_commit"], previous["machine"], previous["runs"]
        )
    )


if __name__ == "__main__":
    main()

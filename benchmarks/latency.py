"""Time to the key fact and to the checked answer, this code and a baseline commit side by
side in one run, on the same machine, questions and models.

    .venv/bin/python -m benchmarks.latency [--baseline 13041c9] [--split dev] [--limit N]

The baseline is checked out into a temporary git worktree. Each side runs in a worker
process of its own (its code tree first on ``sys.path``, the same virtual environment),
with its own data directory holding the bundled corpus ingested by its own code and its
own embedded model; the model cache is shared. The workers answer one question at a time,
alternating A, B, A, B..., so neither runs beside the other and both see the same load.
Each worker reports, per question, what its own ``Answer.timings`` measured from the
question: ``key_fact_s`` (None for a baseline without a key fact) and ``ttft_s``, the
first token of the answer shown (both versions show an answer only once it is checked:
the checked answer, verified or not). Writes benchmarks/results/latency.json, with the
machine, its load average before and after, the questions and the ratios of p50s.
A side whose worker fails is recorded with its error and null figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from benchmarks.run import GOLD, RESULTS_DIR, machine
from benchmarks.schema import MACHINE, List, Map, Record, nullable
from evals.gold import load_gold, split_of

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_BASELINE = "13041c9"
WORKER_START_S = 900  # ingest and model load on a cold machine
SIDE_SUMMARY = Record(
    {
        "questions": int,
        "verified": int,
        "key_fact_shown": int,
        "key_fact_p50_s": nullable(float),
        "answer_p50_s": nullable(float),
        "verified_answer_p50_s": nullable(float),
        "total_p50_s": nullable(float),
    }
)
ROW = Record(
    {
        "id": str,
        "key_fact_s": nullable(float),
        "ttft_s": nullable(float),
        "total_s": nullable(float),
        "verified": bool,
        "refused": bool,
    }
)
RESULT_SCHEMAS = {
    "latency.json": Record(
        {
            "machine": MACHINE,
            "load_average_1m_before": float,
            "baseline": str,
            "current_settings": List(str),
            "split": str,
            "questions": List(str),
            "errors": Map(str),
            "summary": Map(SIDE_SUMMARY),
            "ratios": Map(nullable(float)),
            "rows": Map(List(ROW)),
        }
    )
}
QUESTION_TIMEOUT_S = 600

# The worker uses only the public API both versions share: Assistant, its stream's events
# (by their ``type``) and the DoneEvent's Answer.timings.
WORKER = r"""
import json, sys, time
from assistant.service import Assistant
from assistant.settings import Settings
from ingest.pipeline import ingest_paths

assistant = Assistant(Settings())
if assistant.store.count() == 0:
    ingest_paths(
        [assistant.settings.corpus_dir], assistant.settings, embedder=assistant.embedder,
        store=assistant.store, detector=assistant.detector, progress=False,
    )
assistant.warm_up()
assistant.llm.complete_chat([{"role": "user", "content": "Hello"}], max_tokens=1)  # loads it
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    question = json.loads(line)
    result, verified = None, None
    for event in assistant.stream(question["question"], history=question.get("history") or None):
        if event.type == "done":
            result = event.result
    timings = result.timings
    print(json.dumps({
        "id": question["id"],
        "key_fact_s": getattr(timings, "key_fact_s", None),
        "ttft_s": timings.ttft_s,
        "total_s": timings.total_s,
        "verified": result.verified,
        "refused": result.refused,
    }), flush=True)
"""


@contextmanager
def baseline_tree(commit: str):
    """A worktree of ``commit`` in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="latency-baseline-") as parent:
        tree = Path(parent) / "tree"
        subprocess.run(
            ["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(tree), commit],
            check=True,
            capture_output=True,
        )
        try:
            yield tree
        finally:
            subprocess.run(
                ["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(tree)],
                check=False,
                capture_output=True,
            )


class Worker:
    """One side's worker process: its code tree first on the path, its own data dir."""

    def __init__(
        self, tree: Path, data_dir: Path, models_dir: Path, settings: dict[str, str] | None = None
    ):
        env = {
            **os.environ,
            **(settings or {}),
            "PYTHONPATH": str(tree),
            "ASSISTANT_DATA_DIR": str(data_dir),
            "ASSISTANT_MODEL_CACHE_DIR": str(models_dir),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKER],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.error: str | None = None
        ready = self._read()
        if ready is None:
            self.error = f"the worker did not start (exit code {self.process.poll()})"

    def _read(self) -> dict | None:
        line = self.process.stdout.readline() if self.process.stdout else ""
        return json.loads(line) if line.strip() else None

    def ask(self, question: dict) -> dict | None:
        if self.error is not None:
            return None
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(question, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        answered = self._read()
        if answered is None:
            self.error = f"the worker stopped (exit code {self.process.poll()})"
        return answered

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def p50(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def summary(rows: list[dict]) -> dict:
    verified = [r for r in rows if r.get("verified")]
    return {
        "questions": len(rows),
        "verified": len(verified),
        "key_fact_shown": sum(r.get("key_fact_s") is not None for r in rows),
        "key_fact_p50_s": p50([r.get("key_fact_s") for r in rows]),
        "answer_p50_s": p50([r.get("ttft_s") for r in rows]),
        "verified_answer_p50_s": p50([r.get("ttft_s") for r in verified]),
        "total_p50_s": p50([r.get("total_s") for r in rows]),
    }


def ratio(new: float | None, old: float | None) -> float | None:
    return round(new / old, 3) if new is not None and old else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="The commit compared.")
    parser.add_argument("--split", default="dev", help="Gold split asked (dev, held_out...).")
    parser.add_argument("--limit", type=int, default=None, help="Only the first N questions.")
    parser.add_argument("--models-dir", type=Path, default=PROJECT / ".assistant" / "models")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="ASSISTANT_X=VALUE",
        help="A setting of this code's side, as its environment variable (repeatable).",
    )
    args = parser.parse_args()
    items = [i for i in load_gold(GOLD) if split_of(i) == args.split][: args.limit]
    questions = [{"id": i.id, "question": i.question, "history": i.history} for i in items]
    load_before = round(os.getloadavg()[0], 2)
    with baseline_tree(args.baseline) as baseline, tempfile.TemporaryDirectory() as data:
        sides = {
            "baseline": Worker(baseline, Path(data) / "baseline", args.models_dir),
            "current": Worker(
                PROJECT,
                Path(data) / "current",
                args.models_dir,
                dict(s.split("=", 1) for s in args.set),
            ),
        }
        rows: dict[str, list[dict]] = {name: [] for name in sides}
        try:
            for question in questions:
                for name, worker in sides.items():
                    answered = worker.ask(question)
                    if answered is not None:
                        rows[name].append(answered)
                        print(name, json.dumps(answered), flush=True)
        finally:
            for worker in sides.values():
                worker.close()
    summaries = {name: summary(found) for name, found in rows.items()}
    current, base = summaries["current"], summaries["baseline"]
    payload = {
        "machine": machine(),
        "load_average_1m_before": load_before,
        "baseline": args.baseline,
        "current_settings": args.set,
        "split": args.split,
        "questions": [q["id"] for q in questions],
        "errors": {name: worker.error for name, worker in sides.items() if worker.error},
        "summary": summaries,
        "ratios": {
            "answer_p50": ratio(current["answer_p50_s"], base["answer_p50_s"]),
            "verified_answer_p50": ratio(
                current["verified_answer_p50_s"], base["verified_answer_p50_s"]
            ),
        },
        "rows": rows,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "latency.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

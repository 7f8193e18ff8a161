"""The answer-quality table of benchmarks/results/answers.json: evaluation runs
(`assistant eval` directories) summarised per half of the gold set, each with the command
that reproduces it.

    .venv/bin/python -m benchmarks.answers \\
        --run "product (all on)=.eval-runs/product=assistant eval --out .eval-runs/product" ...

A run is given as LABEL=DIRECTORY=COMMAND. The figures are recomputed from each run's
results.jsonl with the evaluator's own metrics, split into the dev half (odd ids, where
every choice was made) and the held-out half (even ids).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.run import GOLD, RESULTS_DIR, machine
from evals.gold import SPLITS, load_gold, split_of
from evals.metrics import summarize

FIGURES = (
    "fact_accuracy",
    "confidently_wrong",
    "unverified_rate",
    "citation_precision",
    "language_match",
    "unanswerable_declined",
    "false_refusal_rate",
    "recall@1",
    "ttft_p50_s",
    "ttft_p95_s",
)


def summarise_run(directory: Path) -> dict[str, dict[str, float | None]]:
    """The figures of one run on each half of the gold set."""
    split = {item.id: split_of(item) for item in load_gold(GOLD)}
    lines = (directory / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = list({record["id"]: record for record in map(json.loads, lines)}.values())
    halves = {}
    for name in SPLITS:
        overall = summarize([r for r in records if split.get(r["id"]) == name])["overall"]
        halves[name] = {figure: _rounded(overall.get(figure)) for figure in FIGURES}
        halves[name]["questions"] = overall["questions"]
    return halves


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True, help="LABEL=DIR=COMMAND")
    parser.add_argument("--note", default="", help="What the runs compare, and how.")
    args = parser.parse_args()
    runs = []
    for spec in args.run:
        label, directory, command = spec.split("=", 2)
        runs.append({"label": label, "command": command, **summarise_run(Path(directory))})
    payload = {"machine": machine(), "split": SPLITS, "runs": runs, "note": args.note}
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "answers.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

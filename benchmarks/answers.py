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


def read_results(directory: Path) -> list[dict]:
    """A run's results, the last of each question (a resumed run may repeat one)."""
    lines = (directory / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return list({record["id"]: record for record in map(json.loads, lines)}.values())


def summarise_run(
    directory: Path, ids: set[str] | None = None
) -> dict[str, dict[str, float | None]]:
    """The figures of one run on each half of the gold set, on the questions ``ids`` only
    when given."""
    split = {item.id: split_of(item) for item in load_gold(GOLD)}
    records = [r for r in read_results(directory) if ids is None or r["id"] in ids]
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
    parser.add_argument(
        "--same-questions",
        action="store_true",
        help="Only the questions every run answered (to compare an unfinished run).",
    )
    args = parser.parse_args()
    specs = [spec.split("=", 2) for spec in args.run]
    ids = None
    if args.same_questions:
        answered = [{r["id"] for r in read_results(Path(d))} for _, d, _ in specs]
        ids = set.intersection(*answered)
    runs = [
        {"label": label, "command": command, **summarise_run(Path(directory), ids)}
        for label, directory, command in specs
    ]
    payload = {
        "machine": machine(),
        "split": SPLITS,
        "questions": sorted(ids, key=lambda i: int(i[1:])) if ids else "all",
        "runs": runs,
        "note": args.note,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "answers.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

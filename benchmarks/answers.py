"""The answer-quality table of benchmarks/results/answers.json: evaluation runs
(`assistant eval` directories) summarised per split of the gold set, each with the command
that reproduces it.

    .venv/bin/python -m benchmarks.answers \\
        --run "product (all on)=.eval-runs/product=assistant eval --out .eval-runs/product" ...

A run is given as LABEL=DIRECTORY=COMMAND, DIRECTORY being one run directory or several
joined by commas (a run made one split at a time). Each run's records (results.jsonl) are
scored again with the current evaluator (``evals.scoring.rescore``), so a run made by older code
gets the newer figures wherever its records hold what they need (a figure they cannot
have, such as the time to the key fact, is None), then split into the dev half (odd ids,
where every choice was made), the held-out half (even ids) and the frozen batch (written
before the answering pipeline; tunes nothing). A run made on another gold file is split
the same way: a question of evals/gold.jsonl as there, any other by its record's split or
its id. Each run also gets the seconds of each answering stage over its questions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.run import GOLD, RESULTS_DIR, machine
from benchmarks.schema import ANY, MACHINE, Either, List, Map, Record, nullable
from evals.gold import SPLITS, TRAILING_NUMBER, GoldItem, load_gold, split_of, split_of_id
from evals.metrics import stage_times, summarize
from evals.scoring import rescore
from ingest.interfaces import LanguageDetector

FIGURES = (
    "fact_accuracy",
    "confidently_wrong",
    "unverified_rate",
    "verified_precision",
    "coverage",
    "citation_precision",
    "language_match",
    "unanswerable_declined",
    "false_refusal_rate",
    "recall@1",
    "key_fact_p50_s",
    "verified_answer_p50_s",
    "ttft_p50_s",
    "ttft_p95_s",
)
# A run's figures on one split; a run summarised before a figure existed lacks it (its
# stored line is kept as it was written, not recomputed).
SPLIT_FIGURES = Record({"questions": int}, optional={f: nullable(float) for f in FIGURES})
RESULT_SCHEMAS = {
    "answers.json": Record(
        {
            "machine": MACHINE,
            "split": Map(str),
            "questions": Either((str, List(str))),
            "runs": List(
                Record(
                    {"label": str, "command": str},
                    optional={
                        **{name: SPLIT_FIGURES for name in SPLITS},
                        "stages": Map(Map(ANY)),  # evals' stage timings, copied in
                    },
                )
            ),
            "note": nullable(str),
        }
    )
}


def read_results(*directories: Path) -> list[dict]:
    """A run's results, the last of each question (a resumed run may repeat one); a run
    made one split at a time (``assistant eval --split``) is read from its directories."""
    lines = [
        line
        for directory in directories
        for line in (directory / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return list({record["id"]: record for record in map(json.loads, lines)}.values())


def run_directories(spec: str) -> list[Path]:
    """The DIR part of a --run: one directory, or several joined by commas."""
    return [Path(part) for part in spec.split(",")]


def product_detector() -> LanguageDetector:
    """The language detector the product's settings name, as an evaluation run uses."""
    # Imported here: the settings and the detector load only when a run is summarised.
    from assistant.settings import Settings
    from ingest.language import make_language_detector

    return make_language_detector(Settings())


def summarise_run(
    directories: list[Path],
    ids: set[str] | None = None,
    detector: LanguageDetector | None = None,
) -> dict[str, dict]:
    """The figures of one run on each split of the gold set, on the questions ``ids`` only
    when given, and its seconds per answering stage (``stages``). ``detector`` scores the
    answers' language again (the product's when not given)."""
    gold = {item.id: item for item in load_gold(GOLD)}
    detector = detector or product_detector()
    records = [
        rescore(record, gold.get(record["id"]), detector)
        for record in read_results(*directories)
        if ids is None or record["id"] in ids
    ]
    summary: dict[str, dict] = {}
    for name in SPLITS:
        overall = summarize([r for r in records if split_in(r, gold) == name])["overall"]
        summary[name] = {figure: _rounded(overall.get(figure)) for figure in FIGURES}
        summary[name]["questions"] = overall["questions"]
    summary["stages"] = {
        stage: times | {"p50_s": _rounded(times["p50_s"]), "mean_s": _rounded(times["mean_s"])}
        for stage, times in stage_times(records).items()
    }
    return summary


def split_in(record: dict, gold: dict[str, GoldItem]) -> str:
    """The record's split: its question's in evals/gold.jsonl, else (a run on another gold
    file) the split its record names, else its id's."""
    item = gold.get(record["id"])
    if item is not None:
        return split_of(item)
    return record.get("split") or split_of_id(record["id"])


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def id_order(question_id: str) -> tuple[str, int, str]:
    """Ids in their natural order: by prefix, then number ("q2" before "q10", "f01" apart)."""
    number = TRAILING_NUMBER.search(question_id)
    prefix = question_id[: number.start()] if number else question_id
    return prefix, int(number[0]) if number else -1, question_id


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
        answered = [{r["id"] for r in read_results(*run_directories(d))} for _, d, _ in specs]
        ids = set.intersection(*answered)
    detector = product_detector()
    runs = [
        {
            "label": label,
            "command": command,
            **summarise_run(run_directories(directory), ids, detector),
        }
        for label, directory, command in specs
    ]
    payload = {
        "machine": machine(),
        "split": SPLITS,
        "questions": sorted(ids, key=id_order) if ids else "all",
        "runs": runs,
        "note": args.note,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "answers.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

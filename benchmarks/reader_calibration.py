"""The extractive reader alone on the gold set, and the calibration of its confidence.

    .venv/bin/python -m benchmarks.reader_calibration [--fit]

Runs retrieval, evidence planning and the extractive reader (no language model) on every
answerable question the reader reads (a figure, a date or a name asked), and records, per
question, the reader's best candidate, whether it is the gold fact (``reader_ablation.
fact_right``), its lead over the best candidate of another value, and the confidence the
product gives it. With ``--fit``, a logistic curve P(right | lead) is fitted on the dev
half alone (Platt scaling, by Newton's method) and its two numbers are printed, to be set
as ``answer.reader.calibration_slope`` and ``calibration_intercept``; the held-out half
and the frozen batch are only reported. Writes benchmarks/results/reader.json: top-1 and
top-3 accuracy per split and answer kind, a reliability table (confidence bins against
the share right) per split, the reader's time per question, and the rows; and, for each
of its mechanisms, top-1 and top-3 per split with that mechanism off (``VARIANTS``), the
on/off table of the reader's choices (all made on the dev half).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from statistics import median

import numpy as np

from assistant.answering.follow_ups import FollowUp, last_exchange, previous_question
from assistant.service import Assistant
from assistant.settings import Settings
from benchmarks.reader_ablation import fact_right
from benchmarks.run import GOLD, RESULTS_DIR, machine
from benchmarks.schema import ANY, MACHINE, List, Map, Record, nullable
from evals.gold import SPLITS, load_gold, split_of
from ingest.pipeline import ingest_paths

BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)
ACCURACY = Record(
    {
        "questions": int,
        "top1": nullable(float),
        "top3": nullable(float),
        "by_kind": Map(
            Record({"questions": int, "top1": nullable(float), "top3": nullable(float)})
        ),
    }
)
BIN = Record(
    {"bin": List(float), "questions": int, "confidence": nullable(float), "right": nullable(float)}
)
ROW = Record(
    {
        "id": str, "split": str, "kind": str, "best": str, "right": bool, "right_in_top3": bool,
        "lead": nullable(float), "confidence": float, "seconds": float,
    }
)  # fmt: skip
RESULT_SCHEMAS = {
    "reader.json": Record(
        {
            "machine": MACHINE,
            "settings": ANY,
            "splits": Map(Record({**ACCURACY.keys, "reliability": List(BIN)})),
            "reader_ms_p50": nullable(float),
            "reader_ms_max": nullable(float),
            "without": Map(Record({"settings": ANY, **dict.fromkeys(SPLITS, ACCURACY)})),
            "rows": List(ROW),
        },
        optional={"calibration_fitted_on_dev": Map(float)},
    )
}
# Each mechanism of the reader off, as reader settings (``answer.reader``).
VARIANTS = {
    "passages only, not whole documents": {"scope": "evidence"},
    "a name's window, not its clause": {"name_context": "window"},
    "a figure's clause, not its window": {"figure_context": "clause"},
    "no unit compared for a count": {"unit_weight": 0.0},
    "parts not given way to totals": {"part_penalty": 0.0},
    "no penalty for a neighbouring role": {"off_role_penalty": 0.0},
    "names of the article's language not penalised": {"own_language_name_penalty": 0.0},
}
NEWTON_STEPS = 50


def asked_as(item) -> FollowUp:
    """The question as the product asks it, a follow-up joined to its earlier question."""
    earlier = previous_question(item.history)
    if not earlier:
        return FollowUp(item.question, item.question)
    known = f"{last_exchange(item.history)} {item.question}"
    return FollowUp(f"{earlier} {item.question}", item.question, earlier, known)


def read_all(assistant: Assistant) -> list[dict]:
    answerer, rows = assistant.answerer, []
    for item in load_gold(GOLD):
        if not item.answerable:
            continue
        asked = asked_as(item)
        passages = assistant.retriever.retrieve(asked.query, assistant.settings.answer.k)
        evidence = answerer.planner.plan(asked.query, passages)
        started = time.perf_counter()
        reading = answerer._read(asked, item.language, evidence)
        seconds = time.perf_counter() - started
        if reading.best is None:
            continue
        rival = reading.rival()
        right = [fact_right(r.candidate.text, item) for r in reading.ranked]
        rows.append(
            {
                "id": item.id,
                "split": split_of(item),
                "kind": reading.kind,
                "best": reading.best.candidate.text,
                "right": right[0],
                "right_in_top3": any(right[:3]),
                "lead": None if rival is None else reading.best.score - rival.score,
                "confidence": round(reading.confidence, 3),
                "seconds": round(seconds, 4),
            }
        )
    return rows


def fit(leads: list[float], right: list[bool]) -> tuple[float, float]:
    """(slope, intercept) of the logistic curve P(right) = 1 / (1 + exp(-(a * lead + b)))
    that fits ``right`` best (maximum likelihood, Newton's method, a small ridge)."""
    x = np.column_stack([np.array(leads), np.ones(len(leads))])
    y = np.array(right, dtype=float)
    weights = np.zeros(2)
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + np.exp(-x @ weights))
        gradient = x.T @ (p - y) + 1e-3 * weights
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + 1e-3 * np.eye(2)
        weights -= np.linalg.solve(hessian, gradient)
    return float(weights[0]), float(weights[1])


def reliability(rows: list[dict]) -> list[dict]:
    """Per confidence bin: questions, the mean confidence and the share right."""
    table = []
    for low, high in itertools.pairwise(BINS):
        inside = [r for r in rows if low <= r["confidence"] < high]
        table.append(
            {
                "bin": [low, round(min(high, 1.0), 1)],
                "questions": len(inside),
                "confidence": round(float(np.mean([r["confidence"] for r in inside])), 3)
                if inside
                else None,
                "right": round(sum(r["right"] for r in inside) / len(inside), 3)
                if inside
                else None,
            }
        )
    return table


def summary(rows: list[dict]) -> dict:
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)

    def figures(found: list[dict]) -> dict:
        return {
            "questions": len(found),
            "top1": round(sum(r["right"] for r in found) / len(found), 3) if found else None,
            "top3": round(sum(r["right_in_top3"] for r in found) / len(found), 3)
            if found
            else None,
        }

    return {**figures(rows), "by_kind": {kind: figures(found) for kind, found in by_kind.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true", help="Fit the calibration on dev.")
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="Converted models (default: the settings')."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reader-") as scratch:
        settings = Settings(data_dir=Path(scratch), model_cache_dir=args.models_dir)
        assistant = Assistant(settings)
        ingest_paths(
            [settings.corpus_dir], settings, embedder=assistant.embedder, store=assistant.store,
            detector=assistant.detector, progress=False,
        )  # fmt: skip
        assistant.warm_up()
        rows = read_all(assistant)
        variants = {}
        for label, change in VARIANTS.items():
            reader = assistant.settings.answer.reader.model_copy(update=change)
            answer = assistant.settings.answer.model_copy(update={"reader": reader})
            variant = Assistant(
                assistant.settings.model_copy(update={"answer": answer}),
                embedder=assistant.embedder,
                store=assistant.store,
                detector=assistant.detector,
                retriever=assistant.retriever,
            )
            found = read_all(variant)
            variants[label] = {
                "settings": change,
                **{name: summary([r for r in found if r["split"] == name]) for name in SPLITS},
            }
    payload: dict = {
        "machine": machine(),
        "settings": assistant.settings.answer.reader.model_dump(),
        "splits": {
            name: {
                **summary([r for r in rows if r["split"] == name]),
                "reliability": reliability([r for r in rows if r["split"] == name]),
            }
            for name in SPLITS
        },
        "reader_ms_p50": round(1000 * median(r["seconds"] for r in rows), 1) if rows else None,
        "reader_ms_max": round(1000 * max(r["seconds"] for r in rows), 1) if rows else None,
        "without": variants,
        "rows": rows,
    }
    if args.fit:
        dev = [r for r in rows if r["split"] == "dev"]
        # A reading without a rival value leads by as much as the largest lead seen.
        largest = max((r["lead"] for r in dev if r["lead"] is not None), default=1.0)
        slope, intercept = fit([largest if r["lead"] is None else r["lead"] for r in dev],
                               [r["right"] for r in dev])  # fmt: skip
        payload["calibration_fitted_on_dev"] = {
            "slope": slope,
            "intercept": intercept,
            "lone_candidate_lead": largest,
        }
        print(f"answer.reader.calibration_slope = {slope:.2f}")
        print(f"answer.reader.calibration_intercept = {intercept:.2f}")
        print(f"answer.reader.lone_candidate_lead = {largest:.3f}")
        print(f"(P(right) at lead 0: {1 / (1 + math.exp(-intercept)):.2f})")
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "reader.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

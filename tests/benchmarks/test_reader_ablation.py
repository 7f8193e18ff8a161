"""Each reader alone and the checks off, scored from what a run logged."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.reader_ablation import ablate
from benchmarks.run import GOLD
from evals.gold import load_gold
from evals.metrics import aggregate
from evals.scoring import rescore

# q01's gold answer is 18087 (Ha Tinh), q02's 1269 (Bac Ninh), q09 is unanswerable.
STOPPED_BY_AGREEMENT = (
    "Not verified (the readers disagree: '18,087' or '2.015'): Ha Tinh received 18,087 "
    "proposals [1]."
)
STOPPED_BY_A_CHECK = (
    "Not verified (a cited passage does not support its sentence; the readers disagree: "
    "'2' or '1.269'): Bac Ninh held 2 dialogues in Ha Tinh [1]."
)


def record(question_id: str, notes: list[str], fact: float | None) -> dict:
    metrics = {"fact_accuracy": fact, "confidently_wrong": 0.0, "unverified_rate": 1.0,
               "unanswerable_declined": None, "citation_precision": None}  # fmt: skip
    return {"id": question_id, "answer": "I could not verify…", "verified": False,
            "refused": False, "notes": notes, "metrics": metrics}  # fmt: skip


def test_each_variant_shows_what_its_stage_alone_would_have_shown(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    read_as = "Extractive reader: '{}' (count, confidence {})".format
    rows = [
        record("q01", [read_as("2.015", "0.90"), STOPPED_BY_AGREEMENT], 0.0),
        record("q02", [read_as("1.269", "0.10"), STOPPED_BY_A_CHECK], 0.0),
        record("q09", [read_as("18087", "0.80"), "Refused by the model: 'NO_ANSWER'"], None),
    ]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    written = ablate(run, confidence=0.3)

    def read(name: str) -> dict[str, dict]:
        lines = (written[name] / "results.jsonl").read_text().splitlines()
        return {r["id"]: r for r in map(json.loads, lines)}

    llm_alone = read("llm-alone")
    assert llm_alone["q01"]["verified"] and llm_alone["q01"]["metrics"]["fact_accuracy"] == 1.0
    assert llm_alone["q02"]["metrics"]["confidently_wrong"] == 1.0
    assert llm_alone["q09"] == rows[2]  # a refusal is no draft
    with_checks = read("llm-with-checks")
    assert with_checks["q01"]["verified"]  # only the second reader stopped it
    assert with_checks["q02"] == rows[1]  # another check stopped it too
    extractive = read("extractive-alone")
    assert (
        extractive["q01"]["verified"] and extractive["q01"]["metrics"]["confidently_wrong"] == 1.0
    )
    assert not extractive["q02"]["verified"]  # not confident enough to be shown
    assert extractive["q09"]["metrics"]["unanswerable_declined"] == 0.0


def test_the_variants_count_their_verified_answers_and_are_not_scored_again(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    rows = [
        record("q01", ["Extractive reader: '18.087' (count, confidence 0.90)"], 0.0),
        record("q02", ["Extractive reader: '2' (count, confidence 0.90)"], 0.0),
        record("q03", ["Extractive reader: 'x' (person, confidence 0.10)"], 0.0),
    ]
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    lines = (ablate(run, confidence=0.3)["extractive-alone"] / "results.jsonl").read_text()
    timings = {"retrieve_s": 0.1, "ttft_s": 1.0, "total_s": 1.0}
    extractive = [
        json.loads(line) | {"answerable": True, "timings": timings} for line in lines.splitlines()
    ]
    assert [r["metrics"]["shown_verified"] for r in extractive] == [1.0, 1.0, 0.0]
    assert [r["metrics"]["verified_right"] for r in extractive] == [1.0, 0.0, None]
    figures = aggregate(extractive)
    assert figures["verified_precision"] == 0.5
    assert figures["coverage"] == 2 / 3
    assert all(r["scored_by"] == "benchmarks.reader_ablation" for r in extractive)
    # Scored again as the product's, the key fact shown would lose its own scoring.
    q01 = next(item for item in load_gold(GOLD) if item.id == "q01")
    shown = extractive[0] | {"question": q01.question}
    assert rescore(shown, q01, None) is shown

"""The answer checks' ablation, scored from the drafts a run logged."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.check_ablation import ablate

STOPPED_RIGHT = (
    "Not verified (read again, the cited sentence gives '4', not ['18087']): "
    "Ha Tinh received 18,087 proposals [1]."
)
STOPPED_WRONG = (
    "Not verified (a cited passage does not support its sentence): "
    "Ha Tinh received 2 proposals [1]."
)


def record(question_id: str, notes: list[str], fact: float) -> dict:
    metrics = {"fact_accuracy": fact, "confidently_wrong": 0.0, "unverified_rate": 1.0,
               "unanswerable_declined": None, "citation_precision": None}  # fmt: skip
    return {"id": question_id, "answer": "I could not verify…", "verified": False,
            "notes": notes, "metrics": metrics}  # fmt: skip


def test_each_variant_shows_the_drafts_its_checks_stopped(tmp_path: Path):
    run = tmp_path / "run"
    run.mkdir()
    rows = [record("q01", [STOPPED_RIGHT], 0.0), record("q02", [STOPPED_WRONG], 0.0),
            record("q03", ["Refused by the model: 'NO_ANSWER'"], 0.0)]  # fmt: skip
    (run / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))

    written = ablate(run)

    def read(name: str) -> dict[str, dict]:
        lines = (written[name] / "results.jsonl").read_text().splitlines()
        return {r["id"]: r for r in map(json.loads, lines)}

    no_second_reading = read("without-figure-check")
    assert (
        no_second_reading["q01"]["verified"]
        and no_second_reading["q01"]["metrics"]["fact_accuracy"] == 1.0
    )
    assert no_second_reading["q02"] == rows[1]  # stopped by another check: unchanged
    no_checks = read("without-checks")
    assert no_checks["q02"]["verified"] and no_checks["q02"]["metrics"]["confidently_wrong"] == 1.0
    assert no_checks["q03"] == rows[2]  # a refusal is no draft

"""benchmarks/answers.py: runs summarised per split of the gold set (the frozen batch a
third column), old runs scored again with the current evaluator; RESULTS.md's table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from benchmarks import answers, results_md
from benchmarks.answers import FIGURES, id_order, run_directories, summarise_run
from benchmarks.results_md import answers_table
from benchmarks.run import GOLD
from evals.gold import SPLITS, load_gold

ITEMS = {item.id: item for item in load_gold(GOLD)}


class EnglishDetector:
    def detect(self, text: str) -> str:
        return "en"


def new_record(id_: str, answer: str, verified: bool, key_fact_s: float | None) -> dict:
    """A record as the current runner writes it (figures left for the rescoring to fill)."""
    item = ITEMS[id_]
    return {
        "id": id_,
        "split": "frozen" if id_.startswith("f") else "dev",
        "question": item.question,
        "language": item.language,
        "type": item.type,
        "answerable": item.answerable,
        "answer": answer,
        "answer_language": item.language,
        "refused": False,
        "verified": verified,
        "key_fact": None,
        "citations": [],
        "cited_passages": {},
        "retrieved": [f"{item.sources[0]}.txt"],
        "timings": {
            "retrieve_s": 0.1,
            "key_fact_s": key_fact_s,
            "ttft_s": 5.0,
            "total_s": 6.0,
            "stages": {"retrieve": 0.1, "llm_reader": 4.0},
        },
        "metrics": {},
    }


def old_record(id_: str, answer: str) -> dict:
    """A record as a8ee180 wrote it: no verified, no key fact, no stages, no split."""
    item = ITEMS[id_]
    return {
        "id": id_,
        "question": item.question,
        "language": item.language,
        "type": item.type,
        "answerable": item.answerable,
        "answer": answer,
        "answer_language": item.language,
        "refused": False,
        "citations": [],
        "retrieved": [],
        "timings": {"retrieve_s": 0.1, "ttft_s": 8.0, "total_s": 9.0},
        "metrics": {"fact_accuracy": 1.0},  # its evaluator's, which the current one corrects
    }


# A question of another gold file (tests/data/gold_e2e.jsonl): its figures as its run wrote
# them, and its split by its id (odd: dev).
OTHER_GOLD = {
    "id": "e1",
    "question": "Wie viele Dialoge?",
    "language": "de",
    "type": "number",
    "answerable": True,
    "answer": "1.269 Dialoge [1].",
    "verified": True,
    "retrieved": [],
    "timings": {"retrieve_s": 0.1, "ttft_s": 3.0, "total_s": 4.0},
    "metrics": {"fact_accuracy": 1.0, "shown_verified": 1.0, "verified_right": 1.0},
}


def write_run(directory: Path, records: list[dict]) -> Path:
    directory.mkdir()
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    (directory / "results.jsonl").write_text(lines, encoding="utf-8")
    return directory


@pytest.fixture
def run(tmp_path: Path) -> Path:
    return write_run(
        tmp_path / "run",
        [
            new_record("q01", "Ha Tinh received 18,087 proposals.", True, 0.5),
            old_record("q02", "They held 1,000 dialogues."),  # wrong, shown as verified
            new_record("f01", "I could not verify an answer.", False, 0.25),
            OTHER_GOLD,
        ],
    )


def test_each_split_has_its_figures_and_an_old_run_gets_precision_and_coverage(run):
    summary = summarise_run([run], detector=EnglishDetector())
    assert list(summary) == [*SPLITS, "stages"]  # the frozen batch a third column
    for split in SPLITS:
        assert list(summary[split]) == [*FIGURES, "questions"]
    dev, held_out, frozen = (summary[split] for split in SPLITS)
    assert dev["questions"] == 2  # q01, and e1 of the other gold file by its id
    assert dev["verified_precision"] == 1.0 and dev["coverage"] == 1.0
    assert dev["key_fact_p50_s"] == 0.5  # e1's record has none
    assert dev["verified_answer_p50_s"] == 4.0  # q01's 5.0 and e1's 3.0
    # a8ee180's record: rescored, its answer not refused counts as shown verified, and wrong.
    assert held_out["fact_accuracy"] == 0.0
    assert held_out["verified_precision"] == 0.0 and held_out["coverage"] == 1.0
    assert held_out["key_fact_p50_s"] is None  # a figure it cannot have
    assert held_out["ttft_p50_s"] == 8.0
    assert frozen["questions"] == 1
    assert frozen["coverage"] == 0.0 and frozen["verified_precision"] is None
    assert frozen["unverified_rate"] == 1.0
    # Seconds per stage, over the run's questions that ran each stage.
    assert summary["stages"] == {
        "retrieve": {"questions": 2, "p50_s": 0.1, "mean_s": 0.1},
        "llm_reader": {"questions": 2, "p50_s": 4.0, "mean_s": 4.0},
    }


def test_a_run_made_one_split_at_a_time_is_read_from_its_directories(tmp_path: Path):
    dev = write_run(tmp_path / "dev", [new_record("q01", "Ha Tinh received 18,087.", True, 0.5)])
    frozen = write_run(tmp_path / "frozen", [new_record("f01", "I could not verify.", False, 0.2)])
    directories = run_directories(f"{dev},{frozen}")
    assert directories == [dev, frozen]
    summary = summarise_run(directories, detector=EnglishDetector())
    assert [summary[split]["questions"] for split in SPLITS] == [1, 0, 1]
    assert summary["dev"]["verified_precision"] == 1.0 and summary["frozen"]["coverage"] == 0.0


def test_only_the_questions_asked_for(run):
    summary = summarise_run([run], ids={"q01", "f01"}, detector=EnglishDetector())
    assert [summary[split]["questions"] for split in SPLITS] == [1, 0, 1]


def test_ids_sort_naturally():
    assert sorted(["q10", "f02", "q2", "e1", "x"], key=id_order) == ["e1", "f02", "q2", "q10", "x"]


def test_the_command_writes_answers_json_and_results_md_shows_the_frozen_split(
    run, tmp_path, monkeypatch
):
    results = tmp_path / "results"
    monkeypatch.setattr(answers, "RESULTS_DIR", results)
    monkeypatch.setattr(answers, "product_detector", EnglishDetector)
    command = "assistant eval --out run"
    argv = ["answers", "--run", f"product={run}={command}", "--same-questions", "--note", "n"]
    monkeypatch.setattr(sys, "argv", argv)
    answers.main()
    payload = json.loads((results / "answers.json").read_text(encoding="utf-8"))
    assert list(payload) == ["machine", "split", "questions", "runs", "note"]
    assert list(payload["split"]) == list(SPLITS)
    assert payload["questions"] == ["e1", "f01", "q01", "q02"]
    assert payload["runs"][0]["label"] == "product" and payload["runs"][0]["command"] == command

    monkeypatch.setattr(results_md, "RESULTS_DIR", results)
    table = results_md.render()
    assert "| run | split | fact_accuracy |" in table
    assert "| product | frozen | " in table
    assert "Seconds per answering stage, product:" in table
    assert "| llm_reader | 2 | 4.0 | 4.0 |" in table


def test_a_run_summarised_before_the_frozen_split_has_rows_for_its_halves_only():
    figures = {"fact_accuracy": 0.5, "ttft_p50_s": None, "questions": 40}
    payload = {"runs": [{"label": "old", "command": "c", "dev": figures, "held_out": figures}]}
    lines = answers_table(payload)
    assert lines[:4] == [
        "| run | split | fact_accuracy | ttft_p50_s |",
        "|---|---|---|---|",
        "| old | dev | 0.5 | – |",
        "| old | held_out | 0.5 | – |",
    ]
    assert not any("stage" in line for line in lines)

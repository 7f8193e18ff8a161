"""RESULTS.md's sections for the side-by-side latency and the extractive reader."""

from __future__ import annotations

from benchmarks.results_md import answers_table, latency_table, reader_tables


def test_the_latency_section_shows_both_sides_and_the_ratios():
    row = {"questions": 2, "verified": 1, "key_fact_shown": 1, "key_fact_p50_s": 0.9,
           "answer_p50_s": 4.0, "verified_answer_p50_s": 4.0}  # fmt: skip
    payload = {
        "questions": ["q01", "q03"], "split": "dev", "baseline": "13041c9",
        "load_average_1m_before": 0.1,
        "summary": {"baseline": row | {"key_fact_p50_s": None, "answer_p50_s": 8.0},
                    "current": row},
        "ratios": {"answer_p50": 0.5, "verified_answer_p50": 0.5},
    }  # fmt: skip
    text = "\n".join(latency_table(payload))
    assert "| baseline | 2 | 1 | 1 | – | 8.0 | 4.0 |" in text
    assert "| current | 2 | 1 | 1 | 0.9 | 4.0 | 4.0 |" in text
    assert "| answer_p50 | 0.5 |" in text


def test_the_reader_section_shows_each_mechanism_off_and_the_reliability():
    split = {"top1": 0.5, "top3": 0.7, "reliability": [
        {"bin": [0.4, 0.6], "questions": 3, "confidence": 0.5, "right": 0.667},
        {"bin": [0.6, 0.8], "questions": 0, "confidence": None, "right": None},
    ]}  # fmt: skip
    payload = {
        "reader_ms_p50": 40.0, "reader_ms_max": 900.0,
        "splits": {name: split for name in ("dev", "held_out", "frozen")},
        "without": {"no unit": {name: {"top1": 0.4, "top3": 0.6}
                                for name in ("dev", "held_out", "frozen")}},
    }  # fmt: skip
    text = "\n".join(reader_tables(payload))
    assert "| all on (default) | 0.5 | 0.7 | 0.5 | 0.7 | 0.5 | 0.7 |" in text
    assert "| no unit | 0.4 | 0.6 | 0.4 | 0.6 | 0.4 | 0.6 |" in text
    assert "| dev | 0.4–0.6 | 3 | 0.667 |" in text and "0.6–0.8" not in text


def test_a_variant_scored_from_another_runs_records_points_to_its_stage_times():
    stages = {"retrieve": {"questions": 1, "p50_s": 0.1, "mean_s": 0.1}}
    split = {"fact_accuracy": 1.0, "questions": 1}
    payload = {
        "runs": [
            {"label": "product", "command": "c", "dev": split, "stages": stages},
            {"label": "llm alone", "command": "c", "dev": split, "stages": dict(stages)},
            {"label": "dev only", "command": "c", "dev": split, "frozen": {"questions": 0}},
        ]
    }
    text = "\n".join(answers_table(payload))
    assert "| dev only | dev |" in text and "| dev only | frozen |" not in text
    assert text.count("| retrieve | 1 | 0.1 | 0.1 |") == 1
    assert "Seconds per answering stage, llm alone: as product." in text

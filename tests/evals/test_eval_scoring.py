"""Records scored again with the current evaluator: an old run's records get the newer
figures wherever they hold what these need, and keep what they cannot recompute."""

from __future__ import annotations

from evals.gold import GoldItem
from evals.metrics import aggregate
from evals.scoring import cited_passages, rescore

HA_TINH = "002_9dbad9a477df04d3"
ITEM = GoldItem(
    id="q01",
    language="en",
    question="How many proposals did Ha Tinh receive?",
    answer="18,087.",
    must_include=[["18087"]],
    sources=[HA_TINH],
    answerable=True,
)
CITATION = {"marker": 1, "doc_id": HA_TINH, "chunk_id": "c", "quote": "Der Genosse: 18.087."}


class Detector:
    """German for the quote and "Genosse", English otherwise."""

    def detect(self, text: str) -> str:
        return "de" if "Genosse" in text else "en"


def old_record(**fields) -> dict:
    """A record as a8ee180 wrote it: no verified, no cited passages, no key fact, and
    figures its evaluator computed (here deliberately unlike the current one's)."""
    record = {
        "id": "q01",
        "question": ITEM.question,
        "language": "en",
        "type": "fact",
        "answerable": True,
        "answer": "The Genosse said 18,087 [1].",
        "answer_language": "en",
        "refused": False,
        "citations": [CITATION],
        "retrieved": [HA_TINH],
        "timings": {"retrieve_s": 0.1, "ttft_s": 2.0, "total_s": 3.0},
        "metrics": {"fact_accuracy": 0.0, "citation_precision": 0.25, "judge_accuracy": 1.0},
    }
    return record | fields


def test_an_old_record_gets_the_new_figures_and_keeps_what_it_cannot_recompute():
    record = rescore(old_record(), ITEM, Detector())
    metrics = record["metrics"]
    # Without "verified", an answer it did not refuse counts as shown verified.
    assert metrics["shown_verified"] == 1.0 and metrics["verified_right"] == 1.0
    assert metrics["fact_accuracy"] == 1.0  # recomputed
    assert metrics["recall@1"] == 1.0  # recomputed from what it retrieved
    # Its quote is German and holds the copied word: strict language, from the quote.
    assert record["untranslated_words"] == [["Genosse", "de"]]
    assert metrics["language_match"] == 0.0 and metrics["detected_language_match"] == 1.0
    # Kept: the citation figures need the passages' text, the judge's verdict was not kept.
    assert metrics["citation_precision"] == 0.25
    assert metrics["judge_accuracy"] == 1.0
    figures = aggregate([record])
    assert figures["verified_precision"] == 1.0 and figures["coverage"] == 1.0
    assert figures["key_fact_p50_s"] is None  # a time it cannot have
    assert figures["verified_answer_p50_s"] == 2.0


def test_a_new_record_is_scored_as_the_run_scored_it():
    passages = {"c": {"text": "Ha Tinh received 18,087 proposals.", "language": "en"}}
    record = old_record(verified=False, cited_passages=passages)
    metrics = rescore(record, ITEM, Detector())["metrics"]
    assert metrics["shown_verified"] == 0.0 and metrics["verified_right"] is None
    assert metrics["fact_accuracy"] == 0.0  # a "not verified" reply earns no fact
    assert metrics["language_match"] == 1.0  # the cited passage is English
    assert metrics["citation_precision"] is None  # recomputed: nothing shown to cite for


def test_records_it_cannot_score_again_are_kept_as_they_are():
    record = old_record()
    other_gold = GoldItem(**{**ITEM.__dict__, "question": "Another question?"})
    assert rescore(record, other_gold, Detector()) is record  # a run on another gold file
    assert rescore(record, None, Detector()) is record
    ablated = old_record(scored_by="benchmarks.reader_ablation")
    assert rescore(ablated, ITEM, Detector()) is ablated


def test_a_cited_passage_without_a_language_is_detected():
    record = old_record(cited_passages={"c": {"text": "Genosse Tuan", "language": None}})
    assert cited_passages(record, Detector()) == [("Genosse Tuan", "de")]
    assert cited_passages(old_record(), Detector()) == [(CITATION["quote"], "de")]

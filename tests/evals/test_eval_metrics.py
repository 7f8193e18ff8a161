import math

import pytest

from evals.gold import GoldItem
from evals.metrics import (
    aggregate,
    answer_metrics,
    confidence_of,
    correct_citations,
    dedupe,
    doc_key,
    facts_matched,
    invalid_markers,
    ndcg_at,
    recall_at,
    reciprocal_rank,
    retrieval_metrics,
    risk_coverage,
    stage_times,
    summarize,
    token_f1,
)

SOURCE = "002_9dbad9a477df04d3"
FACT_ITEM = GoldItem(
    id="q1",
    language="vi",
    question="Hà Tĩnh nhận bao nhiêu kiến nghị?",
    answer="Hà Tĩnh nhận 18.087 kiến nghị.",
    must_include=[["18087"], ["Ha Tinh", "河静"]],
    sources=[SOURCE],
    answerable=True,
)
UNANSWERABLE = GoldItem(
    id="q2",
    language="en",
    question="Who won in 2030?",
    answer="",
    must_include=[],
    sources=[],
    answerable=False,
)


def citation(marker, doc_id, chunk_id):
    return {
        "marker": marker,
        "doc_id": doc_id,
        "chunk_id": chunk_id,
        "quote": "",
        "supported": True,
    }


def test_doc_key_ignores_the_extension_only():
    assert doc_key("dir/a.txt#2") == "dir/a#2"
    assert doc_key(f"{SOURCE}.txt") == doc_key(SOURCE) == SOURCE


def test_dedupe_keeps_rank_order():
    assert dedupe(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_retrieval_metrics_by_hand():
    retrieved = ["a.txt", "b", "c.txt", "d"]
    sources = ["c", "x.txt"]
    assert recall_at(retrieved, sources, 1) == 0.0
    assert recall_at(retrieved, sources, 3) == 0.5
    assert reciprocal_rank(retrieved, sources) == pytest.approx(1 / 3)
    # One hit at rank 3; ideal: two hits at ranks 1 and 2.
    expected = (1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_at(retrieved, sources, 10) == pytest.approx(expected)  # 0.3066
    assert reciprocal_rank(["a", "b"], sources) == 0.0


def test_retrieval_metrics_do_not_apply_without_sources():
    figures = retrieval_metrics(["a"], [])
    assert set(figures) == {"recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10"}
    assert all(value is None for value in figures.values())
    assert retrieval_metrics(["x", "a"], ["a"])["recall@1"] == 0.0
    assert retrieval_metrics(["x", "a"], ["a"])["recall@3"] == 1.0


def test_facts_need_every_group_and_any_alternative():
    assert facts_matched("Hà Tĩnh nhận 18.087 kiến nghị", FACT_ITEM.must_include)
    assert facts_matched("河静省收到18 087条建议", FACT_ITEM.must_include)
    assert not facts_matched("Hà Tĩnh nhận 18.000 kiến nghị", FACT_ITEM.must_include)
    assert facts_matched("anything", [])


def test_token_f1_by_hand():
    # overlap {the, cat}: precision 2/3, recall 2/4 -> F1 4/7
    assert token_f1("The cat sat.", "the cat ran away") == pytest.approx(4 / 7)
    # CJK per character: 5 shared characters, precision 5/5, recall 5/6 -> 10/11
    assert token_f1("北京是首都", "首都是北京市") == pytest.approx(10 / 11)
    assert token_f1("18.087", "18087") == 1.0
    assert token_f1("", "") == 1.0
    assert token_f1("x", "") == 0.0
    assert token_f1("a b", "c d") == 0.0


def test_invalid_markers_count_markers_without_a_citation():
    assert invalid_markers("A [1]. B [3]. C [1].", [citation(1, SOURCE, "c1")]) == (1, 3)
    assert invalid_markers("No markers.", []) == (0, 0)


def test_a_correct_citation_is_a_gold_source_passage_holding_a_matched_fact():
    answer = "Hà Tĩnh nhận 18.087 kiến nghị [1][2][3]."
    citations = [
        citation(1, f"{SOURCE}.txt", "fact"),  # gold source, holds 18,087
        citation(2, SOURCE, "other"),  # gold source, no fact
        citation(3, "004_b57fbf0374424cd6", "elsewhere"),  # holds the fact, wrong document
    ]
    passages = {
        "fact": "The province received 18,087 proposals.",
        "other": "A conference was held.",
        "elsewhere": "18 087 proposals",
    }
    assert correct_citations(FACT_ITEM, answer, citations, passages) == [True, False, False]
    judged = correct_citations(FACT_ITEM, answer, citations, passages, frozenset({2}))
    assert judged == [True, True, False]


def test_answer_metrics_of_a_good_answer():
    figures = answer_metrics(
        FACT_ITEM,
        answer="Hà Tĩnh nhận 18.087 kiến nghị [1] [4].",
        refused=False,
        verified=True,
        citations=[citation(1, SOURCE, "c1")],
        passage_texts={"c1": "Hà Tĩnh nhận 18.087 kiến nghị."},
        answer_language="vi",
    )
    assert figures == {
        "fact_accuracy": 1.0,
        "confidently_wrong": 0.0,
        "unverified_rate": 0.0,
        "token_f1": 1.0,
        "judge_accuracy": None,
        "citation_precision": 1.0,
        "citation_recall": 1.0,
        "invalid_marker_rate": 0.5,  # [4] has no passage
        "language_match": 1.0,
        "detected_language_match": 1.0,
        "refusal_rate": None,
        "unanswerable_declined": None,
        "false_refusal_rate": 0.0,
        "shown_verified": 1.0,
        "verified_right": 1.0,
    }


def test_a_wrong_answer_shown_as_verified_is_confidently_wrong():
    figures = answer_metrics(
        FACT_ITEM,
        answer="Hà Tĩnh nhận 2.015 kiến nghị [1].",
        refused=False,
        verified=True,
        citations=[citation(1, SOURCE, "c1")],
        passage_texts={"c1": "Hà Tĩnh nhận 18.087 kiến nghị; 2.015 cuộc đối thoại."},
        answer_language="vi",
    )
    assert figures["fact_accuracy"] == 0.0 and figures["confidently_wrong"] == 1.0
    assert figures["unverified_rate"] == 0.0


def test_a_not_verified_reply_earns_nothing_from_the_evidence_it_quotes():
    # The quoted evidence holds the fact, and the reply names it: still no fact, no citation.
    figures = answer_metrics(
        FACT_ITEM,
        answer="Không thể xác minh ở Hà Tĩnh: 18.087 [1]",
        refused=False,
        verified=False,
        citations=[citation(1, SOURCE, "c1")],
        passage_texts={"c1": "Hà Tĩnh nhận 18.087 kiến nghị."},
        answer_language="vi",
    )
    assert figures["fact_accuracy"] == 0.0
    assert figures["unverified_rate"] == 1.0
    assert figures["confidently_wrong"] == 0.0
    assert figures["citation_precision"] is None and figures["citation_recall"] == 0.0
    assert figures["false_refusal_rate"] == 0.0


@pytest.mark.parametrize(
    ("refused", "verified", "declined", "wrong"),
    [(True, False, 1.0, 0.0), (False, False, 1.0, 0.0), (False, True, 0.0, 1.0)],
)
def test_an_unanswerable_question_must_be_refused_or_not_verified(
    refused, verified, declined, wrong
):
    figures = answer_metrics(
        UNANSWERABLE,
        answer="Someone [1].",
        refused=refused,
        verified=verified,
        citations=[],
        passage_texts={},
        answer_language="en",
    )
    assert figures["unanswerable_declined"] == declined
    assert figures["confidently_wrong"] == wrong
    assert figures["unverified_rate"] is None


def test_a_refusal_of_an_answerable_question_is_wrong_even_if_it_names_the_fact():
    figures = answer_metrics(
        FACT_ITEM,
        answer="Không rõ 18.087 ở Hà Tĩnh.",
        refused=True,
        verified=False,
        citations=[],
        passage_texts={},
        answer_language="en",
        judge_correct=False,
    )
    assert figures["fact_accuracy"] == 0.0
    assert figures["false_refusal_rate"] == 1.0
    assert figures["citation_recall"] == 0.0
    assert figures["citation_precision"] is None
    assert figures["language_match"] == 0.0
    assert figures["judge_accuracy"] == 0.0


def test_answer_metrics_of_an_unanswerable_question():
    figures = answer_metrics(
        UNANSWERABLE,
        answer="The articles do not say.",
        refused=True,
        verified=False,
        citations=[],
        passage_texts={},
        answer_language="en",
    )
    assert figures["refusal_rate"] == 1.0
    assert figures["false_refusal_rate"] is None
    assert figures["fact_accuracy"] is None
    assert figures["token_f1"] is None
    assert figures["citation_recall"] is None


def test_unknown_refusal_leaves_refusal_figures_out():
    figures = answer_metrics(
        UNANSWERABLE,
        answer="Nobody.",
        refused=None,
        verified=None,
        citations=[],
        passage_texts={},
        answer_language="en",
    )
    # The naive pipeline cannot tell: its every answer counts as shown to be true.
    assert figures["refusal_rate"] is None and figures["unanswerable_declined"] is None
    assert figures["confidently_wrong"] == 1.0


def record(id_, language, type_, metrics, total_s, **extra):
    timings = {"retrieve_s": 0.1, "ttft_s": None, "total_s": total_s}
    return {
        "id": id_,
        "language": language,
        "type": type_,
        "metrics": metrics,
        "timings": timings,
        **extra,
    }


def test_aggregate_means_skip_figures_that_do_not_apply():
    records = [
        record("a", "en", "fact", {"fact_accuracy": 1.0, "refusal_rate": None}, 1.0),
        record("b", "en", "fact", {"fact_accuracy": 0.0, "refusal_rate": None}, 2.0),
        record("c", "de", "unanswerable", {"fact_accuracy": None, "refusal_rate": 1.0}, 3.0),
        record("d", "de", "fact", {}, 4.0, error="boom"),
    ]
    figures = aggregate(records)
    assert figures["questions"] == 4
    assert figures["errors"] == 1
    assert figures["fact_accuracy"] == 0.5
    assert figures["refusal_rate"] == 1.0
    assert figures["total_p50_s"] == pytest.approx(2.5)
    assert figures["total_p95_s"] == pytest.approx(3.85)  # 3 + 0.85 * (4 - 3)
    assert figures["retrieve_p50_s"] == pytest.approx(0.1)
    assert figures["ttft_p50_s"] is None

    summary = summarize(records)
    assert summary["by_language"]["en"]["fact_accuracy"] == 0.5
    assert summary["by_language"]["de"]["questions"] == 2
    assert summary["by_type"]["unanswerable"]["refusal_rate"] == 1.0
    assert summary["overall"] == figures


def answered(id_, language, answerable, verified, right, **timings):
    """A record of an answered question: ``verified`` shown as verified (None: the pipeline
    cannot tell), ``right`` its fact flag."""
    metrics = answer_metrics(
        FACT_ITEM if answerable else UNANSWERABLE,
        answer="Hà Tĩnh nhận 18.087 kiến nghị." if right else "Hà Tĩnh nhận 2.015 kiến nghị.",
        refused=False,
        verified=verified,
        citations=[],
        passage_texts={},
        answer_language="vi",
    )
    return {
        "id": id_,
        "language": language,
        "type": "number" if answerable else "unanswerable",
        "answerable": answerable,
        "verified": verified,
        "metrics": metrics,
        "timings": {"retrieve_s": 0.1, "ttft_s": 1.0, "total_s": 2.0, **timings},
    }


def test_precision_and_coverage_are_ratios_of_counts_not_means_of_groups():
    records = [
        answered("a", "en", True, True, True),
        answered("b", "de", True, True, False),
        answered("c", "de", True, True, True),
        answered("d", "de", False, True, False),  # a verified answer to an unanswerable one
        answered("e", "de", True, False, True),  # "not verified": neither right nor shown
    ]
    summary = summarize(records)
    overall = summary["overall"]
    # Precision: right / shown as verified = 2 / 4, not the mean of en's 1 and de's 1/3.
    assert overall["verified_precision"] == pytest.approx(2 / 4)
    assert summary["by_language"]["en"]["verified_precision"] == 1.0
    assert summary["by_language"]["de"]["verified_precision"] == pytest.approx(1 / 3)
    # Coverage: shown as verified / answerable questions = 4 / 4; de: 3 / 3.
    assert overall["coverage"] == 1.0
    assert summary["by_type"]["number"]["coverage"] == pytest.approx(3 / 4)
    # Only a verified answer can be right, so precision x coverage is the fact accuracy.
    assert overall["verified_precision"] * overall["coverage"] == pytest.approx(
        overall["fact_accuracy"]
    )
    assert "shown_verified" not in overall and "verified_right" not in overall  # counted only


def test_precision_and_coverage_without_verified_or_answerable_questions_are_none():
    figures = aggregate([answered("a", "en", True, False, True)])
    assert figures["verified_precision"] is None
    assert figures["coverage"] == 0.0
    figures = aggregate([record("x", "en", "fact", {"recall@1": 1.0}, 1.0)])  # retrieval only
    assert figures["verified_precision"] is None and figures["coverage"] is None


def test_the_naive_pipelines_every_answer_counts_as_shown_verified():
    figures = aggregate([answered("a", "en", True, None, True), answered("b", "en", True, None, 0)])
    assert figures["verified_precision"] == 0.5 and figures["coverage"] == 1.0


def test_times_to_the_key_fact_and_to_the_verified_answer():
    records = [
        answered("a", "en", True, True, True, key_fact_s=0.4, ttft_s=3.0),
        answered("b", "en", True, False, False, key_fact_s=0.6, ttft_s=9.0),  # not verified
        answered("c", "en", True, True, True, key_fact_s=None, ttft_s=5.0),  # no key fact card
    ]
    figures = aggregate(records)
    assert figures["key_fact_p50_s"] == pytest.approx(0.5)
    assert figures["verified_answer_p50_s"] == pytest.approx(4.0)  # ttft of a and c only
    assert figures["ttft_p50_s"] == pytest.approx(5.0)
    # A record written before key_fact_s existed has none.
    assert aggregate([record("a", "en", "fact", {}, 1.0)])["key_fact_p50_s"] is None


def test_stage_times_per_stage_in_the_order_they_ran():
    stages = [
        {"retrieve": 0.2, "extractive": 1.0, "llm_reader": 4.0},
        {"retrieve": 0.4, "extractive": 2.0, "llm_reader": 8.0, "tie_break": 3.0},
        {},
    ]
    records = [record(i, "en", "fact", {}, 1.0) for i in "abc"]
    for rec, times in zip(records, stages, strict=True):
        rec["timings"]["stages"] = times
    times = summarize(records)["stages"]
    assert list(times) == ["retrieve", "extractive", "llm_reader", "tie_break"]
    assert times["llm_reader"] == {"questions": 2, "p50_s": 6.0, "mean_s": 6.0}
    assert times["tie_break"] == {"questions": 1, "p50_s": 3.0, "mean_s": 3.0}
    assert stage_times([record("a", "en", "fact", {}, 1.0)]) == {}  # an older record


def test_summaries_by_split_follow_the_gold_sets_order():
    records = [
        record("q1", "en", "fact", {"fact_accuracy": 1.0}, 1.0, split="frozen"),
        record("q2", "en", "fact", {"fact_accuracy": 0.0}, 1.0, split="held_out"),
        record("q3", "en", "fact", {"fact_accuracy": 1.0}, 1.0, split="dev"),
        record("q5", "en", "fact", {"fact_accuracy": 0.0}, 1.0),  # written before splits
    ]
    by_split = summarize(records)["by_split"]
    assert list(by_split) == ["dev", "held_out", "frozen"]
    assert [figures["questions"] for figures in by_split.values()] == [1, 1, 1]


def test_risk_against_coverage_as_the_confidence_threshold_rises():
    records = [
        answered("a", "en", True, True, True) | {"key_fact": {"confidence": 0.9}},
        answered("b", "en", True, True, False) | {"key_fact": {"confidence": 0.3}},
        answered("c", "en", True, True, True),  # no key fact: confidence 1.0
        answered("d", "en", False, True, False) | {"key_fact": {"confidence": 0.3}},
        answered("e", "en", True, False, True) | {"key_fact": {"confidence": 0.99}},  # unshown
    ]
    assert confidence_of(records[2]) == 1.0
    points = risk_coverage(records)
    # Answerable: a, b, c, e. The first point is the product's own: every verified answer.
    assert points == [
        pytest.approx((0.3, 4 / 4, 1 - 2 / 4)),
        pytest.approx((0.9, 2 / 4, 0.0)),
        pytest.approx((1.0, 1 / 4, 0.0)),
    ]
    overall = aggregate(records)
    assert points[0][1:] == pytest.approx((overall["coverage"], 1 - overall["verified_precision"]))
    assert risk_coverage([answered("e", "en", True, False, True)]) == []

"""Per-question figures and their aggregation. A figure that does not apply to a question
(recall without gold sources, refusal rate of an answerable question) is None and left out
of the mean, so every aggregate is a plain mean over the questions it applies to, except
the ratios of verified answers (``RATIO_METRICS``), counted from per-question flags
(``FLAGS``) over whichever questions are aggregated: a run, a split, a language or a type."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import PurePosixPath

import numpy as np

from evals.gold import SPLITS, GoldItem
from evals.normalize import contains, strip_markers, tokens

RECALL_DEPTHS = (1, 3, 5, 10)
NDCG_DEPTH = 10
RETRIEVAL_DEPTH = max(*RECALL_DEPTHS, NDCG_DEPTH)  # passages retrieved per question
RETRIEVAL_METRICS = (*(f"recall@{k}" for k in RECALL_DEPTHS), "mrr", f"ndcg@{NDCG_DEPTH}")
ANSWER_METRICS = (
    "fact_accuracy",
    "confidently_wrong",
    "unverified_rate",
    "token_f1",
    "judge_accuracy",
    "citation_precision",
    "citation_recall",
    "invalid_marker_rate",
    "language_match",
    "detected_language_match",
    "refusal_rate",
    "unanswerable_declined",
    "false_refusal_rate",
)
# The figures that read the cited passages' text.
CITATION_METRICS = ("citation_precision", "citation_recall")
# Counted, not averaged: whether a question's answer was shown as verified (the naive
# pipeline's every answer counts, as it cannot tell), and whether that answer was right.
FLAGS = ("shown_verified", "verified_right")
# precision of verified answers: right / shown as verified, over answerable and unanswerable
# questions alike; coverage: shown as verified / answerable questions. Their product is the
# fact accuracy, as only a verified answer can be right.
RATIO_METRICS = ("verified_precision", "coverage")
LATENCY_STAGES = ("retrieve", "key_fact", "ttft", "total")  # the ``{stage}_s`` timings
# The time to the verified answer: the first token of the answers shown as verified.
VERIFIED_ANSWER = "verified_answer"
LATENCIES = ("retrieve", "key_fact", "ttft", VERIFIED_ANSWER, "total")
LATENCY_METRICS = tuple(f"{name}_{p}_s" for name in LATENCIES for p in ("p50", "p95"))
LOWER_IS_BETTER = frozenset(
    {
        "errors",
        "confidently_wrong",
        "unverified_rate",
        "invalid_marker_rate",
        "false_refusal_rate",
        *LATENCY_METRICS,
    }
)
COUNTS = ("questions", "errors")

MARKER_NUMBER = re.compile(r"\[(\d+)\]")


def doc_key(doc_id: str) -> str:
    """A doc id without its file extension ("a/b.txt#2" -> "a/b#2"), as gold sources may
    name documents either way."""
    path, hash_sign, record = doc_id.partition("#")
    return str(PurePosixPath(path).with_suffix("")) + hash_sign + record


def dedupe(doc_ids: Iterable[str]) -> list[str]:
    """Doc ids in first-seen (rank) order, each once."""
    return list(dict.fromkeys(doc_ids))


def recall_at(retrieved: Sequence[str], sources: Sequence[str], k: int) -> float:
    relevant = {doc_key(source) for source in sources}
    found = relevant & {doc_key(doc_id) for doc_id in retrieved[:k]}
    return len(found) / len(relevant)


def reciprocal_rank(retrieved: Sequence[str], sources: Sequence[str]) -> float:
    relevant = {doc_key(source) for source in sources}
    for rank, doc_id in enumerate(retrieved, start=1):
        if doc_key(doc_id) in relevant:
            return 1 / rank
    return 0.0


def ndcg_at(retrieved: Sequence[str], sources: Sequence[str], k: int) -> float:
    """Binary-relevance nDCG: each gold document found at rank r adds 1/log2(r + 1)."""
    relevant = {doc_key(source) for source in sources}
    gain = sum(
        1 / math.log2(rank + 1)
        for rank, doc_id in enumerate(retrieved[:k], start=1)
        if doc_key(doc_id) in relevant
    )
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(len(relevant), k) + 1))
    return gain / ideal


def retrieval_metrics(retrieved: Sequence[str], sources: Sequence[str]) -> dict[str, float | None]:
    """``retrieved``: deduplicated doc ids in rank order."""
    if not sources:
        return dict.fromkeys(RETRIEVAL_METRICS)
    return {
        **{f"recall@{k}": recall_at(retrieved, sources, k) for k in RECALL_DEPTHS},
        "mrr": reciprocal_rank(retrieved, sources),
        f"ndcg@{NDCG_DEPTH}": ndcg_at(retrieved, sources, NDCG_DEPTH),
    }


def matched_alternatives(text: str, groups: Sequence[Sequence[str]]) -> list[str]:
    """Every alternative found in ``text``, over all groups."""
    return [alternative for group in groups for alternative in group if contains(text, alternative)]


def facts_matched(text: str, groups: Sequence[Sequence[str]]) -> bool:
    return all(any(contains(text, alternative) for alternative in group) for group in groups)


def token_f1(prediction: str, reference: str) -> float:
    predicted, expected = tokens(prediction), tokens(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    overlap = sum((Counter(predicted) & Counter(expected)).values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def invalid_markers(answer: str, citations: Sequence[dict]) -> tuple[int, int]:
    """(markers pointing to no passage, all markers) in the answer text."""
    cited = {citation["marker"] for citation in citations}
    markers = [int(number) for number in MARKER_NUMBER.findall(answer)]
    return sum(marker not in cited for marker in markers), len(markers)


def correct_citations(
    item: GoldItem,
    answer: str,
    citations: Sequence[dict],
    passage_texts: dict[str, str],
    judged_supporting: frozenset[int] = frozenset(),
) -> list[bool]:
    """A citation is correct when its passage comes from a gold source document and holds
    a fact the answer got right (any source passage, when the item lists no facts), or
    when the judge found it supporting."""
    sources = {doc_key(source) for source in item.sources}
    facts = matched_alternatives(strip_markers(answer), item.must_include)
    verdicts = []
    for citation in citations:
        passage = passage_texts.get(citation["chunk_id"], citation["quote"])
        holds_fact = not item.must_include or any(contains(passage, fact) for fact in facts)
        verdicts.append(
            (doc_key(citation["doc_id"]) in sources and holds_fact)
            or citation["marker"] in judged_supporting
        )
    return verdicts


def answer_metrics(
    item: GoldItem,
    *,
    answer: str,
    refused: bool | None,
    verified: bool | None,
    citations: Sequence[dict],
    passage_texts: dict[str, str],
    answer_language: str,
    untranslated: Sequence[object] = (),
    judge_correct: bool | None = None,
    judged_supporting: frozenset[int] = frozenset(),
) -> dict[str, float | None]:
    """``refused`` and ``verified`` are None when the pipeline cannot tell (the naive one):
    its every answer counts as shown to be true. ``untranslated``: the words the answer
    copied from a cited passage of another language (``evals.language``); any makes the
    answer not in the asker's language, whatever language it is detected in.

    Only an answer shown as verified is scored as an answer: a "not verified" reply, and
    the evidence it quotes, earns no fact and no citation, so quoting cannot buy accuracy.
    ``confidently_wrong`` is what a user must not see: a wrong answer shown as verified, or
    any verified answer to a question the articles cannot answer."""
    text = strip_markers(answer)
    shown_as_answer = not refused and verified is not False
    not_verified = not refused and verified is False
    correct = (
        correct_citations(item, answer, citations, passage_texts, judged_supporting)
        if shown_as_answer
        else []
    )
    invalid, markers = invalid_markers(answer, citations)
    answerable, refusal_known = item.answerable, refused is not None
    facts_right = shown_as_answer and facts_matched(text, item.must_include)
    detected_match = answer_language == item.language
    return {
        "fact_accuracy": _flag(facts_right) if answerable else None,
        "confidently_wrong": _flag(shown_as_answer and not (answerable and facts_right)),
        "unverified_rate": _flag(not_verified) if answerable and verified is not None else None,
        "token_f1": token_f1(text, item.answer) if answerable and shown_as_answer else None,
        "judge_accuracy": _flag(judge_correct) if judge_correct is not None else None,
        "citation_precision": sum(correct) / len(correct) if correct else None,
        "citation_recall": _flag(any(correct)) if answerable else None,
        "invalid_marker_rate": invalid / markers if markers else None,
        "language_match": _flag(detected_match and not untranslated) if text.strip() else None,
        "detected_language_match": _flag(detected_match) if text.strip() else None,
        "refusal_rate": _flag(refused) if refusal_known and not answerable else None,
        "unanswerable_declined": (
            _flag(not shown_as_answer) if refusal_known and not answerable else None
        ),
        "false_refusal_rate": _flag(refused) if refusal_known and answerable else None,
        "shown_verified": _flag(shown_as_answer),
        "verified_right": _flag(answerable and facts_right) if shown_as_answer else None,
    }


def _flag(value: bool) -> float:
    return 1.0 if value else 0.0


def aggregate(records: Sequence[dict]) -> dict[str, float | int | None]:
    """Means of the per-question figures, the ratios of verified answers and latency
    percentiles, over ``records`` (lines of results.jsonl)."""
    names = dedupe(name for record in records for name in record["metrics"])
    figures: dict[str, float | int | None] = {
        "questions": len(records),
        "errors": sum("error" in record for record in records),
    }
    for name in names:
        if name in FLAGS:
            continue
        values = [r["metrics"][name] for r in records if r["metrics"].get(name) is not None]
        figures[name] = float(np.mean(values)) if values else None
    figures |= verified_ratios(records)
    for stage in LATENCIES:
        values = [value for value in map(_latency(stage), records) if value is not None]
        for name, q in (("p50", 50), ("p95", 95)):
            figures[f"{stage}_{name}_s"] = float(np.percentile(values, q)) if values else None
    return figures


def verified_ratios(records: Sequence[dict]) -> dict[str, float | None]:
    """``RATIO_METRICS`` counted from the records' flags; None without a verified answer
    (precision) or an answerable question (coverage) that was answered at all."""
    shown = [r for r in records if r["metrics"].get("shown_verified") is not None]
    verified = [r for r in shown if r["metrics"]["shown_verified"]]
    right = sum(bool(r["metrics"].get("verified_right")) for r in verified)
    answerable = sum(bool(r.get("answerable")) for r in shown)
    return {
        "verified_precision": right / len(verified) if verified else None,
        "coverage": len(verified) / answerable if answerable else None,
    }


def _latency(name: str) -> Callable[[dict], float | None]:
    """A record's seconds to ``name``: its ``{name}_s`` timing, or for the verified answer
    its first token when it was shown as verified (None otherwise). Older records lack the
    newer timings: theirs are None."""
    if name == VERIFIED_ANSWER:
        return lambda r: r["timings"].get("ttft_s") if r["metrics"].get("shown_verified") else None
    return lambda r: r["timings"].get(f"{name}_s")


def stage_times(records: Sequence[dict]) -> dict[str, dict[str, float | int]]:
    """Each answering stage's seconds (``timings.stages``), in the order the stages ran:
    median and mean over the questions that ran it, and how many did."""
    ran: dict[str, list[float]] = {}
    for record in records:
        for stage, seconds in (record["timings"].get("stages") or {}).items():
            ran.setdefault(stage, []).append(seconds)
    return {
        stage: {
            "questions": len(values),
            "p50_s": float(np.percentile(values, 50)),
            "mean_s": float(np.mean(values)),
        }
        for stage, values in ran.items()
    }


def confidence_of(record: dict) -> float:
    """How sure the product was of an answer shown as verified: its key fact's confidence,
    1.0 without a key fact (nothing cast doubt on it)."""
    key_fact = record.get("key_fact")
    return float(key_fact["confidence"]) if key_fact else 1.0


def risk_coverage(records: Sequence[dict]) -> list[tuple[float, float, float]]:
    """(threshold, coverage, risk) as a confidence threshold (``confidence_of``) keeps fewer
    and fewer of the answers shown as verified, from the lowest threshold (every verified
    answer: the product's operating point, first) to the highest. Risk is 1 − precision;
    coverage as in ``verified_ratios``. Empty without a verified answer."""
    shown = [r for r in records if r["metrics"].get("shown_verified") is not None]
    answerable = sum(bool(r.get("answerable")) for r in shown)
    verified = [r for r in shown if r["metrics"]["shown_verified"]]
    if not verified or not answerable:
        return []
    points = []
    for threshold in sorted({confidence_of(r) for r in verified}):
        kept = [r for r in verified if confidence_of(r) >= threshold]
        right = sum(bool(r["metrics"].get("verified_right")) for r in kept)
        points.append((threshold, len(kept) / answerable, 1 - right / len(kept)))
    return points


def summarize(records: Sequence[dict]) -> dict:
    """metrics.json: the figures overall, per split of the gold set (in ``SPLITS`` order),
    per question language and per question type, and the seconds of each answering stage.
    Records written before the runner kept their split are in no split."""

    def split(field: str, order: Iterable[str] | None = None) -> dict[str, dict]:
        present = {record.get(field) for record in records} - {None}
        keys = [key for key in order if key in present] if order else sorted(present)
        return {key: aggregate([r for r in records if r.get(field) == key]) for key in keys}

    return {
        "overall": aggregate(records),
        "by_split": split("split", SPLITS),
        "by_language": split("language"),
        "by_type": split("type"),
        "stages": stage_times(records),
    }

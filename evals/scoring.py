"""A results.jsonl record scored from what it holds. The runner scores each new record with
``score``, and ``rescore`` scores an old run's records again with the current evaluator
(``benchmarks.answers``), so that runs made by older code get the newer figures wherever
their records hold what these need."""

from __future__ import annotations

from evals.gold import GoldItem
from evals.language import untranslated_words
from evals.metrics import CITATION_METRICS, answer_metrics, retrieval_metrics
from evals.normalize import strip_markers
from ingest.interfaces import LanguageDetector


def cited_passages(record: dict, detector: LanguageDetector) -> list[tuple[str, str]]:
    """(text, language) of each passage the answer cites. The language is detected when the
    pipeline did not give it, and so is the quote's of a record written before the runner
    kept the cited passages."""
    kept = record.get("cited_passages") or {}
    cited = []
    for citation in record.get("citations") or []:
        passage = kept.get(citation["chunk_id"]) or {"text": citation["quote"], "language": None}
        cited.append((passage["text"], passage["language"] or detector.detect(passage["text"])))
    return cited


def untranslated(record: dict, item: GoldItem, detector: LanguageDetector) -> list[list[str]]:
    """[word, source language] for each word the record's answer copied untranslated from a
    cited passage of another language than the question's (``evals.language``)."""
    cited = cited_passages(record, detector)
    words = untranslated_words(record["answer"], item.question, cited, item.language, detector)
    return [list(pair) for pair in words]


def score(record: dict, item: GoldItem) -> dict[str, float | None]:
    """The record's retrieval figures, and its answer figures once it has an answer."""
    figures = retrieval_metrics(record["retrieved"], item.sources)
    if record.get("answer") is None:
        return figures
    judge = record.get("judge") or {}
    passages = record.get("cited_passages") or {}
    return figures | answer_metrics(
        item,
        answer=record["answer"],
        refused=record.get("refused"),
        verified=record.get("verified"),
        citations=record.get("citations") or [],
        passage_texts={chunk_id: passage["text"] for chunk_id, passage in passages.items()},
        answer_language=record["answer_language"],
        untranslated=record.get("untranslated_words") or (),
        judge_correct=judge.get("correct"),
        judged_supporting=frozenset(judge.get("supporting", ())),
    )


def rescore(record: dict, item: GoldItem | None, detector: LanguageDetector) -> dict:
    """``record`` scored again with the current evaluator, where it can be: not when its
    question is not ``item``'s (a run on another gold file), nor when a tool set its figures
    (``scored_by``, as ``benchmarks.reader_ablation`` does). What an older record lacks is
    kept as its run computed it: the judge's verdict, and the citation figures, which need
    the cited passages' full text."""
    if item is None or record.get("question") != item.question or record.get("scored_by"):
        return record
    record = dict(record)
    if record.get("answer") is not None:
        text = strip_markers(record["answer"])
        if "answer_language" not in record:
            record["answer_language"] = detector.detect(text) if text.strip() else "und"
        record["untranslated_words"] = untranslated(record, item, detector)
    figures = score(record, item)
    stored = record.get("metrics") or {}
    if "judge" not in record and "judge_accuracy" in stored:
        figures["judge_accuracy"] = stored["judge_accuracy"]
    if "cited_passages" not in record and record.get("citations"):
        figures |= {name: stored.get(name) for name in CITATION_METRICS if name in figures}
    return record | {"metrics": figures}

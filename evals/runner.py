"""Runs gold questions through a pipeline and records one results.jsonl line per question.

The run is resumable: results.jsonl is append-only and flushed per line, the latest line
of an id wins, and a rerun into the same directory skips ids whose line has no error.
Ctrl-C keeps every finished line and still writes metrics.json and the report (questions
in flight when it comes are dropped).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant.types import (
    DoneEvent,
    ErrorEvent,
    KeyFact,
    KeyFactEvent,
    SourcesEvent,
    TokenEvent,
)
from evals.gold import GoldItem, split_of
from evals.judge import Judge
from evals.metrics import RETRIEVAL_DEPTH, dedupe, retrieval_metrics, summarize
from evals.normalize import strip_markers
from evals.report import write_report
from evals.scoring import score, untranslated
from ingest.interfaces import LanguageDetector

if TYPE_CHECKING:
    from assistant.service import Assistant

RESULTS_FILE = "results.jsonl"
METRICS_FILE = "metrics.json"
RUN_FILE = "run.json"  # the options a resumed run must share with the first one


@dataclass
class PipelineAnswer:
    answer: str
    refused: bool | None  # None: the pipeline cannot tell
    citations: list[dict] = field(default_factory=list)
    passage_texts: dict[str, str] = field(default_factory=dict)  # by chunk id
    # retrieve_s, key_fact_s, ttft_s, total_s from the start; stages: seconds per stage
    timings: dict = field(default_factory=dict)
    error: str | None = None
    verified: bool | None = None  # False: a "not verified" reply; None: cannot tell
    notes: list[str] = field(default_factory=list)  # why not verified, what the product logged
    passage_languages: dict[str, str] = field(default_factory=dict)  # by chunk id
    key_fact: dict | None = None  # the key fact card shown: text, kind, confidence, status


class Pipeline(Protocol):
    def retrieve(self, question: str) -> list[str]:
        """Doc ids of the top RETRIEVAL_DEPTH passages, in rank order."""
        ...

    def answer(self, item: GoldItem) -> PipelineAnswer: ...


class ProductPipeline:
    """The product, through its public API, as a user's question goes."""

    def __init__(self, assistant: Assistant):
        self.assistant = assistant

    def retrieve(self, question: str) -> list[str]:
        return [passage.doc_id for passage in self.assistant.search(question, k=RETRIEVAL_DEPTH)]

    def answer(self, item: GoldItem) -> PipelineAnswer:
        with logged_lines("assistant") as notes:
            answer = self._answer(item)
        answer.notes = notes
        return answer

    def _answer(self, item: GoldItem) -> PipelineAnswer:
        start = perf_counter()
        timings: dict = {"retrieve_s": None, "key_fact_s": None, "ttft_s": None}
        error, result, key_fact = None, None, None
        for event in self.assistant.stream(item.question, history=item.history or None):
            elapsed = perf_counter() - start
            match event:
                case SourcesEvent():
                    timings["retrieve_s"] = elapsed
                case KeyFactEvent(key_fact=shown) if timings["key_fact_s"] is None:
                    timings["key_fact_s"], key_fact = elapsed, shown
                case TokenEvent() if timings["ttft_s"] is None:
                    timings["ttft_s"] = elapsed
                case ErrorEvent(kind=kind, message=message):
                    error = f"{kind}: {message}"
                case DoneEvent(result=done):
                    result = done
        timings["total_s"] = perf_counter() - start
        if result is None:
            return PipelineAnswer("", False, timings=timings, error="the stream ended early")
        timings["stages"] = dict(result.timings.stages)
        # The answer's key fact carries its final status; the card's is still "checking".
        key_fact = result.key_fact or key_fact
        return PipelineAnswer(
            answer=result.answer,
            refused=result.refused,
            verified=result.verified,
            citations=[
                {
                    "marker": c.marker,
                    "doc_id": c.doc_id,
                    "chunk_id": c.chunk_id,
                    "quote": c.quote,
                    "supported": c.supported,
                }
                for c in result.citations
            ],
            passage_texts={passage.chunk_id: passage.text for passage in result.passages},
            passage_languages={p.chunk_id: p.language for p in result.passages},
            timings=timings,
            error=error or result.error,
            key_fact=key_fact_record(key_fact) if key_fact is not None else None,
        )


def key_fact_record(key_fact: KeyFact) -> dict:
    """The key fact as results.jsonl keeps it (its citation is in the answer's)."""
    return {
        "text": key_fact.text,
        "kind": key_fact.kind,
        "confidence": key_fact.confidence,
        "status": key_fact.status,
    }


@contextmanager
def logged_lines(logger_name: str) -> Iterator[list[str]]:
    """What ``logger_name`` logs at INFO and above in this thread meanwhile (the product
    logs why an answer was not verified, and the model's rejected answer)."""
    lines: list[str] = []
    thread = threading.get_ident()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.thread == thread:
                lines.append(record.getMessage())

    logger = logging.getLogger(logger_name)
    handler, level = Collect(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def search_query(item: GoldItem) -> str:
    """What retrieval is scored on. Search takes no history, so a follow-up is preceded by
    the user's previous turn, a model-free stand-in for the product's condensing step."""
    asked_before = [turn["content"] for turn in item.history if turn["role"] == "user"]
    return " ".join([*asked_before[-1:], item.question])


def evaluate(
    item: GoldItem,
    pipeline: Pipeline,
    detector: LanguageDetector,
    *,
    retrieval_only: bool = False,
    judge: Judge | None = None,
) -> dict:
    """One results.jsonl record. An exception becomes the record's ``error``, so one bad
    question neither stops the run nor counts as done. The record keeps what its figures
    are computed from (``evals.scoring``), so that a later evaluator can score it again."""
    record = {
        "id": item.id,
        "split": split_of(item),
        "question": item.question,
        "language": item.language,
        "type": item.type,
        "answerable": item.answerable,
        "answer": None,
        "answer_language": None,
        "refused": None,
        "verified": None,
        "citations": [],
        "retrieved": [],
        "timings": {"retrieve_s": None, "key_fact_s": None, "ttft_s": None, "total_s": None},
        "metrics": {},
    }
    try:
        start = perf_counter()
        record["retrieved"] = dedupe(pipeline.retrieve(search_query(item)))
        search_s = perf_counter() - start
        record["metrics"] = retrieval_metrics(record["retrieved"], item.sources)
        if retrieval_only:
            record["timings"] |= {"retrieve_s": search_s, "total_s": search_s}
            return record
        result = pipeline.answer(item)
    except Exception as error:
        return record | {"error": f"{type(error).__name__}: {error}"}
    text = strip_markers(result.answer)
    record |= {
        "answer": result.answer,
        "answer_language": detector.detect(text) if text.strip() else "und",
        "refused": result.refused,
        "verified": result.verified,
        "key_fact": result.key_fact,
        "citations": result.citations,
        "cited_passages": cited_passages(result),
        "notes": result.notes,
        "timings": record["timings"] | result.timings,
    }
    if judge is not None:
        cited = {
            c["marker"]: record["cited_passages"][c["chunk_id"]]["text"] for c in result.citations
        }
        verdict = judge.judge(item, result.answer, cited)
        if verdict is not None:
            record["judge"] = {"correct": verdict.correct, "supporting": sorted(verdict.supporting)}
    record["untranslated_words"] = untranslated(record, item, detector)
    record["metrics"] = score(record, item)
    if result.error:
        record["error"] = result.error
    return record


def cited_passages(result: PipelineAnswer) -> dict[str, dict]:
    """The cited passages by chunk id, as the record keeps them (the citation and language
    figures read them): their text, or the citation's quote when the pipeline did not
    return the passage, and their language, None when the pipeline does not give it."""
    return {
        c["chunk_id"]: {
            "text": result.passage_texts.get(c["chunk_id"], c["quote"]),
            "language": result.passage_languages.get(c["chunk_id"]),
        }
        for c in result.citations
    }


def load_results(path: Path) -> dict[str, dict]:
    """The latest record of each id. A line cut short by a crash is skipped."""
    records: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            records[record["id"]] = record
    return records


class RunOptionsMismatch(ValueError):
    pass


def check_run_options(out_dir: Path, options: dict) -> None:
    """Refuse to resume into a directory filled with other options: mixed results would
    be averaged as if they were one run."""
    path = out_dir / RUN_FILE
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        if previous != options:
            raise RunOptionsMismatch(
                f"{out_dir} holds a run with other options ({previous}); "
                f"use another --out for {options}"
            )
    else:
        path.write_text(json.dumps(options, indent=2) + "\n", encoding="utf-8")


def completed(
    work: Callable[[GoldItem], dict], items: Iterable[GoldItem], concurrency: int
) -> Iterator[dict]:
    """Results in completion order; with concurrency 1, in the caller's thread so that
    Ctrl-C stops at once."""
    if concurrency <= 1:
        yield from map(work, items)
        return
    pool = ThreadPoolExecutor(max_workers=concurrency)
    try:
        futures = [pool.submit(work, item) for item in items]
        for future in as_completed(futures):
            yield future.result()
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def run_eval(
    items: list[GoldItem],
    pipeline: Pipeline,
    detector: LanguageDetector,
    out_dir: Path,
    *,
    options: dict,
    retrieval_only: bool = False,
    concurrency: int = 1,
    judge: Judge | None = None,
    console: Console | None = None,
) -> tuple[dict, bool]:
    """Run the items not finished yet, then write metrics.json and the report over all of
    ``items`` that have a result. Returns (metrics, interrupted)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    check_run_options(out_dir, options)
    results_path = out_dir / RESULTS_FILE
    records = load_results(results_path)
    pending = [item for item in items if item.id not in records or "error" in records[item.id]]
    headline = "recall@5" if retrieval_only else "fact_accuracy"
    scores = {i.id: records[i.id]["metrics"].get(headline) for i in items if i.id in records}

    def work(item: GoldItem) -> dict:
        return evaluate(item, pipeline, detector, retrieval_only=retrieval_only, judge=judge)

    interrupted = False
    progress = Progress(
        TextColumn("[bold]eval"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[score]}"),
        console=console or Console(stderr=True),
    )
    with progress, appending_lines(results_path) as write_line:
        task = progress.add_task(
            "eval",
            total=len(items),
            completed=len(items) - len(pending),
            score=_running(headline, scores),
        )
        try:
            for record in completed(work, pending, concurrency):
                write_line(record)
                records[record["id"]] = record
                scores[record["id"]] = record["metrics"].get(headline)
                progress.update(task, advance=1, score=_running(headline, scores))
        except KeyboardInterrupt:
            interrupted = True
    finished = [records[item.id] for item in items if item.id in records]
    metrics = summarize(finished)
    (out_dir / METRICS_FILE).write_text(
        json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    write_report(out_dir, metrics, finished)
    return metrics, interrupted


def _running(headline: str, scores: dict[str, float | None]) -> str:
    known = [score for score in scores.values() if score is not None]
    return f"{headline} {sum(known) / len(known):.2f}" if known else ""


@contextmanager
def appending_lines(path: Path) -> Iterator[Callable[[dict], None]]:
    """Append JSON lines, each flushed as written, starting on a fresh line if a crash
    left the last one unfinished."""
    unfinished = path.exists() and path.stat().st_size > 0
    unfinished = unfinished and not path.read_bytes().endswith(b"\n")
    with path.open("a", encoding="utf-8") as file:
        if unfinished:
            file.write("\n")

        def write(record: dict) -> None:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")
            file.flush()

        yield write

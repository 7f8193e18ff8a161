import json
from pathlib import Path

import pytest

from assistant.types import (
    Answer,
    Citation,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    KeyFact,
    KeyFactEvent,
    Passage,
    ProgressEvent,
    SourcesEvent,
    Timings,
    TokenEvent,
)
from evals.gold import load_gold
from evals.judge import JudgeVerdict
from evals.runner import (
    PipelineAnswer,
    ProductPipeline,
    RunOptionsMismatch,
    evaluate,
    load_results,
    run_eval,
    search_query,
)
from tests.support.paths import TEST_DATA

GOLD = load_gold(TEST_DATA / "gold_small.jsonl")
S1, S2, S3 = GOLD
HA_TINH = "002_9dbad9a477df04d3.txt"
BAC_NINH = "004_b57fbf0374424cd6.txt"
PRODUCT = {"pipeline": "product", "retrieval_only": False}


class FixedDetector:
    def detect(self, text: str) -> str:
        return "en"


class ScriptedPipeline:
    """Answers from a script; ``fail`` maps ids to an exception to raise once."""

    def __init__(self, fail: dict[str, BaseException] | None = None):
        self.fail = dict(fail or {})
        self.answered: list[str] = []

    def retrieve(self, question: str) -> list[str]:
        return ["x.txt", HA_TINH, "x.txt", BAC_NINH]

    def answer(self, item) -> PipelineAnswer:
        if item.id in self.fail:
            raise self.fail.pop(item.id)
        self.answered.append(item.id)
        if not item.answerable:
            return PipelineAnswer("I cannot find this.", True, timings=timings(1.0))
        citation = {
            "marker": 1,
            "doc_id": item.sources[0],
            "chunk_id": "c",
            "quote": "q",
            "supported": True,
        }
        return PipelineAnswer(
            f"{item.answer} [1]", False, [citation], {"c": item.answer}, timings(2.0)
        )


def timings(total_s):
    return {"retrieve_s": 0.1, "ttft_s": 0.5, "total_s": total_s}


@pytest.fixture(autouse=True)
def reports(monkeypatch):
    """Reports written, recorded instead of drawn (test_eval_report covers drawing)."""
    written = []
    monkeypatch.setattr(
        "evals.runner.write_report", lambda out, metrics, records: written.append(records)
    )
    return written


def run(out, pipeline, items=GOLD, options=PRODUCT, **kwargs):
    return run_eval(items, pipeline, FixedDetector(), out, options=options, **kwargs)


def lines(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def test_a_run_writes_one_line_per_question_and_the_figures(tmp_path, reports):
    metrics, interrupted = run(tmp_path, ScriptedPipeline())
    assert not interrupted
    records = lines(tmp_path)
    assert [r["id"] for r in records] == ["s1", "s2", "s3"]
    first = records[0]
    assert set(first) >= {
        "id",
        "question",
        "language",
        "answer",
        "answer_language",
        "refused",
        "citations",
        "retrieved",
        "timings",
        "metrics",
    }
    assert first["retrieved"] == ["x.txt", HA_TINH, BAC_NINH]  # deduped, rank order
    assert first["metrics"]["recall@1"] == 0.0
    assert first["metrics"]["mrr"] == 0.5
    assert first["metrics"]["fact_accuracy"] == 1.0
    assert first["answer_language"] == "en"
    assert records[1]["metrics"]["language_match"] == 0.0  # a German question
    assert records[2]["refused"] is True
    assert metrics["overall"]["questions"] == 3
    assert metrics["overall"]["fact_accuracy"] == 1.0
    assert metrics["overall"]["refusal_rate"] == 1.0
    assert metrics["by_language"]["de"]["questions"] == 1
    assert json.loads((tmp_path / "metrics.json").read_text()) == metrics
    assert reports == [records]


def test_a_rerun_skips_finished_questions(tmp_path):
    run(tmp_path, ScriptedPipeline(), items=GOLD[:2])
    again = ScriptedPipeline()
    metrics, _ = run(tmp_path, again)
    assert again.answered == ["s3"]
    assert [r["id"] for r in lines(tmp_path)] == ["s1", "s2", "s3"]
    assert metrics["overall"]["questions"] == 3


def test_a_failed_question_is_recorded_and_retried_on_rerun(tmp_path):
    metrics, _ = run(tmp_path, ScriptedPipeline(fail={"s2": RuntimeError("boom")}))
    assert lines(tmp_path)[1]["error"] == "RuntimeError: boom"
    assert metrics["overall"]["errors"] == 1
    again = ScriptedPipeline()
    metrics, _ = run(tmp_path, again)
    assert again.answered == ["s2"]
    assert "error" not in load_results(tmp_path / "results.jsonl")["s2"]
    assert metrics["overall"]["errors"] == 0


def test_ctrl_c_keeps_finished_results_and_writes_the_report(tmp_path, reports):
    metrics, interrupted = run(tmp_path, ScriptedPipeline(fail={"s2": KeyboardInterrupt()}))
    assert interrupted
    assert [r["id"] for r in lines(tmp_path)] == ["s1"]
    assert metrics["overall"]["questions"] == 1
    assert [[r["id"] for r in records] for records in reports] == [["s1"]]
    again = ScriptedPipeline()
    run(tmp_path, again)
    assert again.answered == ["s2", "s3"]


def test_a_line_cut_short_by_a_crash_is_skipped_and_not_glued_to(tmp_path):
    run(tmp_path, ScriptedPipeline(), items=GOLD[:1])
    with (tmp_path / "results.jsonl").open("a") as file:
        file.write('{"id": "s2", "quest')
    again = ScriptedPipeline()
    run(tmp_path, again)
    assert again.answered == ["s2", "s3"]
    assert list(load_results(tmp_path / "results.jsonl")) == ["s1", "s2", "s3"]


def test_concurrent_questions_all_finish(tmp_path):
    metrics, _ = run(tmp_path, ScriptedPipeline(), concurrency=3)
    assert sorted(r["id"] for r in lines(tmp_path)) == ["s1", "s2", "s3"]
    assert metrics["overall"]["fact_accuracy"] == 1.0


def test_resuming_with_other_options_is_refused(tmp_path):
    run(
        tmp_path,
        ScriptedPipeline(),
        options={"pipeline": "product", "retrieval_only": True},
        retrieval_only=True,
    )
    with pytest.raises(RunOptionsMismatch):
        run(tmp_path, ScriptedPipeline())


def test_retrieval_only_records_only_retrieval(tmp_path):
    pipeline = ScriptedPipeline()
    record = evaluate(S1, pipeline, FixedDetector(), retrieval_only=True)
    assert pipeline.answered == []
    assert record["answer"] is None
    assert set(record["metrics"]) == {
        "recall@1",
        "recall@3",
        "recall@5",
        "recall@10",
        "mrr",
        "ndcg@10",
    }
    assert record["timings"]["ttft_s"] is None
    assert record["timings"]["total_s"] == record["timings"]["retrieve_s"]


def test_a_follow_up_is_searched_with_the_previous_question():
    assert search_query(S1) == S1.question
    assert search_query(S3) == f"Who leads Bac Ninh? {S3.question}"


def test_a_judge_verdict_is_recorded():
    class Judge:
        def judge(self, item, answer, cited):
            assert cited == {1: item.answer}
            return JudgeVerdict(correct=False, supporting=frozenset())

    record = evaluate(S1, ScriptedPipeline(), FixedDetector(), judge=Judge())
    assert record["judge"] == {"correct": False, "supporting": []}
    assert record["metrics"]["judge_accuracy"] == 0.0
    assert record["metrics"]["citation_precision"] == 1.0  # still a source passage with the fact


PASSAGE = Passage(HA_TINH, "c7", "Title", "en", 0.9, 0, 40, "Ha Tinh received 18,087 proposals.")


class FakeAssistant:
    """Assistant.search and Assistant.stream, scripted."""

    def __init__(self, events):
        self.events = events
        self.calls = []

    def search(self, query, k=None, language=None, doc_ids=None):
        self.calls.append(("search", query, k))
        return [PASSAGE]

    def stream(self, question, history=None, language=None, k=None):
        self.calls.append(("stream", question, history))
        return iter(self.events)


def test_the_product_pipeline_reads_the_stream():
    citation = Citation(1, HA_TINH, "c7", "Title", "18,087 proposals", 17, 33, True)
    answer = Answer("Q", "en", "18,087 [1]", False, [citation], [PASSAGE])
    assistant = FakeAssistant(
        [
            SourcesEvent([PASSAGE], "en"),
            TokenEvent("18,087 "),
            TokenEvent("[1]"),
            CitationsEvent("18,087 [1]", [citation], False, []),
            DoneEvent(answer),
        ]
    )
    pipeline = ProductPipeline(assistant)
    assert pipeline.retrieve("Q") == [HA_TINH]
    result = pipeline.answer(S3)
    assert assistant.calls == [("search", "Q", 10), ("stream", S3.question, S3.history)]
    assert result.answer == "18,087 [1]"
    assert result.refused is False
    assert result.citations == [
        {
            "marker": 1,
            "doc_id": HA_TINH,
            "chunk_id": "c7",
            "quote": "18,087 proposals",
            "supported": True,
        }
    ]
    assert result.passage_texts == {"c7": PASSAGE.text}
    assert (
        0 <= result.timings["retrieve_s"] <= result.timings["ttft_s"] <= result.timings["total_s"]
    )
    assert result.error is None


def test_the_product_pipeline_keeps_a_stream_error():
    answer = Answer("Q", "en", "", False, error="down")
    assistant = FakeAssistant(
        [
            SourcesEvent([PASSAGE], "en"),
            ErrorEvent("The model is down", "unavailable"),
            DoneEvent(answer),
        ]
    )
    result = ProductPipeline(assistant).answer(S1)
    assert result.error == "unavailable: The model is down"
    assert result.timings["ttft_s"] is None


def test_the_product_pipeline_records_the_key_fact_its_time_and_the_stages():
    citation = Citation(1, HA_TINH, "c7", "Title", "18,087 proposals", 17, 33, True)
    card = KeyFact("18,087", "count", 0.8, citation)  # shown while "checking"
    final = KeyFact("18,087", "count", 0.8, citation, status="verified")
    stages = {"retrieve": 0.1, "extractive": 0.2, "llm_reader": 3.0, "checks": 0.5}
    answer = Answer(
        "Q", "en", "18,087 [1]", False, [citation], [PASSAGE], verified=True, key_fact=final
    )
    answer.timings = Timings(retrieve_s=0.1, ttft_s=4.0, total_s=4.0, stages=stages)
    assistant = FakeAssistant(
        [
            SourcesEvent([PASSAGE], "en"),
            ProgressEvent("reading", passages=1),
            KeyFactEvent(card),
            ProgressEvent("writing", passages=1),
            TokenEvent("18,087 [1]"),
            CitationsEvent("18,087 [1]", [citation], False, [], True, final),
            DoneEvent(answer),
        ]
    )
    result = ProductPipeline(assistant).answer(S1)
    assert result.key_fact == {
        "text": "18,087",
        "kind": "count",
        "confidence": 0.8,
        "status": "verified",  # the answer's final status, not the card's
    }
    timings = result.timings
    assert timings["retrieve_s"] <= timings["key_fact_s"] <= timings["ttft_s"] <= timings["total_s"]
    assert timings["stages"] == stages
    assert result.passage_languages == {"c7": "en"}


def test_without_a_key_fact_card_its_time_is_none():
    answer = Answer("Q", "en", "No answer.", True, [], [PASSAGE])
    assistant = FakeAssistant(
        [SourcesEvent([PASSAGE], "en"), TokenEvent("No answer."), DoneEvent(answer)]
    )
    result = ProductPipeline(assistant).answer(S1)
    assert result.key_fact is None
    assert result.timings["key_fact_s"] is None
    assert result.timings["stages"] == {}


class WordDetector:
    """Takes "Sekretär" for German and anything else for English."""

    def detect(self, text: str) -> str:
        return "de" if text == "Sekretär" else "en"


class GermanSourcePipeline(ScriptedPipeline):
    """Answers s1 in English, copying a word of its German source, verified, with its key
    fact and stages."""

    def answer(self, item) -> PipelineAnswer:
        citation = {
            "marker": 1,
            "doc_id": HA_TINH,
            "chunk_id": "c",
            "quote": "q",
            "supported": True,
        }
        return PipelineAnswer(
            "The Sekretär said 18,087 [1].",
            False,
            [citation],
            {"c": "Der Sekretär sagte: 18.087 Vorschläge."},
            timings(2.0) | {"key_fact_s": 0.3, "stages": {"retrieve": 0.1}},
            verified=True,
            passage_languages={"c": "de"},
            key_fact={"text": "18.087", "kind": "count", "confidence": 0.7, "status": "verified"},
        )


def test_a_record_keeps_what_its_figures_are_computed_from():
    record = evaluate(S1, GermanSourcePipeline(), WordDetector())
    assert record["split"] == "dev"
    assert record["cited_passages"] == {
        "c": {"text": "Der Sekretär sagte: 18.087 Vorschläge.", "language": "de"}
    }
    assert record["untranslated_words"] == [["Sekretär", "de"]]
    assert record["key_fact"]["confidence"] == 0.7
    assert record["timings"]["key_fact_s"] == 0.3
    assert record["timings"]["stages"] == {"retrieve": 0.1}
    metrics = record["metrics"]
    assert metrics["detected_language_match"] == 1.0  # detected as English...
    assert metrics["language_match"] == 0.0  # ...but holding a word of its German source
    assert metrics["fact_accuracy"] == 1.0 and metrics["citation_precision"] == 1.0
    assert metrics["shown_verified"] == 1.0 and metrics["verified_right"] == 1.0
    # The same answer citing nothing in German is in the asker's language.
    english = ScriptedPipeline()
    assert evaluate(S1, english, WordDetector())["metrics"]["language_match"] == 1.0

"""`assistant eval` end to end: the real Assistant over the bundled corpus (hash embedder,
so no model loads) with a scripted OpenAI-compatible LLM."""

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assistant.service import Assistant
from assistant.settings import LLMSettings, Settings
from evals import cli
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.bundled_corpus import ingest_into
from tests.support.paths import TEST_DATA

GOLD = TEST_DATA / "gold_e2e.jsonl"
BAC_NINH = "004_b57fbf0374424cd6.txt"
# What the scripted model says when a passage holds this text.
ANSWERS = {
    "1.269 Dialoge": "Seit Beginn der Amtszeit wurden in Bac Ninh 1.269 Dialoge geführt",
    "29 Modellen": "Bis 2024 haben sich im Bezirk 29 Modelle angemeldet",
}
PASSAGE_LABEL = re.compile(r"^\[(\d+)\] ", re.MULTILINE)


def scripted_reply(messages: list[dict]) -> str:
    """Cite the numbered passage holding a known fact, else say there is no answer; asked
    again which number of a cited sentence answers (the second reading), give that number."""
    prompt = messages[-1]["content"]
    if "number that answers the question" in prompt:
        sentence = prompt.partition("Question:")[0]
        return next((needle.split()[0] for needle in ANSWERS if needle in sentence), "NO_ANSWER")
    parts = PASSAGE_LABEL.split(prompt)  # [before, number, text, number, text, ...]
    for number, text in zip(parts[1::2], parts[2::2], strict=True):
        for needle, sentence in ANSWERS.items():
            if needle in text:
                return f"{sentence} [{number}]."
    return "NO_ANSWER"


@pytest.fixture(scope="module")
def server():
    with FakeOpenAIServer(reply=scripted_reply) as running:
        yield running


@pytest.fixture(scope="module")
def assistant(server, tmp_path_factory) -> Assistant:
    """One for the module: its language detector takes seconds to load."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("index"),
        llm=LLMSettings(base_url=server.base_url, model="fake-model"),
    )
    assistant = Assistant(settings, embedder=HashEmbedder())
    ingest_into(assistant)
    return assistant


@pytest.fixture
def eval_cli(assistant, monkeypatch):
    monkeypatch.setattr(cli, "make_assistant", lambda: assistant)
    app = typer.Typer()
    cli.register(app)

    def run(*args: str):
        result = CliRunner().invoke(app, ["eval", *args])
        assert result.exit_code == 0, result.output
        return result

    return run


def read_results(out: Path) -> dict[str, dict]:
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    return {record["id"]: record for record in map(json.loads, lines)}


def test_the_product_is_evaluated_through_the_cli_and_resumes(eval_cli, server, tmp_path):
    out = tmp_path / "product"
    eval_cli("--gold", str(GOLD), "--out", str(out), "--concurrency", "2")

    results = read_results(out)
    assert sorted(results) == ["e1", "e2", "e3"]
    first = results["e1"]
    assert "1.269" in first["answer"]
    assert first["refused"] is False
    assert first["citations"][0]["doc_id"] == BAC_NINH
    assert first["retrieved"][0] == BAC_NINH
    assert first["metrics"]["fact_accuracy"] == 1.0
    assert first["metrics"]["citation_precision"] == 1.0
    assert first["metrics"]["recall@10"] == 1.0
    assert first["answer_language"] == "de"
    assert 0 < first["timings"]["ttft_s"] <= first["timings"]["total_s"]
    assert first["split"] == "dev"
    assert {"retrieve", "evidence", "llm_reader", "checks"} <= set(first["timings"]["stages"])
    assert first["key_fact"]["text"] == "1.269" and first["key_fact"]["status"] == "verified"
    assert 0 < first["timings"]["key_fact_s"] <= first["timings"]["ttft_s"]
    assert first["cited_passages"][first["citations"][0]["chunk_id"]]["language"] == "de"
    assert first["untranslated_words"] == []
    assert results["e3"]["refused"] is True
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["questions"] == 3
    assert metrics["overall"]["refusal_rate"] == 1.0
    assert metrics["overall"]["coverage"] is not None
    assert "llm_reader" in metrics["stages"]
    assert "| metric | de |" in (out / "report.md").read_text()
    assert "data:image/png;base64," in (out / "report.html").read_text()

    requests = len(server.requests)
    eval_cli("--gold", str(GOLD), "--out", str(out))  # everything finished: nothing to redo
    assert len(server.requests) == requests
    assert len((out / "results.jsonl").read_text().splitlines()) == 3


def test_retrieval_only_never_calls_the_llm(eval_cli, server, tmp_path):
    out = tmp_path / "retrieval"
    requests = len(server.requests)
    eval_cli(
        "--gold", str(GOLD), "--out", str(out), "--retrieval-only", "--lang", "de", "--limit", "2"
    )
    assert len(server.requests) == requests
    results = read_results(out)
    assert sorted(results) == ["e1", "e2"]
    assert results["e1"]["answer"] is None
    assert json.loads((out / "metrics.json").read_text())["overall"]["recall@10"] == 1.0


def test_split_runs_one_half_of_the_gold_set(eval_cli, tmp_path):
    out = tmp_path / "dev"
    eval_cli("--gold", str(GOLD), "--out", str(out), "--retrieval-only", "--split", "dev")
    assert sorted(read_results(out)) == ["e1", "e3"]  # odd ids: the half parameters are tuned on


def test_a_judge_endpoint_grades_the_answers(eval_cli, tmp_path):
    out = tmp_path / "judged"
    with FakeOpenAIServer(reply='{"correct": true, "supporting": [1]}') as judge:
        eval_cli(
            "--gold",
            str(GOLD),
            "--out",
            str(out),
            "--limit",
            "1",
            "--judge-url",
            judge.base_url,
            "--judge-model",
            "judge-model",
        )
    assert judge.requests[0]["model"] == "judge-model"
    assert read_results(out)["e1"]["metrics"]["judge_accuracy"] == 1.0


def test_the_naive_pipeline_runs_beside_the_product_and_compares(eval_cli, server, tmp_path):
    product, naive = tmp_path / "product", tmp_path / "naive"
    eval_cli("--gold", str(GOLD), "--out", str(product), "--limit", "1")
    before = len(server.requests)
    eval_cli("--gold", str(GOLD), "--out", str(naive), "--limit", "1", "--pipeline", "naive")

    record = read_results(naive)["e1"]
    assert record["citations"] == []
    assert record["refused"] is None
    assert record["retrieved"][0] == BAC_NINH
    # LlamaIndex's stock prompt (then its refine prompt, when the passages overflow one call).
    naive_prompt = server.requests[before]["messages"][-1]["content"]
    assert "Context information is below" in naive_prompt

    result = eval_cli("compare", str(product), str(naive))
    assert "fact_accuracy" in result.output
    assert "## Flipped questions" in (naive / "compare.md").read_text()


def test_an_empty_index_is_refused_before_any_question_runs(server, tmp_path, monkeypatch):
    settings = Settings(
        data_dir=tmp_path / "empty",
        llm=LLMSettings(base_url=server.base_url, model="fake-model"),
    )
    monkeypatch.setattr(cli, "make_assistant", lambda: Assistant(settings, embedder=HashEmbedder()))
    app = typer.Typer()
    cli.register(app)
    requests_before = len(server.requests)

    result = CliRunner().invoke(app, ["eval", "--out", str(tmp_path / "run")])

    assert result.exit_code == 1
    assert "index" in result.output and "assistant ingest" in result.output
    assert not (tmp_path / "run" / "results.jsonl").exists()
    assert len(server.requests) == requests_before

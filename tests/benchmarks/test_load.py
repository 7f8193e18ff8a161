"""The load benchmark's short run, as CI runs it: Locust against `assistant serve` whose LLM
is the fake OpenAI server (a real model's speed is the benchmark's business, not CI's)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from benchmarks import load
from benchmarks.schema import problems, schema_of
from tests.fake_openai import FakeOpenAIServer


def cite_the_first_passage(messages: list[dict]) -> str:
    prompt = messages[-1]["content"]
    first = re.search(r"^\[1\] (.*)$", prompt, re.MULTILINE)
    return f"{first.group(1)} [1]." if first else "NO_ANSWER"


@pytest.mark.slow
def test_a_short_locust_run_answers_everyone_and_refuses_the_surplus_with_429(
    tmp_path: Path, model_cache_dir: Path
):
    out = tmp_path / "load.json"
    with FakeOpenAIServer(reply=cite_the_first_passage, token_delay_s=0.05) as llm:
        load.main([
            "--users", "6", "--minutes", "0.25", "--max-pending", "2", "--sample-s", "1",
            "--stop-timeout-s", "30",
            "--llm-url", llm.base_url, "--data-dir", str(tmp_path / "data"),
            "--model-cache-dir", str(model_cache_dir), "--out", str(out),
        ])  # fmt: skip
    result = json.loads(out.read_text())
    summary = result["summary"]
    assert summary["answered"] > 0 and summary["deliberate_429"] > 0, summary
    assert summary["failures"] == 0 and summary["server_errors_5xx"] == 0, summary
    assert summary["success_rate"] == 1.0 and summary["answered_of_admitted"] == 1.0
    assert summary["first_token_p50_s"] is not None and summary["health_failures"] == 0
    assert len(result["samples"]) >= 10 and all(s["rss_mb"] > 0 for s in result["samples"])
    assert result["machine"]["cpu_model"]
    assert problems(result, schema_of("load.json")) == []  # as committed results must be

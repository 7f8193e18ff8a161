"""The release gate on retrieval: the retrieval-only eval of the gold set's dev half (the
held-out half and the frozen batch are never a gate), with the real multilingual e5
embedder over the bundled corpus, must reach recall@5 >= 0.95 and MRR >= 0.85. Uses the
converted e5 model in conftest's shared ``model_cache_dir`` (converted on first use:
minutes), with the default settings otherwise."""

import json

import pytest
import typer
from typer.testing import CliRunner

from evals import cli

pytestmark = pytest.mark.slow

RECALL_AT_5_MIN = 0.95
MRR_MIN = 0.85


def test_retrieval_on_the_gold_set_passes_the_gate(bundled_assistant, tmp_path, monkeypatch):
    monkeypatch.setattr(cli, "make_assistant", lambda: bundled_assistant)
    app = typer.Typer()
    cli.register(app)
    result = CliRunner().invoke(
        app, ["eval", "--retrieval-only", "--split", "dev", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output

    overall = json.loads((tmp_path / "metrics.json").read_text())["overall"]
    records = map(json.loads, (tmp_path / "results.jsonl").read_text().splitlines())
    missed = {
        r["id"]: r["retrieved"][:5] for r in records if r["metrics"]["mrr"] not in (None, 1.0)
    }
    assert overall["errors"] == 0
    assert overall["questions"] == 40
    assert overall["recall@5"] >= RECALL_AT_5_MIN, f"not first: {missed}"
    assert overall["mrr"] >= MRR_MIN, f"not first: {missed}"

import json

import pytest
import typer
from typer.testing import CliRunner

from evals.cli import register
from evals.compare import compare_runs
from evals.metrics import summarize


def record(id_, fact, refused, total_s):
    return {
        "id": id_,
        "question": f"Question {id_}?",
        "language": "en",
        "type": "fact",
        "refused": refused,
        "metrics": {
            "fact_accuracy": fact,
            "false_refusal_rate": None if refused is None else float(refused),
        },
        "timings": {"retrieve_s": 0.1, "ttft_s": None, "total_s": total_s},
    }


def write_run(run_dir, records):
    run_dir.mkdir()
    lines = "".join(json.dumps(r) + "\n" for r in records)
    (run_dir / "results.jsonl").write_text(lines)
    (run_dir / "metrics.json").write_text(json.dumps(summarize(records)))
    return run_dir


@pytest.fixture
def runs(tmp_path):
    before = write_run(
        tmp_path / "a",
        [
            record("q1", 1.0, False, 1.0),
            record("q2", 0.0, True, 1.0),
            record("q3", 0.0, False, 1.0),
            record("q5", 1.0, False, 1.0),
        ],
    )
    after = write_run(
        tmp_path / "b",
        [
            record("q1", 1.0, False, 3.0),
            record("q2", 1.0, False, 3.0),
            record("q3", 0.0, True, 3.0),
            record("q4", 1.0, False, 3.0),  # only in B: cannot flip
            record("q5", 1.0, None, 3.0),  # refusal unknown in B (naive): not a flip
        ],
    )
    return before, after


def test_compare_gives_differences_and_flips(runs):
    rows, flips = compare_runs(*runs)
    by_name = {row.name: row for row in rows}
    assert by_name["fact_accuracy"].a == pytest.approx(2 / 4)
    assert by_name["fact_accuracy"].delta == pytest.approx(4 / 5 - 2 / 4)
    assert by_name["fact_accuracy"].improved is True
    assert by_name["total_p50_s"].delta == pytest.approx(2.0)
    assert by_name["total_p50_s"].improved is False  # slower
    assert "ttft_p50_s" not in by_name  # no value in either run
    assert [(f.id, f.changes) for f in flips] == [
        ("q2", {"fact_accuracy": (0.0, 1.0), "refused": (True, False)}),
        ("q3", {"refused": (False, True)}),
    ]


def test_the_compare_command_prints_and_writes_markdown(runs):
    before, after = runs
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["eval", "compare", str(before), str(after)])
    assert result.exit_code == 0, result.output
    assert "fact_accuracy" in result.output
    assert "q2" in result.output
    markdown = (after / "compare.md").read_text()
    assert "| fact_accuracy | 0.500 | 0.800 | +0.300 |" in markdown
    assert "| total_p50_s | 1.00 s | 3.00 s | +2.00 s |" in markdown
    assert "## Flipped questions (2)" in markdown
    assert "| q3 | Question q3? | refused: False → True |" in markdown

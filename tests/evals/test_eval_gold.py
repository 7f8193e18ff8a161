import pytest
import typer
from typer.testing import CliRunner

from evals import cli
from evals.gold import GoldError, GoldItem, load_gold, record_problems, split_of
from tests.support.paths import PROJECT_ROOT, TEST_DATA

BUNDLED_GOLD = PROJECT_ROOT / "evals" / "gold.jsonl"


def test_a_valid_file_loads_with_defaults_filled_in():
    items = load_gold(TEST_DATA / "gold_small.jsonl")
    assert [item.id for item in items] == ["s1", "s2", "s3"]
    assert items[0].must_include == [["18087"]]
    assert items[1].history == []
    assert items[2].history[1] == {"role": "assistant", "content": "Nguyen Anh Tuan."}
    assert [item.type for item in items] == ["number", "name", "unanswerable"]


def test_type_defaults_from_answerability():
    answerable = GoldItem("a", "en", "Q?", "A", [], ["d"], True)
    assert answerable.type == "fact"
    assert GoldItem("b", "en", "Q?", "", [], [], False).type == "unanswerable"


def test_every_bad_line_is_reported_by_number():
    path = TEST_DATA / "gold_invalid.jsonl"
    with pytest.raises(GoldError) as raised:
        load_gold(path)
    assert raised.value.problems == [
        f"{path}:2: not valid JSON (Unterminated string starting at)",
        f"{path}:3: unknown field 'sorces'",
        f"{path}:4: missing field 'question'",
        f"{path}:6: duplicate id 'ok' (first on line 1)",
        f"{path}:7: bad value of 'must_include': [[]]",
        f"{path}:7: bad value of 'answerable': 'no'",
    ]


def test_the_bundled_gold_set_is_valid():
    items = load_gold(BUNDLED_GOLD)
    assert len(items) >= 50
    assert {item.language for item in items} >= {"en", "vi", "zh"}


def test_the_bundled_gold_set_has_a_frozen_batch_beside_its_two_halves():
    splits = [split_of(item) for item in load_gold(BUNDLED_GOLD)]
    assert splits.count("frozen") >= 60
    assert splits.count("dev") == splits.count("held_out") == 40


def test_a_record_names_only_the_frozen_split_and_an_id_gives_the_others():
    assert split_of(GoldItem("q7", "en", "Q?", "A", [], [], False)) == "dev"
    assert split_of(GoldItem("q8", "en", "Q?", "A", [], [], False)) == "held_out"
    assert split_of(GoldItem("f7", "en", "Q?", "A", [], [], False, split="frozen")) == "frozen"
    record = {"id": "x", "language": "en", "question": "Q?", "answer": "", "must_include": []}
    record |= {"sources": [], "answerable": False, "split": "dev"}
    assert record_problems(record) == ["bad value of 'split': 'dev'"]


def test_the_eval_command_lists_every_bad_line_and_runs_nothing(monkeypatch, tmp_path):
    def no_assistant():
        raise AssertionError("nothing may run on a bad gold file")

    monkeypatch.setattr(cli, "make_assistant", no_assistant)
    app = typer.Typer()
    cli.register(app)
    path = TEST_DATA / "gold_invalid.jsonl"
    result = CliRunner().invoke(app, ["eval", "--gold", str(path), "--out", str(tmp_path)])
    assert result.exit_code == 1
    for line in (2, 3, 4, 6):
        assert f"{path}:{line}: " in result.output
    assert f"{path}:7: bad value of 'must_include': [[]]" in result.output
    assert "6 problem(s)" in result.output
    assert list(tmp_path.iterdir()) == []

"""The ratings' store (SQLite under data_dir), the gold-question candidates made from them,
and the `assistant feedback` commands."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from importlib.metadata import entry_points

import pytest
import typer
from typer.testing import CliRunner

from assistant.cli import feedback as feedback_commands
from assistant.feedback import (
    FEEDBACK_FILE,
    GOLD_FIELDS_TO_FILL,
    MAX_COMMENT_CHARS,
    CitedSentence,
    Feedback,
    FeedbackStore,
    FeedbackStoreError,
    InvalidFeedback,
    answer_settings,
    gold_candidate,
)
from assistant.settings import Settings
from evals.gold import GoldError, load_gold

HISTORY = [
    {"role": "user", "content": "Who leads Bac Ninh?"},
    {"role": "assistant", "content": "Nguyen Anh Tuan [1]."},
]


def rating(**changes) -> Feedback:
    fields = {
        "question": "How many dialogues did Bac Ninh hold?",
        "history": HISTORY,
        "answer": "Bac Ninh held 1,269 dialogues [1].",
        "status": "verified",
        "citations": [CitedSentence(1, "004_b57fbf0374424cd6", "1,269 dialogues were held.")],
        "language": "en",
        "rating": "down",
        "comment": "The year is missing.",
        "settings": answer_settings(Settings(llm={"model": "test-model"})),
    }
    return Feedback(**(fields | changes))


@pytest.fixture
def store(tmp_path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / FEEDBACK_FILE)


def test_a_rating_is_stored_with_what_it_rates_in_a_store_made_on_first_use(store):
    assert store.ratings() == [] and not store.path.exists()  # reading creates nothing
    given = rating()
    stored = store.record(given, now=datetime(2025, 3, 1, 12, 30, tzinfo=UTC))

    assert stored.time == "2025-03-01T12:30:00+00:00"
    assert store.ratings() == [stored]
    assert stored.settings["llm"]["model"] == "test-model"
    assert stored.settings["embedding"]["model"] == Settings().embedding.model
    assert {"retrieval", "answer"} <= set(stored.settings)
    with sqlite3.connect(store.path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(feedback)")]
    assert columns[:3] == ["answer_id", "time", "question"]
    assert {"history", "citations", "status", "language", "rating", "comment", "settings"} <= set(
        columns
    )


def test_a_later_rating_of_the_same_answer_replaces_it_and_another_answer_adds_one(store):
    store.record(rating(), now=datetime(2025, 3, 1, tzinfo=UTC))
    store.record(rating(rating="up", comment=""), now=datetime(2025, 3, 2, tzinfo=UTC))
    [only] = store.ratings()
    assert (only.rating, only.comment, only.time[:10]) == ("up", "", "2025-03-02")

    # The same words in another conversation are another answer.
    store.record(rating(history=[]), now=datetime(2025, 3, 3, tzinfo=UTC))
    assert [r.rating for r in store.ratings()] == ["up", "down"]
    assert [r.history for r in store.ratings("down")] == [[]]
    assert [r.history for r in store.ratings("up")] == [HISTORY]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": "meh"}, "rating"),
        ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, "comment"),
        ({"comment": "bad \x1b[31m"}, "comment"),
        ({"status": "great"}, "status"),
        ({"question": "  "}, "question"),
        ({"answer": "half a surrogate \ud800"}, "answer"),
        ({"language": ""}, "language"),
        ({"history": [{"role": "system", "content": "x"}]}, "history.0"),
        ({"citations": [CitedSentence(1, "", "quote")]}, "citations.0.doc_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(store, changes, field):
    with pytest.raises(InvalidFeedback) as refused:
        store.record(rating(**changes))
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert store.ratings() == []


def test_a_store_of_a_newer_version_or_not_a_store_is_refused_naming_the_file(store, cli):
    store.path.parent.mkdir(parents=True)
    with sqlite3.connect(store.path) as db:
        db.execute("PRAGMA user_version = 7")
    with pytest.raises(FeedbackStoreError, match=f"{store.path}: feedback store version 7"):
        store.record(rating())

    store.path.write_text("not a database")
    with pytest.raises(FeedbackStoreError, match=f"{store.path}: file is not a database"):
        store.ratings()
    listed = CliRunner().invoke(cli, ["feedback", "list"])
    assert listed.exit_code == 1
    assert f"Error: {store.path}: file is not a database" in listed.stderr


def test_a_candidate_leaves_the_gold_fields_to_fill_and_loads_once_they_are_filled(store, tmp_path):
    stored = store.record(rating())
    candidate = gold_candidate(stored)

    assert {name: candidate[name] for name in GOLD_FIELDS_TO_FILL} == dict.fromkeys(
        GOLD_FIELDS_TO_FILL
    )
    assert (candidate["question"], candidate["language"]) == (stored.question, "en")
    assert candidate["history"] == HISTORY
    assert candidate["feedback"]["answer_given"] == stored.answer
    assert candidate["feedback"]["citations"] == [
        {"marker": 1, "doc_id": "004_b57fbf0374424cd6", "quote": "1,269 dialogues were held."}
    ]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps(candidate) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as unfilled:  # as exported: not yet a gold question
        load_gold(gold)
    assert sorted(problem.partition(": ")[2] for problem in unfilled.value.problems) == sorted(
        [f"bad value of {name!r}: None" for name in GOLD_FIELDS_TO_FILL]
        + ["unknown field 'feedback'"]
    )

    # What the maintainer does: fill the fields, delete the rating.
    filled = {key: value for key, value in candidate.items() if key != "feedback"} | {
        "id": "q81",
        "answer": "Bac Ninh held 1,269 dialogues with citizens and businesses.",
        "must_include": [["1269"]],
        "sources": ["004_b57fbf0374424cd6"],
        "answerable": True,
    }
    gold.write_text(json.dumps(filled, ensure_ascii=False) + "\n", encoding="utf-8")
    [item] = load_gold(gold)
    assert (item.question, item.language, item.history) == (stored.question, "en", HISTORY)
    assert item.must_include == [["1269"]]


# --- assistant feedback ------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch, tmp_path) -> typer.Typer:
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    app = typer.Typer()
    feedback_commands.register(app)
    return app


def test_export_writes_one_candidate_per_rating_to_stdout_or_a_file(cli, store, tmp_path):
    store.record(rating(), now=datetime(2025, 3, 1, tzinfo=UTC))
    store.record(rating(rating="up", history=[], question="Who leads Bac Ninh?"))

    everything = CliRunner().invoke(cli, ["feedback", "export"])
    assert everything.exit_code == 0, everything.output
    lines = [json.loads(line) for line in everything.stdout.splitlines()]
    assert [line["feedback"]["rating"] for line in lines] == ["down", "up"]
    assert lines[0] == gold_candidate(store.ratings("down")[0])

    output = tmp_path / "candidates.jsonl"
    down = CliRunner().invoke(cli, ["feedback", "export", "--rating", "down", "-o", str(output)])
    assert down.exit_code == 0, down.output
    assert down.stdout == ""
    assert f"Wrote 1 candidates to {output}" in down.stderr
    [candidate] = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert candidate["question"] == "How many dialogues did Bac Ninh hold?"


def test_export_says_when_there_is_nothing_and_names_a_file_it_cannot_write(cli, store, tmp_path):
    empty = CliRunner().invoke(cli, ["feedback", "export"])
    assert empty.exit_code == 0 and empty.stdout == ""
    assert f"No ratings in {store.path}." in empty.stderr

    store.record(rating())
    unwritable = tmp_path / "missing" / "candidates.jsonl"
    failed = CliRunner().invoke(cli, ["feedback", "export", "-o", str(unwritable)])
    assert failed.exit_code == 1
    assert f"Error: cannot write {unwritable}: No such file or directory." in failed.stderr
    bad_rating = CliRunner().invoke(cli, ["feedback", "export", "--rating", "meh"])
    assert bad_rating.exit_code == 2 and "--rating" in bad_rating.output


def test_list_shows_each_rating(cli, store):
    store.record(rating(comment="The year is missing."))
    shown = CliRunner().invoke(cli, ["feedback", "list"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "How many dialogues did Bac Ninh hold?" in shown.output
    assert "The year is missing." in shown.output and "👎" in shown.output


def test_the_feedback_commands_are_a_plugin_of_the_assistant_command():
    [plugin] = [e for e in entry_points(group="assistant.commands") if e.name == "feedback"]
    assert plugin.load() is feedback_commands.register

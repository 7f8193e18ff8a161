"""What counts as a question, on every way in."""

from __future__ import annotations

import pytest

from assistant.questions import InvalidQuestion, check_question

BAD_QUESTIONS = {
    "empty": "",
    "whitespace": " \t\n\u3000 ",
    "nul": "How many?\x00",
    "escape": "How \x1b[31mmany?",
    "c1_control": "How many\x85?",
    "lone_surrogate": "How many\ud800?",
    "too_long": "x" * 2001,
}


@pytest.mark.parametrize("name", BAD_QUESTIONS)
def test_bad_questions_are_rejected_with_the_field_named(name):
    with pytest.raises(InvalidQuestion, match=r"^question: ") as raised:
        check_question(BAD_QUESTIONS[name], max_chars=2000)
    assert raised.value.field == "question"


def test_a_good_question_comes_back_stripped_with_its_line_breaks_inside():
    question = "  Wie viele Dialoge\ngab es in Bac Ninh?\t"
    assert check_question(question, 2000) == "Wie viele Dialoge\ngab es in Bac Ninh?"


def test_zero_width_joiners_and_right_to_left_marks_are_text():
    question = "می\u200cخواهم \u200fها تينه\u200e؟"
    assert check_question(question, 2000) == question


def test_the_field_name_is_the_callers():
    with pytest.raises(InvalidQuestion, match=r"^messages\.2\.content: "):
        check_question(" ", 2000, field="messages.2.content")


@pytest.mark.parametrize(
    ("question", "problem", "details"),
    [
        (None, "not_text", {}),
        (" \n ", "blank", {}),
        ("How\x1b many?", "control_character", {"code": "001B"}),
        ("x" * 2001, "too_long", {"length": 2001, "limit": 2000}),
    ],
)
def test_the_problem_is_named_for_a_caller_that_words_it_in_another_language(
    question, problem, details
):
    with pytest.raises(InvalidQuestion) as raised:
        check_question(question, max_chars=2000)
    assert (raised.value.problem, raised.value.details) == (problem, details)

"""``POST /api/feedback``: a client of /api/ask rates the answer it got; the rating lands in
the same store as the chat's, and bad input gets a 422 naming the field."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FEEDBACK_FILE, MAX_COMMENT_CHARS, FeedbackStore
from tests.support.web import VI_QUESTION, assert_error, make_app


@pytest.fixture(scope="module")
def client(data_dir, llm_server) -> Iterator[TestClient]:
    with TestClient(make_app(data_dir, llm_server.base_url)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def rated(client) -> dict:
    """A rating of what /api/ask answered, in the body's shape."""
    answer = client.post("/api/ask", json={"question": VI_QUESTION}).json()
    assert answer["verified"], answer
    return {
        "question": answer["question"],
        "answer": answer["answer"],
        "status": "verified",
        "citations": [
            {"marker": c["marker"], "doc_id": c["doc_id"], "quote": c["quote"]}
            for c in answer["citations"]
        ],
        "language": answer["language"],
        "rating": "down",
        "comment": "Thiếu năm.",
    }


def stored(data_dir) -> list:
    return [r for r in FeedbackStore(data_dir / FEEDBACK_FILE).ratings() if r.comment]


def test_a_rating_is_stored_and_rating_the_same_answer_again_replaces_it(client, rated, data_dir):
    response = client.post("/api/feedback", json=rated)
    assert response.status_code == 200, response.text
    receipt = response.json()
    [row] = stored(data_dir)
    assert (row.question, row.rating, row.comment) == (VI_QUESTION, "down", "Thiếu năm.")
    assert row.citations[0].doc_id == "vi/bac-ninh.txt" and "1.269" in row.citations[0].quote
    assert receipt == {"answer_id": row.answer_id, "time": row.time}
    assert row.settings["llm"]["model"]

    again = client.post("/api/feedback", json=rated | {"rating": "up", "comment": "Đúng."})
    assert again.json()["answer_id"] == receipt["answer_id"]
    [row] = stored(data_dir)
    assert (row.rating, row.comment) == ("up", "Đúng.")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rating": "meh"}, "body.rating"),
        ({"comment": "x" * (MAX_COMMENT_CHARS + 1)}, "body.comment"),
        ({"status": "great"}, "body.status"),
        ({"question": "Bắc Ninh\x00?"}, "question"),
        ({"answer": "\ud800"}, "answer"),
        ({"comment": "\x1b[31m"}, "comment"),
        ({"history": [{"role": "system", "content": "x"}]}, "body.history.0.role"),
    ],
)
def test_bad_input_gets_a_422_naming_the_field(client, rated, changes, field):
    # As JSON escapes, which carry a lone surrogate as well.
    body = json.dumps(rated | changes)
    response = client.post(
        "/api/feedback", content=body, headers={"Content-Type": "application/json"}
    )
    message = assert_error(response, 422, "invalid_request_error")
    assert message.startswith(f"{field}: "), message

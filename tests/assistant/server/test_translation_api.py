"""``GET /api/documents/{doc_id}/translation``: a cited sentence machine translated by the
scripted model, read from the stored article, kept once translated, and asked of the model
in the same queue as the answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.translation import TRANSLATIONS_FILE
from tests.support.web import (
    CORPUS,
    EN_QUESTION,
    VI_SENTENCE_IN_ENGLISH,
    assert_error,
    make_app,
)

BAC_NINH = "vi/bac-ninh.txt"
START = CORPUS[BAC_NINH].index("Từ đầu nhiệm kỳ")
END = CORPUS[BAC_NINH].index("doanh nghiệp.") + len("doanh nghiệp.")
SENTENCE = CORPUS[BAC_NINH][START:END]  # the one that gives the figure 1.269
TRANSLATION = f"/api/documents/{BAC_NINH}/translation"


@pytest.fixture
def client(data_dir, llm_server) -> Iterator[TestClient]:
    with TestClient(make_app(data_dir, llm_server.base_url)) as test_client:
        yield test_client


def translation_requests(llm_server) -> list[str]:
    """The prompts of the translations the scripted model was asked for."""
    prompts = [request["messages"][-1]["content"] for request in llm_server.requests]
    return [prompt for prompt in prompts if prompt.startswith("Translate this sentence")]


def test_the_key_facts_sentence_is_translated_once_then_kept(client, llm_server, data_dir):
    (data_dir / TRANSLATIONS_FILE).unlink(missing_ok=True)  # nothing kept from before
    answer = client.post("/api/ask", json={"question": EN_QUESTION}).json()
    cited = answer["key_fact"]["citation"]
    assert (cited["doc_id"], cited["start"], cited["end"]) == (BAC_NINH, START, END)
    asked_before = len(translation_requests(llm_server))
    query = {"start": cited["start"], "end": cited["end"], "language": answer["language"]}

    first = client.get(f"/api/documents/{cited['doc_id']}/translation", params=query)
    again = client.get(f"/api/documents/{cited['doc_id']}/translation", params=query)

    assert first.status_code == 200, first.text
    assert first.json() == {
        "text": VI_SENTENCE_IN_ENGLISH,
        "language": "en",
        "source_language": "vi",
        "machine_translation": True,
    }
    assert again.json() == first.json()
    [asked] = translation_requests(llm_server)[asked_before:]  # once: then it is kept
    assert SENTENCE in asked and "into English" in asked  # read from the article


def test_a_sentence_in_the_language_asked_for_comes_back_as_it_is(client, llm_server):
    asked_before = len(llm_server.requests)

    response = client.get(TRANSLATION, params={"start": START, "end": END, "language": "vi"})

    assert response.json() == {
        "text": SENTENCE,
        "language": "vi",
        "source_language": "vi",
        "machine_translation": False,
    }
    assert len(llm_server.requests) == asked_before


@pytest.mark.parametrize(
    ("path", "query", "status"),
    [
        ("/api/documents/vi/nowhere.txt/translation", {"start": 0, "end": 10}, 404),
        (TRANSLATION, {"start": START, "end": len(CORPUS[BAC_NINH]) + 5}, 404),
        (TRANSLATION, {"start": END, "end": START}, 404),
        (TRANSLATION, {"start": START, "end": END, "language": "klingon"}, 422),
        (TRANSLATION, {"start": START, "end": END, "language": "xx"}, 422),
        (TRANSLATION, {"start": -1, "end": END}, 422),
        (TRANSLATION, {"end": END}, 422),
    ],
)
def test_what_names_no_sentence_or_no_language_is_refused_without_the_model(
    client, llm_server, path, query, status
):
    asked_before = len(llm_server.requests)

    response = client.get(path, params={"language": "en"} | query)

    type_ = "not_found_error" if status == 404 else "invalid_request_error"
    assert_error(response, status, type_)
    assert len(llm_server.requests) == asked_before


def test_a_new_translation_waits_its_turn_with_the_answers(data_dir, llm_server):
    app = make_app(data_dir, llm_server.base_url, concurrent_answers=1, max_pending=0)
    english = {"start": START, "end": END, "language": "en"}
    german = {"start": START, "end": END, "language": "de"}
    with TestClient(app) as client:
        assert client.get(TRANSLATION, params=english).status_code == 200  # now kept
        answering = app.state.admission.admit("10.0.0.7")  # another asker's answer runs
        asked_before = len(llm_server.requests)

        kept = client.get(TRANSLATION, params=english)  # needs no model: not queued
        busy = client.get(TRANSLATION, params=german)
        assert len(llm_server.requests) == asked_before
        app.state.admission.release(answering)
        # The scripted model answers German with the sentence itself: no translation.
        failed = client.get(TRANSLATION, params=german)

    assert kept.json()["text"] == VI_SENTENCE_IN_ENGLISH
    assert "busy" in assert_error(busy, 429, "rate_limit_error")
    assert int(busy.headers["Retry-After"]) >= 1
    assert "no translation" in assert_error(failed, 503, "service_unavailable")
    assert len(llm_server.requests) == asked_before + 1


def test_the_translation_endpoint_is_documented(client):
    operation = client.get("/openapi.json").json()["paths"]["/api/documents/{doc_id}/translation"][
        "get"
    ]

    assert "machine translated" in operation["summary"]
    assert {"404", "422", "429"} <= set(operation["responses"])
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/SentenceTranslation")

"""The HTTP application against the real Assistant: HashEmbedder, a Chroma index in a
temporary data directory, and a scripted OpenAI-compatible model server (the corpus, model
and app come from tests.support.web)."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
import typer
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import assistant.service
from assistant.cli import serve as serve_commands
from assistant.server import create_app
from assistant.server.routers.pages import render_document_page
from assistant.server.ui_text import ui_text
from assistant.service import Assistant
from assistant.settings import Settings
from assistant.types import (
    Answer,
    Citation,
)
from ingest.types import Document
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.web import (
    CORPUS,
    VI_ANSWER,
    VI_FOLLOW_UP,
    VI_QUESTION,
    assert_error,
    checked_readiness,
    live_server,
    make_app,
    make_settings,
    scripted_reply,
    write_corpus,
)


def parse_sse(text: str) -> list[tuple[str, str]]:
    """(event name, data) of every event in a Server-Sent Events body."""
    events = []
    for block in re.split(r"\r?\n\r?\n", text):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
        if data:
            events.append((name, "\n".join(data)))
    return events


@pytest.fixture
def client(data_dir, llm_server) -> Iterator[TestClient]:
    with TestClient(make_app(data_dir, llm_server.base_url)) as test_client:
        yield test_client


def test_ask_returns_the_answer_json(client):
    response = client.post("/api/ask", json={"question": VI_QUESTION})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == set(Answer.__dataclass_fields__)
    assert "1.269" in body["answer"]
    assert body["refused"] is False
    assert body["language"] == "vi"
    assert body["error"] is None
    [citation] = body["citations"]
    assert set(citation) == set(Citation.__dataclass_fields__)
    assert citation["doc_id"] == "vi/bac-ninh.txt"
    assert citation["supported"] is True
    assert {p["doc_id"] for p in body["passages"]} == set(CORPUS)


def test_ask_streams_sources_tokens_citations_done_in_order(client):
    response = client.post("/api/ask", json={"question": VI_QUESTION, "stream": True})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    names = [name for name, _ in events]
    assert names[0] == "sources"
    assert names[-2:] == ["citations", "done"]
    # Progress (the evidence read, a token written, the check) until the checked answer
    # comes, once; the key fact the extractive reader read comes before the model writes.
    assert set(names[1:-3]) == {"progress", "key_fact"} and names[-3] == "token"
    [key_fact] = [json.loads(data)["key_fact"] for name, data in events if name == "key_fact"]
    assert key_fact["text"] == "1.269" and key_fact["status"] == "checking"
    assert key_fact["citation"]["doc_id"] == "vi/bac-ninh.txt"
    writing = [i for i, (name, data) in enumerate(events) if '"stage": "writing"' in data]
    assert names.index("key_fact") < writing[0]
    tokens = "".join(json.loads(data)["text"] for name, data in events if name == "token")
    assert VI_ANSWER in tokens
    sources = json.loads(events[0][1])
    assert {p["doc_id"] for p in sources["passages"]} == set(CORPUS)
    result = json.loads(events[-1][1])["result"]
    assert set(result) == set(Answer.__dataclass_fields__)
    assert result["citations"][0]["doc_id"] == "vi/bac-ninh.txt"


def test_ask_passes_the_history_for_follow_ups(client, llm_server):
    history = [
        {"role": "user", "content": VI_QUESTION},
        {"role": "assistant", "content": VI_ANSWER + " [1]."},
    ]
    seen = len(llm_server.requests)

    response = client.post("/api/ask", json={"question": VI_FOLLOW_UP, "history": history})

    assert "1.014" in response.json()["answer"]
    prompts = [r["messages"][-1]["content"] for r in llm_server.requests[seen:]]
    assert any(VI_ANSWER in prompt for prompt in prompts)


def test_a_question_the_articles_do_not_answer_is_refused(client):
    body = client.post("/api/ask", json={"question": "Wer gewann die Fußball-WM 1954?"}).json()

    assert body["refused"] is True
    assert body["citations"] == []


def test_an_unavailable_model_still_returns_the_sources(data_dir):
    with (
        FakeOpenAIServer(failure="down") as down,
        TestClient(make_app(data_dir, down.base_url)) as test_client,
    ):
        body = test_client.post("/api/ask", json={"question": VI_QUESTION}).json()
        streamed = test_client.post("/api/ask", json={"question": VI_QUESTION, "stream": True})
        readiness = checked_readiness(test_client).json()

    assert body["error"]
    assert body["passages"]
    # The key fact needs no model: it still comes, and is never marked verified.
    assert body["key_fact"]["text"] == "1.269" and body["key_fact"]["status"] == "not_verified"
    names = [name for name, _ in parse_sse(streamed.text)]
    assert names[:5] == ["sources", "progress", "key_fact", "progress", "error"]
    assert names[-1] == "done"
    assert readiness["ready"] is True  # the index answers: the sources still come
    assert readiness["llm"]["loaded"] is False


def test_the_event_loop_stays_free_while_an_answer_streams(data_dir):
    with (
        FakeOpenAIServer(reply=scripted_reply, token_delay_s=0.2) as slow,
        live_server(make_app(data_dir, slow.base_url)) as url,
        httpx.Client(base_url=url, timeout=30) as http,
        http.stream("POST", "/api/ask", json={"question": VI_QUESTION, "stream": True}) as stream,
    ):
        lines = stream.iter_lines()
        next(line for line in lines if line.startswith("event: token"))
        started = time.monotonic()
        assert http.get("/api/health").status_code == 200
        health_s = time.monotonic() - started
        rest = list(lines)

    assert health_s < 1.0
    assert "event: done" in rest  # the health check was answered while the answer streamed


def test_a_client_that_goes_away_ends_the_answer_stream(data_dir):
    with FakeOpenAIServer(reply=scripted_reply, token_delay_s=0.3) as slow:
        settings = make_settings(data_dir, slow.base_url)
        product = Assistant(settings, embedder=HashEmbedder())
        stream, closed = product.stream, threading.Event()

        def recorded_stream(*args, **kwargs):
            try:
                yield from stream(*args, **kwargs)
            finally:
                closed.set()

        product.stream = recorded_stream
        with (
            live_server(create_app(product, settings)) as url,
            httpx.stream(
                "POST", f"{url}/api/ask", json={"question": VI_QUESTION, "stream": True}
            ) as response,
        ):
            # The model's first token (a progress event): it has more to write, 0.3 s each.
            next(line for line in response.iter_lines() if '"tokens": 1,' in line)
            assert not closed.is_set()
        # Leaving the block hangs up mid-answer.
        assert closed.wait(timeout=5)


# --- OpenAI-compatible /v1 ---------------------------------------------------------------


def test_openai_client_uses_the_product_as_a_model(data_dir, llm_server):
    with live_server(make_app(data_dir, llm_server.base_url, api_key="s3cret")) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="s3cret", max_retries=0)
        models = [model.id for model in client.models.list()]
        completion = client.chat.completions.create(
            model="news-assistant", messages=[{"role": "user", "content": VI_QUESTION}]
        )
        chunks = list(
            client.chat.completions.create(
                model="news-assistant",
                messages=[
                    {"role": "system", "content": "ignored"},
                    {"role": "user", "content": VI_QUESTION},
                    {"role": "assistant", "content": VI_ANSWER + " [1]."},
                    {"role": "user", "content": VI_FOLLOW_UP},
                ],
                stream=True,
            )
        )
        wrong_key = openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            wrong_key.models.list()

    assert models == ["news-assistant"]
    assert "1.269" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model_extra["citations"][0]["doc_id"] == "vi/bac-ninh.txt"
    assert completion.model_extra["key_fact"]["text"] == "1.269"
    assert completion.model_extra["key_fact"]["status"] == "verified"
    assert {s["doc_id"] for s in completion.model_extra["sources"]} == set(CORPUS)
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert "1.014" in streamed
    assert chunks[0].model_extra["sources"]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"][0]["doc_id"] == "vi/bac-ninh.txt"


def unverifiable_reply(messages: list[dict]) -> str:
    """A model that gets the figure wrong: its answer cannot be verified."""
    return scripted_reply(messages).replace("1.269", "7.777")


@pytest.mark.parametrize(
    ("reply", "question", "kind"),
    [
        (scripted_reply, VI_QUESTION, "verified"),
        (unverifiable_reply, VI_QUESTION, "not verified"),
        (scripted_reply, "Who won the 1998 football world cup?", "refused"),
    ],
)
def test_openai_stream_adds_up_to_the_answer_with_usage(data_dir, reply, question, kind):
    with (
        FakeOpenAIServer(reply=reply) as llm,
        live_server(make_app(data_dir, llm.base_url)) as url,
    ):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        messages = [{"role": "user", "content": question}]
        completion = client.chat.completions.create(model="news-assistant", messages=messages)
        chunks = list(
            client.chat.completions.create(
                model="news-assistant",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        without_usage = list(
            client.chat.completions.create(model="news-assistant", messages=messages, stream=True)
        )

    answer = completion.choices[0].message.content
    extra = completion.model_extra
    assert {"verified": extra["verified"], "refused": extra["refused"]} == {
        "verified": kind == "verified",
        "refused": kind == "refused",
    }
    assert answer
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == answer
    usage = completion.usage
    assert usage.prompt_tokens == len(question.split()) + 1  # the words and the "?"
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    # As OpenAI's: usage comes on a last chunk without choices, and only when asked for.
    assert chunks[-1].choices == []
    assert chunks[-1].usage == usage
    assert [c.usage for c in chunks[:-1]] == [None] * (len(chunks) - 1)
    assert all(c.usage is None and c.choices for c in without_usage)
    if kind != "refused":
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
        assert markers == {c["marker"] for c in chunks[-2].model_extra["citations"]}
        # The key fact rides on a chunk of its own, with nothing to add to the content,
        # before the answer's; its final status comes on the last chunk.
        [early] = [
            c for c in chunks if c.model_extra.get("key_fact") and not c.choices[0].finish_reason
        ]
        assert early.choices[0].delta.content is None
        assert early.model_extra["key_fact"]["status"] == "checking"
        assert chunks.index(early) < min(
            i for i, c in enumerate(chunks) if c.choices and c.choices[0].delta.content
        )
        final = chunks[-2].model_extra["key_fact"]["status"]
        assert final == ("verified" if kind == "verified" else "not_verified")


def test_openai_client_sees_model_failures_as_errors(data_dir):
    with (
        FakeOpenAIServer(failure="down") as down,
        live_server(make_app(data_dir, down.base_url)) as url,
    ):
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(
                model="news-assistant", messages=[{"role": "user", "content": VI_QUESTION}]
            )
        with pytest.raises(openai.APIError):
            stream = client.chat.completions.create(
                model="news-assistant",
                messages=[{"role": "user", "content": VI_QUESTION}],
                stream=True,
            )
            list(stream)


def test_chat_completions_needs_a_user_question_last(client):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    response = client.post("/v1/chat/completions", json={"messages": messages})

    assert "question" in assert_error(response, 422, "invalid_request_error")


def test_chat_completions_reads_content_parts(client):
    content = [{"type": "text", "text": VI_QUESTION}]
    response = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": content}]}
    )

    assert "1.269" in response.json()["choices"][0]["message"]["content"]


# --- health and documents -----------------------------------------------------------------


def test_ready_reports_the_index_and_the_model_health_only_liveness(client):
    ready = checked_readiness(client)
    body = ready.json()

    assert client.get("/api/health").json() == {"status": "ok"}
    assert ready.status_code == 200
    assert body["ready"] is True
    assert body["index"]["open"] is True
    assert body["index"]["documents"] == len(CORPUS)
    assert body["index"]["chunks"] >= len(CORPUS)
    assert body["llm"] == {
        "model": "qwen2.5-coder-1.5b-instruct",
        "loaded": True,
        "checked_s_ago": body["llm"]["checked_s_ago"],
    }


def test_documents_are_served_whole_or_404(client):
    document = client.get("/api/documents/vi/bac-ninh.txt").json()
    missing = client.get("/api/documents/nope.txt")

    assert document["doc_id"] == "vi/bac-ninh.txt"
    assert document["language"] == "vi"
    assert "1.269 cuộc đối thoại" in document["text"]
    assert "nope.txt" in assert_error(missing, 404, "not_found_error")


def test_a_link_to_no_article_gets_a_page_in_the_reader_language(client):
    german = ui_text("de")
    missing = client.get("/documents/nope.txt", headers={"Accept-Language": "de-DE,de;q=0.9"})
    found = client.get("/documents/vi/bac-ninh.txt", headers={"Accept-Language": "ar"})

    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert f"<h1>{german['not_found_title']}</h1>" in missing.text
    assert f'<a class="back" href="/">{german["back_to_chat"]}</a>' in missing.text
    assert '<html lang="ar" dir="rtl">' in found.text
    assert f"<dt>{ui_text('ar')['article_language']}</dt>" in found.text
    assert "nope.txt" in assert_error(client.get("/api/documents/nope.txt"), 404, "not_found_error")


def test_the_article_page_shows_markup_as_text_and_marks_the_cited_sentence(client):
    text = CORPUS["en/lantern.txt"]
    start = text.index("Organisers")
    page = client.get(f"/documents/en/lantern.txt?start={start}&end={len(text) - 1}")

    assert page.status_code == 200
    assert "<script>window" not in page.text
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page.text
    assert '<mark id="cited">Organisers of the lantern festival' in page.text
    assert "script-src 'none'" in page.headers["content-security-policy"]


# --- limits and errors -------------------------------------------------------------------


def test_a_too_long_question_is_rejected_with_a_clear_message(data_dir, llm_server):
    with TestClient(make_app(data_dir, llm_server.base_url, max_question_chars=20)) as limited:
        response = limited.post("/api/ask", json={"question": "x" * 21})
        openai_style = limited.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": "x" * 21}]}
        )

    assert "limit is 20" in assert_error(response, 422, "invalid_request_error")
    assert "limit is 20" in assert_error(openai_style, 422, "invalid_request_error")


@pytest.mark.parametrize("question", ["   \t\n", "Wie viele?\x00", "How \x1b[2J many?"])
def test_whitespace_and_control_characters_get_422_on_every_path(client, llm_server, question):
    asked_before = len(llm_server.requests)
    responses = [
        client.post("/api/ask", json={"question": question}),
        client.post("/api/ask", json={"question": question, "stream": True}),
        client.post(
            "/v1/chat/completions", json={"messages": [{"role": "user", "content": question}]}
        ),
        client.post(
            "/v1/chat/completions",
            json={"messages": [{"role": "user", "content": question}], "stream": True},
        ),
    ]
    for response in responses:
        message = assert_error(response, 422, "invalid_request_error")
        assert message.startswith(("question: ", "messages.0.content: "))
    assert len(llm_server.requests) == asked_before  # no model was asked to make something up


def test_a_too_large_body_is_rejected_declared_or_streamed(data_dir, llm_server):
    body = json.dumps({"question": "x" * 2000}).encode()
    with TestClient(make_app(data_dir, llm_server.base_url, max_request_bytes=1000)) as limited:
        declared = limited.post("/api/ask", content=body)
        chunked = limited.post("/api/ask", content=iter([body[:600], body[600:]]))
        small = limited.post("/api/ask", json={"question": VI_QUESTION})

    assert "1000 bytes" in assert_error(declared, 413, "request_too_large")
    assert "1000 bytes" in assert_error(chunked, 413, "request_too_large")
    assert small.status_code == 200


def test_malformed_requests_get_json_errors(client):
    not_json = client.post("/api/ask", content=b"{", headers={"content-type": "application/json"})
    missing = client.post("/api/ask", json={"k": 0})
    wrong_method = client.get("/api/ask")

    assert_error(not_json, 422, "invalid_request_error")
    assert "question" in assert_error(missing, 422, "invalid_request_error")
    assert_error(wrong_method, 405, "invalid_request_error")


# --- access: API key, basic auth, CORS, framing, sub-path -----------------------------------


def test_the_api_key_guards_api_and_v1_only(data_dir, llm_server):
    with TestClient(make_app(data_dir, llm_server.base_url, api_key="s3cret")) as guarded:
        anonymous = guarded.get("/api/health")
        wrong = guarded.get("/v1/models", headers={"X-API-Key": "nope"})
        by_header = guarded.get("/api/health", headers={"X-API-Key": "s3cret"})
        by_bearer = guarded.get("/v1/models", headers={"Authorization": "Bearer s3cret"})
        ui = guarded.get("/")

    assert_error(anonymous, 401, "authentication_error")
    assert_error(wrong, 401, "authentication_error")
    assert by_header.status_code == by_bearer.status_code == 200
    assert ui.status_code == 200


def test_basic_auth_guards_the_ui_only(data_dir, llm_server):
    app = make_app(data_dir, llm_server.base_url, ui_username="ana", ui_password="pw")
    with TestClient(app) as guarded:
        anonymous = guarded.get("/")
        wrong = guarded.get("/", auth=("ana", "nope"))
        signed_in = guarded.get("/", auth=("ana", "pw"))
        config = guarded.get("/config", auth=("ana", "pw"))
        api = guarded.get("/api/health")

    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert signed_in.status_code == config.status_code == 200
    assert api.status_code == 200


def test_cors_allows_the_configured_origins_only(data_dir, llm_server):
    app = make_app(data_dir, llm_server.base_url, allowed_origins=["https://news.example"])
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x"}
    with TestClient(app) as cors:
        allowed = cors.options("/api/ask", headers={"Origin": "https://news.example", **preflight})
        other = cors.options("/api/ask", headers={"Origin": "https://evil.example", **preflight})
        simple = cors.get("/api/health", headers={"Origin": "https://news.example"})

    assert allowed.headers["access-control-allow-origin"] == "https://news.example"
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://news.example"


def test_frame_ancestors_are_sent_with_the_ui(data_dir, llm_server):
    app = make_app(data_dir, llm_server.base_url, frame_ancestors=["'self'", "https://a.example"])
    with TestClient(app) as framed:
        ui = framed.get("/")
        demo = framed.get("/embed-demo")
        api = framed.get("/api/health")

    policy = "frame-ancestors 'self' https://a.example"
    assert ui.headers["content-security-policy"] == policy
    assert demo.headers["content-security-policy"] == policy
    assert "content-security-policy" not in api.headers


def test_the_embed_demo_loads_gradio_js_from_this_server(client):
    demo = client.get("/embed-demo").text
    loader = client.get("/gradio.js")
    [entry] = re.findall(r'import\("\./(assets/[^"]+)"\)', loader.text)

    # Without server.public_url, paths of this server; the page's script makes them URLs.
    assert '<script type="module" src="/gradio.js">' in demo
    assert '<gradio-app id="embed-component" src="/">' in demo
    assert '<iframe id="embed-iframe" src="/"' in demo
    assert "new URL(base, document.baseURI)" in demo
    assert loader.headers["content-type"].startswith("text/javascript")
    assert client.get(f"/{entry}").status_code == 200
    assert all(url.startswith("/") for url in re.findall(r'src="([^"]+)"', demo))


def gradio_root(test_client: TestClient, path: str) -> str:
    return test_client.get(path).json()["root"]


def test_root_path_setting_serves_under_a_sub_path(data_dir, llm_server):
    app = make_app(data_dir, llm_server.base_url, root_path="/assistant", max_request_bytes=100)
    with TestClient(app) as behind_proxy:
        # A proxy may pass the prefix on, or strip it: both must work.
        prefixed = behind_proxy.get("/assistant/api/health")
        stripped = behind_proxy.get("/api/health")
        too_large = behind_proxy.post("/assistant/api/ask", json={"question": "x" * 200})
        demo = behind_proxy.get("/embed-demo").text
        roots = {
            gradio_root(behind_proxy, "/config"),
            gradio_root(behind_proxy, "/assistant/config"),
        }

    assert prefixed.status_code == stripped.status_code == 200
    assert "content-security-policy" not in prefixed.headers  # known as an API path
    assert_error(too_large, 413, "request_too_large")
    assert 'src="/assistant/gradio.js"' in demo
    assert roots == {"http://testserver/assistant"}


def test_mounted_in_a_parent_app_under_a_sub_path(data_dir, llm_server):
    ours = make_app(data_dir, llm_server.base_url)

    @contextlib.asynccontextmanager
    async def lifespan(parent):
        # Starlette runs no lifespan of a mounted app; Gradio's queue needs ours.
        async with ours.router.lifespan_context(ours):
            yield

    parent = FastAPI(lifespan=lifespan)
    parent.mount("/assistant", ours)
    with TestClient(parent) as mounted:
        health = mounted.get("/assistant/api/health")
        ui = mounted.get("/assistant/")
        demo = mounted.get("/assistant/embed-demo").text
        root = gradio_root(mounted, "/assistant/config")
        missing = mounted.get("/assistant/api/documents/nope")
        missing_page = mounted.get("/assistant/documents/nope")

    assert health.status_code == ui.status_code == 200
    assert missing_page.status_code == 404
    assert 'class="back" href="/assistant/"' in missing_page.text  # back to this chat
    assert 'src="/assistant/gradio.js"' in demo
    assert root == "http://testserver/assistant"
    assert_error(missing, 404, "not_found_error")


# --- `assistant serve` ---------------------------------------------------------------------


def test_serve_ingests_an_empty_index_then_serves(tmp_path, monkeypatch, llm_server):
    write_corpus(tmp_path / "corpus")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("ASSISTANT_LLM__BASE_URL", llm_server.base_url)
    built: list[Assistant] = []

    def hash_assistant(settings: Settings) -> Assistant:
        built.append(Assistant(settings, embedder=HashEmbedder()))
        return built[-1]

    served = {}
    monkeypatch.setattr(assistant.service, "Assistant", hash_assistant)
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(app=app, **options))

    cli = typer.Typer()
    serve_commands.register(cli)
    result = CliRunner().invoke(cli, ["--port", "8123"])

    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8123/" in result.output
    assert built[0].store.count() > 0
    assert served["port"] == 8123
    assert served["host"] == "127.0.0.1"
    with TestClient(served["app"]) as test_client:
        assert checked_readiness(test_client).json()["index"]["documents"] == len(CORPUS)


def test_the_article_page_escapes_its_metadata():
    document = Document(doc_id="x.txt", text="a <b>", title="<i>T</i>", url="javascript:x")

    page = render_document_page(document, None, None)

    assert "<i>T</i>" not in page
    assert "&lt;i&gt;T&lt;/i&gt;" in page
    assert "a &lt;b&gt;" in page
    assert 'href="javascript' not in page


def test_api_docs_load_their_assets_from_this_server(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", page.text)
    assert assets, "the docs page references no script or stylesheet"
    for asset in assets:
        assert asset.startswith("/"), f"{asset} is not served locally"
        assert client.get(asset).status_code == 200, asset

"""The OpenAI-compatible client against the scripted fake server: every failure mode maps
to its LLMError kind with an actionable message, and retries never repeat streamed text."""

from __future__ import annotations

import openai
import pytest

from assistant.llms import LLMError, make_llm
from assistant.llms.embedded import EmbeddedLLM
from assistant.llms.openai_compatible import OpenAICompatibleLLM, bad_output_reason
from assistant.settings import Settings
from tests.fake_openai import FakeOpenAIServer

QUESTION = [
    {"role": "system", "content": "Answer from the passages."},
    {"role": "user", "content": "What is the capital of France?"},
]


@pytest.fixture
def server():
    with FakeOpenAIServer(reply="Paris is the capital of France [1].") as fake:
        yield fake


def client(base_url: str, **options) -> OpenAICompatibleLLM:
    return OpenAICompatibleLLM(base_url, "fake-model", backoff_s=0.01, **options)


def failure_of(llm: OpenAICompatibleLLM) -> LLMError:
    with pytest.raises(LLMError) as caught:
        llm.complete_chat(QUESTION)
    return caught.value


def test_stream_yields_deltas_in_order(server):
    deltas = list(client(server.base_url).stream_chat(QUESTION))

    assert len(deltas) > 1
    assert "".join(deltas) == "Paris is the capital of France [1]."


def test_request_carries_messages_and_options(server):
    client(server.base_url, temperature=0.3).complete_chat(QUESTION, max_tokens=7, stop=["\n\n"])

    request = server.requests[0]
    assert request["messages"] == QUESTION
    assert request["model"] == "fake-model"
    assert (request["max_tokens"], request["temperature"], request["stop"]) == (7, 0.3, ["\n\n"])
    assert request["stream"] is True


def test_replies_are_consumed_in_order():
    with FakeOpenAIServer(reply=["first answer", "second answer"]) as fake:
        llm = client(fake.base_url)
        answers = [llm.complete_chat(QUESTION) for _ in range(3)]
    assert answers == ["first answer", "second answer", "second answer"]


def test_reply_callable_sees_the_messages():
    with FakeOpenAIServer(reply=lambda messages: messages[-1]["content"].upper()) as fake:
        assert client(fake.base_url).complete_chat(QUESTION) == "WHAT IS THE CAPITAL OF FRANCE?"


def test_health_probes_the_endpoint(server):
    assert client(server.base_url).health() is True
    with FakeOpenAIServer(failure="down") as down:
        assert client(down.base_url).health() is False


def test_api_key_is_sent_to_chat_and_health():
    with FakeOpenAIServer(reply="ok", api_key="secret") as fake:
        assert client(fake.base_url, api_key="secret").complete_chat(QUESTION) == "ok"
        assert client(fake.base_url, api_key="secret").health() is True
        assert client(fake.base_url, api_key="wrong").health() is False
        assert failure_of(client(fake.base_url, api_key="wrong")).kind == "auth"


def test_down_is_unavailable_and_says_how_to_start():
    with FakeOpenAIServer(failure="down") as down:
        error = failure_of(client(down.base_url, retries=1))
    assert error.kind == "unavailable"
    assert down.base_url in error.message
    assert "assistant llm serve" in error.message
    assert "ASSISTANT_LLM__BASE_URL" in error.message


def test_timeout(server):
    server.failure = "timeout"
    error = failure_of(client(server.base_url, timeout=0.3))
    assert error.kind == "timeout"
    assert "0.3 s" in error.message
    assert len(server.requests) == 1  # a slow server is not hammered with retries


def test_auth(server):
    server.failure = "401"
    error = failure_of(client(server.base_url))
    assert error.kind == "auth"
    assert "ASSISTANT_LLM__API_KEY" in error.message
    assert len(server.requests) == 1


def test_context_length(server):
    server.failure = "context_length"
    error = failure_of(client(server.base_url))
    assert error.kind == "context"
    assert "exceeds the available context size" in error.message
    assert len(server.requests) == 1


def test_garbage_is_bad_output(server):
    server.failure = "garbage"
    error = failure_of(client(server.base_url))
    assert error.kind == "bad_output"
    assert "unusable output" in error.message


def test_broken_stream_after_tokens_is_not_retried(server):
    server.failure = "broken_stream"
    received = []
    with pytest.raises(LLMError) as caught:
        for delta in client(server.base_url).stream_chat(QUESTION):
            received.append(delta)
    assert caught.value.kind == "broken_stream"
    assert received  # the first half arrived before the cut
    assert "".join(received) in "Paris is the capital of France [1]."
    assert len(server.requests) == 1  # retrying now would repeat the streamed text


@pytest.mark.parametrize("status", ["500", "429"])
def test_transient_errors_are_retried_then_succeed(server, status):
    server.fail_next(status, status)
    answer = client(server.base_url, retries=2).complete_chat(QUESTION)
    assert answer == "Paris is the capital of France [1]."
    assert len(server.requests) == 3


def test_500_then_ok_mode():
    with FakeOpenAIServer(reply="ok then", failure="500_then_ok", fail_count=2) as fake:
        assert client(fake.base_url, retries=2).complete_chat(QUESTION) == "ok then"
        assert len(fake.requests) == 3


def test_retries_run_out_as_unavailable(server):
    server.failure = "500"
    error = failure_of(client(server.base_url, retries=2))
    assert error.kind == "unavailable"
    assert "after 3 attempts" in error.message
    assert len(server.requests) == 3


def test_backoff_grows_exponentially(server, monkeypatch):
    sleeps = []
    monkeypatch.setattr("assistant.llms.openai_compatible.time.sleep", sleeps.append)
    server.failure = "500"
    failure_of(OpenAICompatibleLLM(server.base_url, "m", retries=3, backoff_s=0.5))
    assert sleeps == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("", True),
        (" \n\t ", True),
        ("?!…", True),
        ("\x00\x01\x02ab\x03\x04\x05", True),
        ("[1] " * 12, True),
        ("The answer is yes " + "no " * 20, True),
        ("Paris [1].", False),
        ("Budapest hat 1.700.000 Einwohner [2].", False),
        ("Thủ đô của Pháp là Paris [1].", False),
        ("42", False),
    ],
)
def test_bad_output_reason(text, bad):
    assert (bad_output_reason(text) is not None) == bad


def test_make_llm_uses_configured_endpoint(server):
    settings = Settings(llm={"base_url": server.base_url, "model": "remote", "retries": 4})
    llm = make_llm(settings)
    assert isinstance(llm, OpenAICompatibleLLM)
    assert (llm.base_url, llm.model, llm.retries) == (server.base_url, "remote", 4)
    assert llm.continues_answer is False  # OpenAI's API would answer a prefill, not continue it
    assert llm.complete_chat(QUESTION) == "Paris is the capital of France [1]."


def test_continuing_answers_is_a_setting_for_endpoints_and_the_embedded_model(tmp_path):
    endpoint = {"base_url": "http://localhost:9/v1", "continues_answer": True}
    assert make_llm(Settings(data_dir=tmp_path, llm=endpoint)).continues_answer is True
    embedded = {"continues_answer": False}
    assert make_llm(Settings(data_dir=tmp_path, llm=embedded)).continues_answer is False


def test_make_llm_without_endpoint_does_not_load_the_model(tmp_path):
    llm = make_llm(Settings(data_dir=tmp_path))
    assert isinstance(llm, EmbeddedLLM)
    assert llm.model == "qwen2.5-coder-1.5b-instruct"
    assert llm.continues_answer is True  # llama.cpp's server continues a prefill
    assert llm.health() is False
    assert not llm.server.running


def test_fake_server_answers_non_streaming_requests(server):
    response = openai.OpenAI(base_url=server.base_url, api_key="x").chat.completions.create(
        model="fake-model", messages=QUESTION
    )
    assert response.choices[0].message.content == "Paris is the capital of France [1]."
    assert response.choices[0].finish_reason == "stop"

"""``Assistant.warm_up`` (``assistant.warm_up``): the whole answering path runs once on a
scripted model, nothing is sent to the real one, and the model is loaded, or its failure
to start is logged without stopping the server's start."""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.llms.base import LLMError
from assistant.llms.openai_compatible import OpenAICompatibleLLM
from assistant.service import Assistant
from assistant.warm_up import ScriptedLLM
from tests.fake_openai import FakeOpenAIServer
from tests.fakes import HashEmbedder
from tests.support.web import build_index, make_settings


class LoadCounting(ScriptedLLM):
    def __init__(self, fail: bool = False):
        self.loads, self.fail = 0, fail

    def load(self) -> None:
        self.loads += 1
        if self.fail:
            raise LLMError("unavailable", "port in use")


def test_the_warm_up_answers_once_without_the_model_and_then_loads_it(tmp_path: Path):
    settings = make_settings(build_index(tmp_path), "http://unused")
    llm = LoadCounting()
    assistant = Assistant(settings, embedder=HashEmbedder(), llm=llm)
    assistant.warm_up()
    assert llm.loads == 1
    assert "answerer" in vars(assistant)  # built before the first question


def test_a_model_that_does_not_start_is_logged_and_the_warm_up_ends(tmp_path: Path, caplog):
    settings = make_settings(build_index(tmp_path), "http://unused")
    assistant = Assistant(settings, embedder=HashEmbedder(), llm=LoadCounting(fail=True))
    with caplog.at_level(logging.WARNING):
        assistant.warm_up()
    assert "The language model did not start: port in use" in caplog.text


def test_loading_an_endpoints_client_sends_it_nothing():
    with FakeOpenAIServer() as server:
        OpenAICompatibleLLM(server.base_url, "fake-model").load()
        assert server.requests == []


def test_the_scripted_model_cites_the_first_passage_or_names_a_figure():
    llm = ScriptedLLM()
    prompt = "Passages:\n[1] Ha Tinh received 18,087 proposals.\n[2] Other.\n\nQuestion: x"
    assert llm.complete_chat([{"role": "user", "content": prompt}]) == (
        "Ha Tinh received 18,087 proposals. [1]."
    )
    figure = "Sentence: It received 18,087 proposals.\n\nQuestion: how many?"
    assert llm.complete_chat([{"role": "user", "content": figure}]) == "18,087"

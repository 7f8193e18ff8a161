"""The serving tests' corpus, scripted model and app: a small multilingual index built with
HashEmbedder, a model that answers its questions from whichever passage holds the fact, and
the app and live server around them. Shared by the HTTP, admission, schema, browser and
LlamaIndex tests, so that each builds the same index the same way."""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from assistant.prompts import NO_ANSWER_TOKEN
from assistant.server import create_app
from assistant.server.uploads import WORKER_NAME as UPLOAD_WORKER
from assistant.service import Assistant
from assistant.settings import Settings
from ingest.interfaces import Embedder
from ingest.language import make_language_detector
from ingest.pipeline import ingest_paths
from ingest.store import make_store
from tests.fakes import HashEmbedder

XSS_PAYLOAD = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
CORPUS = {
    "vi/bac-ninh.txt": "Tỉnh Bắc Ninh đẩy mạnh công tác dân vận\n\n"
    "Từ đầu nhiệm kỳ, cấp ủy và chính quyền các cấp tỉnh Bắc Ninh đã tổ chức 1.269 cuộc "
    "đối thoại với người dân và doanh nghiệp. Toàn tỉnh đã xây dựng 1.014 mô hình "
    "Dân vận khéo trên các lĩnh vực.\n",
    "ar/ha-tinh.txt": "مؤتمر لجنة الحزب في ها تينه\n\n"
    "في فترة ما بعد الظهر من يوم 25 أغسطس، عقدت اللجنة التنفيذية للحزب في مقاطعة ها تينه "
    "مؤتمرا لتلخيص عشر سنوات من تنفيذ القرار رقم 25.\n",
    "en/lantern.txt": "Lantern festival poster\n\n"
    f"The festival poster read {XSS_PAYLOAD} in big letters. "
    "Organisers of the lantern festival counted 5,000 visitors.\n",
}
VI_QUESTION = "Bắc Ninh đã tổ chức bao nhiêu cuộc đối thoại?"
VI_ANSWER = "Bắc Ninh đã tổ chức 1.269 cuộc đối thoại với người dân và doanh nghiệp"
VI_FOLLOW_UP = "Còn mô hình Dân vận khéo thì sao?"
VI_MODELS_QUESTION = "Bắc Ninh đã xây dựng bao nhiêu mô hình Dân vận khéo?"
# An English question that quotes the Vietnamese article's word for "dialogues", so that
# the hashed embeddings find it: an English asker, a Vietnamese source.
EN_QUESTION = (
    "In Bắc Ninh, how many dialogues, đối thoại, were organised with the people and with "
    "businesses?"
)
EN_ANSWER = "Bắc Ninh held 1.269 dialogues with people and businesses"
# The Vietnamese article's cited sentence in English, as the scripted model translates it.
VI_SENTENCE_IN_ENGLISH = (
    "Since the start of the term, the party committees and authorities at all levels of "
    "Bắc Ninh province have organised 1.269 dialogues with people and businesses."
)
LANTERN_QUESTION = "How many visitors did the lantern festival poster count?"
# The model repeats the payload: its output must be rendered as text too.
LANTERN_ANSWER = f"The poster read {XSS_PAYLOAD}; the lantern festival counted 5,000 visitors"


def scripted_reply(messages: list[dict]) -> str:
    """A model that answers the test corpus's questions from whichever numbered passage
    holds the fact, so markers stay right whatever order retrieval returns."""
    prompt = messages[-1]["content"]
    if prompt.startswith("Translate this sentence"):  # a cited sentence (translate_sentence.txt)
        sentence = prompt.rpartition("\n\n")[2]
        if "1.269 cuộc đối thoại" in sentence and "into English" in prompt:
            return VI_SENTENCE_IN_ENGLISH
        return f"«{sentence}»"  # not translated: the translator must notice
    if "Standalone question:" in prompt:
        return VI_MODELS_QUESTION
    question = prompt.rpartition("Question:")[2]
    if "dialogues" in question:
        fact, sentence = "1.269", EN_ANSWER
    elif "mô hình" in question:
        fact, sentence = "1.014", "Bắc Ninh đã xây dựng 1.014 mô hình Dân vận khéo"
    elif "đối thoại" in question:
        fact, sentence = "1.269", VI_ANSWER
    elif "lantern" in question:
        fact, sentence = "5,000", LANTERN_ANSWER
    else:
        return NO_ANSWER_TOKEN
    for number, block in re.findall(r"^\[(\d+)\] (.*?)(?=^\[\d+\] |\Z)", prompt, re.M | re.S):
        if fact in block:
            return f"{sentence} [{number}]."
    return NO_ANSWER_TOKEN


def write_corpus(folder: Path) -> Path:
    for name, text in CORPUS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def make_settings(data_dir: Path, llm_url: str, **server) -> Settings:
    return Settings(
        data_dir=data_dir,
        corpus_dir=data_dir.parent / "corpus",
        llm={"base_url": llm_url, "retries": 0, "timeout": 5},
        # HashEmbedder's vectors mean nothing, so the evidence is lexical alone, which scores
        # lower than the e5 evidence the default threshold was chosen for.
        answer={"min_evidence": 0.13},
        server=server,
    )


def build_index(root: Path) -> Path:
    """Ingests the test corpus into ``root/data``; returns the data directory."""
    settings = make_settings(root / "data", "http://unused")
    write_corpus(settings.corpus_dir)
    report = ingest_paths(
        [settings.corpus_dir],
        settings,
        embedder=HashEmbedder(),
        store=make_store(settings),
        detector=make_language_detector(settings),
        progress=False,
    )
    assert len(report.new) == len(CORPUS)
    return settings.data_dir


def make_app(data_dir: Path, llm_url: str, embedder: Embedder | None = None, **server) -> FastAPI:
    settings = make_settings(data_dir, llm_url, **server)
    return create_app(Assistant(settings, embedder=embedder or HashEmbedder()), settings)


class GatedEmbedder(HashEmbedder):
    """HashEmbedder whose passages, when the library's upload worker embeds them, wait for
    ``gate`` (open at first): a test closes it to hold an upload at "ingesting" while it
    looks at the page or asks a question, and opens it to let the upload finish."""

    def __init__(self):
        self.gate = threading.Event()
        self.gate.set()

    def embed_passages(self, texts):
        if threading.current_thread().name.startswith(UPLOAD_WORKER):
            assert self.gate.wait(timeout=30), "the test never opened the gate"
        return super().embed_passages(texts)


@contextlib.contextmanager
def live_server(app) -> Iterator[str]:
    """Serves ``app`` with uvicorn on a free port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def assert_error(response: httpx.Response, status: int, type_: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["type"] == type_
    return body["error"]["message"]


def checked_readiness(test_client: TestClient | httpx.Client, **headers) -> httpx.Response:
    """``/api/ready`` once both background checks have reported (they run at startup)."""
    deadline = time.monotonic() + 20
    while True:
        response = test_client.get("/api/ready", headers=headers)
        body = response.json()
        if body["index"]["open"] is not None and body["llm"]["loaded"] is not None:
            return response
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


# --- /api/ask --------------------------------------------------------------------------

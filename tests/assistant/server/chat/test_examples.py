"""The example questions under the question box: the ones the settings list, else questions
about the index's newest documents from their titles in the chat's language, following
the index as it changes; none for an empty index."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import pytest
from starlette.requests import Request

import assistant.library
from assistant.feedback import FeedbackStore
from assistant.server.admission import Admission
from assistant.server.chat import build_ui
from assistant.server.chat.examples import EXAMPLES_FROM_TITLES, TITLE_CHARS, shortened
from assistant.server.ui_text import ui_text
from assistant.service import Assistant
from assistant.settings import Settings
from ingest.pipeline import ingest_paths
from tests.fakes import HashEmbedder
from tests.support.paths import PROJECT_ROOT
from tests.support.web import make_settings

# Dated articles, one a day, as a newsroom's archive holds them: "Day 1" is the oldest.
TEXT = (
    "The provincial council met on {day} March to review the harvest, the roads and the "
    "schools of the province, and heard {day} reports from its districts."
)
LONG_TITLE = (
    "Provincial council reviews the harvest, the new coastal road and the schools of all "
    "nine districts"
)


def record(day: int, title: str | None = None) -> dict:
    return {
        "id": f"day-{day}",
        "title": title or f"Council meeting, day {day}",
        "date": f"2024-03-{day:02d}",
        "language": "en",
        "text": TEXT.format(day=day),
    }


def ingest(assistant: Assistant, folder: Path, *records: dict) -> None:
    """``records`` into ``assistant``'s index, as `assistant ingest` or an upload does."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    (folder / f"{records[0]['id']}.jsonl").write_text(lines, encoding="utf-8")
    ingest_paths(
        [folder],
        assistant.settings,
        embedder=assistant.embedder,
        store=assistant.store,
        detector=assistant.detector,
        progress=False,
    )


def greet(assistant: Assistant, accept_language: str = "") -> dict:
    """The examples' update of the chat's first screen, for a browser of ``accept_language``."""
    blocks = build_ui(
        assistant,
        assistant.settings,
        Admission(assistant.settings.server),
        FeedbackStore.of(assistant.settings),
    )
    [greeting] = [f.fn for f in blocks.fns.values() if f.name == "greet"]
    headers = [(b"accept-language", accept_language.encode())] if accept_language else []
    scope = {"type": "http", "path": "/", "headers": headers, "client": ("127.0.0.9", 5000)}
    *_, examples = greeting(gr.Request(request=Request(scope)))
    return examples


def shown(examples: dict) -> list[str]:
    """The example questions an update shows."""
    return [question for [question] in examples["samples"]] if examples["visible"] else []


def make_assistant(data_dir: Path, **server) -> Assistant:
    return Assistant(make_settings(data_dir, "http://unused", **server), embedder=HashEmbedder())


@pytest.fixture
def archive(tmp_path) -> Assistant:
    """An assistant over eight dated articles, the newest with a long title."""
    assistant = make_assistant(tmp_path / "data")
    days = [record(day) for day in range(1, 8)] + [record(8, LONG_TITLE)]
    ingest(assistant, tmp_path / "archive", *days)
    return assistant


def test_the_settings_questions_are_shown_as_they_are(archive, tmp_path):
    questions = ["Wie viele Dialoge gab es in Bac Ninh?", "Who chaired the meeting on July 4?"]
    configured = make_assistant(archive.settings.data_dir, example_questions=questions)

    examples = greet(configured, "de-DE,de;q=0.9")

    assert shown(examples) == questions  # in no other language, nor about the titles
    assert examples["label"] == ui_text("de")["try_asking"]


def test_without_the_setting_the_newest_titles_are_asked_about_in_the_chats_language(archive):
    vietnamese, english = ui_text("vi")["example_question"], ui_text("en")["example_question"]
    newest = [shortened(LONG_TITLE)] + [f"Council meeting, day {day}" for day in (7, 6, 5, 4, 3)]

    assert len(newest) == EXAMPLES_FROM_TITLES
    assert shown(greet(archive, "vi")) == [vietnamese.format(title=t) for t in newest]
    assert shown(greet(archive)) == [english.format(title=t) for t in newest]
    assert english.format(title="x") == "What do the articles say about “x”?"


def test_a_newly_ingested_document_is_an_example_once_the_index_changes(
    archive, tmp_path, monkeypatch
):
    question = ui_text("en")["example_question"]
    before = shown(greet(archive))

    ingest(archive, tmp_path / "upload", record(9, "Ferry line to Con Dao opens"))
    cached = shown(greet(archive))  # the library's listing is kept a while
    archive.library.forget()  # what this process's ingest (the library's uploads) does
    after_upload = shown(greet(archive))
    ingest(archive, tmp_path / "another", record(10, "Rainy season starts early"))
    monkeypatch.setattr(assistant.library, "LISTING_MAX_AGE_S", 0.0)  # another process's,
    after_another = shown(greet(archive))  # once the listing is old enough to be read again

    assert cached == before
    assert after_upload[0] == question.format(title="Ferry line to Con Dao opens")
    assert after_upload[1:] == before[:-1]
    assert after_another[:2] == [
        question.format(title="Rainy season starts early"),
        question.format(title="Ferry line to Con Dao opens"),
    ]


def test_an_empty_index_gives_no_examples(tmp_path):
    examples = greet(make_assistant(tmp_path / "data"))

    assert examples["samples"] == [] and examples["visible"] is False


def test_an_index_that_cannot_be_listed_gives_no_examples_and_the_chat_still_loads(
    archive, monkeypatch, caplog
):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Chroma server unreachable")

    monkeypatch.setattr(archive.library, "page", unreachable)

    examples = greet(archive, "vi")

    assert examples["visible"] is False and examples["label"] == ui_text("vi")["try_asking"]
    assert "Chroma server unreachable" in caplog.text


def test_a_long_title_is_cut_at_a_word_one_without_spaces_at_a_character():
    cut = shortened(LONG_TITLE)
    chinese = "宁顺县登记了多少个巧妙群众动员模式" * 5

    assert cut == "Provincial council reviews the harvest, the new coastal road…"
    assert shortened(LONG_TITLE, 58) == "Provincial council reviews the harvest, the new coastal…"
    assert len(cut) <= TITLE_CHARS + 1 and LONG_TITLE.startswith(cut[:-1])
    assert shortened(chinese) == chinese[:TITLE_CHARS] + "…"
    assert shortened("  Rice  harvest\nends early. ") == "Rice harvest ends early"
    assert shortened("Who chaired the meeting?") == "Who chaired the meeting?"
    assert shortened("") == ""


def test_the_bundled_corpus_questions_are_set_in_the_documented_assistant_toml(
    tmp_path, monkeypatch
):
    """The product holds no question about the bundled corpus: docs/configuration.md shows
    the assistant.toml that sets them, and it is a valid one."""
    documented = (PROJECT_ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    [toml] = [block for block in re.findall(r"```toml\n(.*?)```", documented, re.S)
              if "example_questions" in block]  # fmt: skip
    (tmp_path / "assistant.toml").write_text(toml, encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CONFIG", str(tmp_path / "assistant.toml"))

    questions = Settings().server.example_questions

    assert len(questions) == 6 and all(q.endswith(("?", "？", "؟")) for q in questions)
    source = (PROJECT_ROOT / "assistant" / "server" / "chat").glob("*.py")
    assert not any(questions[0] in path.read_text(encoding="utf-8") for path in source)

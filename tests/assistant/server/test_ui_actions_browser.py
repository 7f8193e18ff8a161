"""The chat's actions on its answers in a real browser (Debian Chromium through Playwright)
against the live app: rating an answer with a comment (stored, then exported as a gold
candidate by the CLI), regenerating the last answer, and exporting the conversation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from assistant.cli import feedback as feedback_commands
from assistant.feedback import FEEDBACK_FILE, Feedback, FeedbackStore
from assistant.server.ui_text import ui_text
from tests.fake_openai import FakeOpenAIServer
from tests.support.browser import ask, screenshot
from tests.support.web import (
    VI_FOLLOW_UP,
    VI_MODELS_QUESTION,
    VI_QUESTION,
    live_server,
    make_app,
    scripted_reply,
)

pytestmark = pytest.mark.browser

VI = ui_text("vi")  # the chat's words for the Vietnamese questions


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAIServer]:
    # Tokens a little apart, so that the test sees the answer being generated.
    with FakeOpenAIServer(reply=scripted_reply, token_delay_s=0.05) as llm:
        yield llm


@pytest.fixture(scope="module")
def server_url(data_dir, model) -> Iterator[str]:
    with live_server(make_app(data_dir, model.base_url)) as url:
        yield url


def ratings(data_dir: Path, question: str) -> list[Feedback]:
    """The stored ratings of answers to ``question`` (the tests share one data directory)."""
    stored = FeedbackStore(data_dir / FEEDBACK_FILE).ratings()
    return [feedback for feedback in stored if feedback.question == question]


def answered(page: Page, question: str, count: int = 1) -> None:
    ask(page, question)
    expect(page.locator(".na-answer.na-done")).to_have_count(count)


def test_a_rating_and_its_comment_are_stored_and_exported_as_a_gold_candidate(
    page, server_url, data_dir, monkeypatch, tmp_path
):
    page.goto(f"{server_url}/")
    answered(page, VI_QUESTION)
    answer = page.locator(".na-answer.na-done")
    answer.locator("[data-rate='down']").click()
    expect(answer.locator("[data-rate='down']")).to_have_attribute("aria-pressed", "true")
    expect(answer.locator(".na-feedback-saved")).to_have_text(VI["feedback_saved"])
    answer.locator("textarea.na-comment").fill("Thiếu năm của số liệu.")
    answer.locator("[data-send-comment]").click()
    expect(answer.locator(".na-feedback-saved")).to_have_text(VI["comment_saved"])
    screenshot(page, "chat-rated")

    [stored] = ratings(data_dir, VI_QUESTION)
    assert (stored.rating, stored.comment) == ("down", "Thiếu năm của số liệu.")
    assert (stored.question, stored.language, stored.status) == (VI_QUESTION, "vi", "verified")
    assert "1.269" in stored.answer and stored.history == []
    assert [c.doc_id for c in stored.citations] == ["vi/bac-ninh.txt"]
    assert "1.269" in stored.citations[0].quote
    assert stored.settings["llm"]["model"] and stored.settings["embedding"]["model"]

    # Rated again, the same answer keeps one row, its comment kept.
    answer.locator("[data-rate='up']").click()
    expect(answer.locator("[data-rate='up']")).to_have_attribute("aria-pressed", "true")
    [restored] = ratings(data_dir, VI_QUESTION)
    assert (restored.rating, restored.comment) == ("up", "Thiếu năm của số liệu.")

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(data_dir))
    cli = typer.Typer()
    feedback_commands.register(cli)
    candidates = tmp_path / "candidates.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "--output", str(candidates)])
    assert result.exit_code == 0, result.output
    exported = map(json.loads, candidates.read_text(encoding="utf-8").splitlines())
    [candidate] = [line for line in exported if line["question"] == VI_QUESTION]
    assert candidate["feedback"]["rating"] == "up"
    assert candidate["feedback"]["comment"] == "Thiếu năm của số liệu."
    assert "1.269" in candidate["feedback"]["answer_given"]


def test_regenerate_asks_the_last_question_again_with_its_history_in_its_place(
    page, server_url, model
):
    page.goto(f"{server_url}/")
    answered(page, VI_QUESTION)
    expect(page.locator(".na-regenerate")).to_have_count(1)
    answered(page, VI_FOLLOW_UP, 2)
    # Only the last answer can be regenerated.
    expect(page.locator(".na-turn").first.locator(".na-regenerate")).to_have_count(0)
    page.locator(".na-answer").last.locator("[data-rate='up']").click()
    expect(page.locator("[aria-pressed='true']")).to_have_count(1)
    asked = len(model.requests)

    page.locator(".na-turn").last.locator(".na-regenerate").click()
    # While it is generated: no regenerate button, no Send, and the turn replaced.
    expect(page.locator(".na-answering")).to_have_count(1)
    expect(page.locator(".na-regenerate")).to_have_count(0)
    expect(page.locator("#na-send")).to_be_disabled()
    expect(page.locator(".na-turn")).to_have_count(2)

    expect(page.locator(".na-answer.na-done")).to_have_count(2)
    expect(page.locator(".na-turn")).to_have_count(2)
    expect(page.locator(".na-answer-text").last).to_contain_text("1.014")
    expect(page.locator("[aria-pressed='true']")).to_have_count(0)  # a new answer, unrated
    expect(page.locator(".na-turn").last.locator(".na-regenerate")).to_be_enabled()
    expect(page.locator("#na-send")).to_be_enabled()
    # Asked again as a follow-up: the model reads it with the question it follows
    # (answer.follow_ups = "join").
    prompts = [r["messages"][-1]["content"] for r in model.requests[asked:]]
    answering = [p for p in prompts if f"It follows the question: {VI_QUESTION}" in p]
    assert len(answering) == 1 and VI_FOLLOW_UP in answering[0]


def saved_file(page: Page, button: str) -> tuple[str, str]:
    """The name and text of the file ``button`` saves."""
    with page.expect_download() as downloading:
        page.locator(".na-download", has_text=button).click()
    download = downloading.value
    return download.suggested_filename, Path(download.path()).read_text(encoding="utf-8")


def test_the_conversation_is_exported_as_markdown_and_json_with_its_sources(page, server_url):
    page.goto(f"{server_url}/")
    answered(page, VI_QUESTION)

    name, markdown = saved_file(page, VI["export_markdown"])
    assert name.endswith(".md")
    assert markdown.startswith(f"# {VI['export_title']}\n")
    assert f"## {VI_QUESTION}\n" in markdown
    assert "1.269 cuộc đối thoại" in markdown and "[1]" in markdown
    source = next(line for line in markdown.splitlines() if line.startswith("- [1] "))
    assert "**Tỉnh Bắc Ninh đẩy mạnh công tác dân vận** (vi)" in source
    assert f"<{server_url}/documents/vi/bac-ninh.txt?start=" in source

    name, text = saved_file(page, VI["export_json"])
    assert name.endswith(".json")
    conversation = json.loads(text)
    [turn] = conversation["turns"]
    assert (turn["question"], turn["status"], turn["language"]) == (VI_QUESTION, "verified", "vi")
    assert "1.269" in turn["answer"]
    [cited] = turn["sources"]
    assert cited["marker"] == 1 and cited["title"] == "Tỉnh Bắc Ninh đẩy mạnh công tác dân vận"
    assert "1.269 cuộc đối thoại" in cited["quote"]
    assert cited["link"].startswith(f"{server_url}/documents/vi/bac-ninh.txt?start=")


def test_rating_regenerating_and_exporting_work_inside_the_embed(page, server_url, data_dir):
    page.goto(f"{server_url}/embed-demo")
    component = page.locator("#embed-component")
    component.scroll_into_view_if_needed()  # <gradio-app> renders once on screen
    ask(component, VI_MODELS_QUESTION)
    answer = component.locator(".na-answer.na-done")
    expect(answer).to_have_count(1)

    answer.locator("[data-rate='down']").click()
    expect(answer.locator(".na-feedback-saved")).to_have_text(VI["feedback_saved"])
    assert any(r.rating == "down" and not r.history for r in ratings(data_dir, VI_MODELS_QUESTION))
    component.locator(".na-regenerate").click()
    expect(component.locator(".na-answering")).to_have_count(1)
    expect(component.locator(".na-answer.na-done")).to_have_count(1)
    with page.expect_download() as downloading:
        component.locator(".na-download", has_text=VI["export_json"]).click()
    exported = json.loads(Path(downloading.value.path()).read_text(encoding="utf-8"))
    # Links to this server, not to the page that embeds the chat.
    assert exported["turns"][0]["sources"][0]["link"].startswith(f"{server_url}/documents/")

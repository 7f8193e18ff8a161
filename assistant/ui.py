"""The chat: a Gradio Blocks app whose conversation and source panel are one HTML view
rendered here from the answer stream. Everything that comes from the corpus or the model
passes through ``html.escape`` before it reaches any HTML: a news article is data, never
markup."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import quote

import gradio as gr
from fastapi import FastAPI
from starlette.requests import Request

from assistant.questions import InvalidQuestion, check_question
from assistant.types import (
    Citation,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    Passage,
    ProgressEvent,
    SourcesEvent,
    TokenEvent,
)
from ingest.types import Document

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings

STATIC_DIR = Path(__file__).parent / "static"
CHAT_JS = (STATIC_DIR / "chat.js").read_text(encoding="utf-8")
CHAT_CSS = STATIC_DIR / "chat.css"
DOCUMENT_CSS = (STATIC_DIR / "document.css").read_text(encoding="utf-8")

EXAMPLE_QUESTIONS = [
    "Bắc Ninh đã tổ chức bao nhiêu cuộc đối thoại với người dân và doanh nghiệp?",
    "宁顺县登记了多少个“巧妙群众动员”模式？",
    "متى عقدت اللجنة التنفيذية للحزب في مقاطعة ها تينه مؤتمرها؟",
    "Wie viele Dialoge mit der Bevölkerung wurden seit 2015 organisiert?",
    "Who chaired the meeting of the Provincial Party Standing Committee on July 4?",
    "Hány „ügyes tömegmozgósítási” modellt dolgozott ki Bac Ninh tartomány?",
]

ERROR_LABELS = {
    "context": "The question and its sources do not fit the language model's context",
    "bad_output": "The language model's answer could not be used",
}
UNAVAILABLE_LABEL = "The language model is unavailable"

Status = Literal["searching", "answering", "done", "not_verified", "refused", "error", "stopped"]


@dataclass
class Turn:
    """One question and what the stream has said about it so far."""

    question: str
    status: Status = "searching"
    answer: str = ""
    passages: list[Passage] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    error_kind: str = ""
    error: str = ""
    stage: str = ""  # what the answerer is doing (ProgressEvent)
    reading: int = 0  # passages the model reads


def apply_event(turn: Turn, event: Event) -> None:
    match event:
        case SourcesEvent(passages=passages):
            turn.passages = passages
            turn.status = "answering"
        case ProgressEvent(stage=stage, passages=passages):
            turn.stage, turn.reading = stage, passages
        case TokenEvent(text=text):
            turn.answer += text
        case ErrorEvent(message=message, kind=kind):
            turn.status, turn.error, turn.error_kind = "error", message, kind
        case CitationsEvent():
            turn.answer = event.answer
            turn.citations = event.citations
            if turn.status != "error":
                if event.refused:
                    turn.status = "refused"
                else:
                    turn.status = "done" if event.verified else "not_verified"
        case DoneEvent(result=result) if result.error and turn.status != "error":
            turn.status, turn.error = "error", result.error


def history_of(turns: list[Turn]) -> list[dict]:
    """The finished exchanges, as the ``history`` a follow-up question is asked with."""
    history: list[dict] = []
    for turn in turns:
        if turn.status in ("done", "not_verified", "refused"):
            history.append({"role": "user", "content": turn.question})
            history.append({"role": "assistant", "content": turn.answer})
    return history


def public_root(request: Request) -> str:
    """This application's public URL, with the prefix that a reverse proxy (``root_path``)
    or a parent application serves it under; ``request.base_url`` drops a parent's mount."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}/"


def document_url(root: str, doc_id: str, start: int | None = None, end: int | None = None) -> str:
    url = f"{root}documents/{quote(doc_id, safe='/')}"
    if start is not None and end is not None:
        url += f"?start={start}&end={end}#cited"
    return url


def _answer_html(turn: Turn, number: int) -> str:
    """The escaped answer with its [n] markers turned into links to their citation cards
    (in a "not verified" reply, to the closest evidence)."""
    citations = {c.marker: c for c in turn.citations}
    evidence = " na-evidence" if turn.status == "not_verified" else ""

    def link(match: re.Match) -> str:
        citation = citations.get(int(match.group(1)))
        if citation is None:
            return match.group(0)
        return (
            f'<a class="na-cite{evidence}" href="#" data-cite="{number}-{citation.marker}" '
            f'title="Show the source">[{citation.marker}]</a>'
        )

    return re.sub(r"\[(\d+)\]", link, html.escape(turn.answer))


def _status_html(turn: Turn) -> str:
    match turn.status:
        case "searching":
            return '<p class="na-status">Searching the articles…</p>'
        case "answering" if not turn.answer and turn.stage == "checking":
            return '<p class="na-status">Checking the answer against its sources…</p>'
        case "answering" if not turn.answer:
            return (
                f'<p class="na-status">Reading {turn.reading or "the"} passages and writing '
                "the answer…</p>"
            )
        case "not_verified":
            return (
                '<p class="na-status na-not-verified-label">Not verified: no answer could be '
                "checked against the articles</p>"
            )
        case "refused":
            return '<p class="na-status na-refused-label">Not found in the articles</p>'
        case "stopped":
            return '<p class="na-status">Stopped</p>'
        case "error":
            label = ERROR_LABELS.get(turn.error_kind, UNAVAILABLE_LABEL)
            return (
                f'<p class="na-status na-error-label">{label}. The sources found are shown.</p>'
                f'<p class="na-error-detail" dir="auto">{html.escape(turn.error)}</p>'
            )
    return ""


def _turn_html(turn: Turn, number: int) -> str:
    copy = (
        '<button type="button" class="na-copy" data-copy>Copy answer</button>'
        if turn.answer and turn.status != "answering"
        else ""
    )
    return (
        f'<article class="na-turn">'
        f'<div class="na-question" dir="auto">{html.escape(turn.question)}</div>'
        f'<div class="na-answer na-{turn.status}">{_status_html(turn)}'
        f'<div class="na-answer-text" dir="auto">{_answer_html(turn, number)}</div>'
        f"{copy}</div></article>"
    )


def _highlighted_passage(passage: Passage | None, citation: Citation) -> str:
    """The passage with the cited sentence marked; offsets are the document's, so they are
    shifted into the passage, and the quote alone is shown if it lies outside."""
    quote_html = f'<mark class="na-cited">{html.escape(citation.quote)}</mark>'
    if passage is None:
        return quote_html
    start, end = citation.start - passage.start, citation.end - passage.start
    if not 0 <= start <= end <= len(passage.text):
        found = passage.text.find(citation.quote) if citation.quote else -1
        if found < 0:
            return quote_html
        start, end = found, found + len(citation.quote)
    text = passage.text
    return (
        f'{html.escape(text[:start])}<mark class="na-cited">{html.escape(text[start:end])}'
        f"</mark>{html.escape(text[end:])}"
    )


def _citation_card(turn: Turn, number: int, citation: Citation, root: str) -> str:
    passage = next((p for p in turn.passages if p.chunk_id == citation.chunk_id), None)
    language = passage.language if passage else ""
    badge = (
        '<span class="na-badge na-evidence-badge">closest evidence, not an answer</span>'
        if turn.status == "not_verified"
        else ""
    )
    link = document_url(root, citation.doc_id, citation.start, citation.end)
    return (
        f'<div class="na-citation-card" data-card="{number}-{citation.marker}">'
        f'<div class="na-card-head">[{citation.marker}] '
        f'<span class="na-title" dir="auto">{html.escape(citation.title or citation.doc_id)}</span>'
        f"{badge}</div>"
        f'<div class="na-meta"><span class="na-doc-id">{html.escape(citation.doc_id)}</span> · '
        f'<span class="na-language">{html.escape(language)}</span></div>'
        f'<blockquote class="na-passage" dir="auto">{_highlighted_passage(passage, citation)}'
        f"</blockquote>"
        f'<a class="na-open" href="{html.escape(link)}" target="_blank" rel="noopener">'
        f"Open the whole article</a></div>"
    )


def _passage_card(passage: Passage, root: str) -> str:
    link = document_url(root, passage.doc_id, passage.start, passage.end)
    return (
        f'<div class="na-passage-card">'
        f'<div class="na-card-head"><a href="{html.escape(link)}" target="_blank" rel="noopener" '
        f'dir="auto">{html.escape(passage.title or passage.doc_id)}</a></div>'
        f'<div class="na-meta"><span class="na-doc-id">{html.escape(passage.doc_id)}</span> · '
        f'<span class="na-language">{html.escape(passage.language)}</span> · '
        f"score {passage.score:.3f}</div>"
        f'<div class="na-passage" dir="auto">{html.escape(passage.text)}</div></div>'
    )


def render_view(turns: list[Turn], root: str) -> str:
    """The whole chat view: the conversation, and beside it the cards of every citation
    (shown one at a time when its marker is clicked) and the passages of the last turn."""
    if turns:
        conversation = "".join(_turn_html(turn, n) for n, turn in enumerate(turns))
        cards = "".join(
            _citation_card(turn, n, c, root) for n, turn in enumerate(turns) for c in turn.citations
        )
        passages = "".join(_passage_card(p, root) for p in turns[-1].passages)
    else:
        conversation = (
            '<p class="na-empty">Ask a question about the news, in any language. '
            "Answers cite the articles they come from.</p>"
        )
        cards = passages = ""
    sources = passages or '<p class="na-empty">The passages found will appear here.</p>'
    return (
        f'<div class="na-layout"><section class="na-conversation" aria-live="polite">'
        f"{conversation}</section>"
        f'<aside class="na-sources"><h3>Sources</h3>{cards}{sources}</aside></div>'
    )


def render_document_page(document: Document, start: int | None, end: int | None) -> str:
    """A stand-alone page with the whole cleaned article; ``start``/``end`` mark the cited
    sentence."""
    text = document.text
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        body = (
            f'{html.escape(text[:start])}<mark id="cited">{html.escape(text[start:end])}</mark>'
            f"{html.escape(text[end:])}"
        )
    else:
        body = html.escape(text)
    title = html.escape(document.title or document.doc_id)
    rows = {
        "Document": document.doc_id,
        "Language": document.language,
        "Date": document.date,
        "URL": document.url,
    }
    meta = "".join(
        f'<dt>{name}</dt><dd dir="auto">{html.escape(value)}</dd>'
        for name, value in rows.items()
        if value
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{DOCUMENT_CSS}</style></head><body>"
        f'<h1 dir="auto">{title}</h1><dl>{meta}</dl>'
        f'<article dir="auto" lang="{html.escape(document.language)}">{body}</article>'
        f"</body></html>"
    )


def build_ui(assistant: Assistant, settings: Settings) -> gr.Blocks:
    max_chars = settings.server.max_question_chars

    def root_of(request: gr.Request) -> str:
        # Links in the view are absolute so they also work inside a <gradio-app> embedded
        # on another site.
        return public_root(request.request)

    def respond(question: str, turns: list[Turn], request: gr.Request) -> Iterator:
        if not question:
            return  # Enter on an empty box
        try:
            question = check_question(question, max_chars)
        except InvalidQuestion as error:
            raise gr.Error(str(error)) from error
        root = root_of(request)
        turn = Turn(question)
        turns = [*turns, turn]
        yield "", render_view(turns, root), turns
        events = assistant.stream(question, history=history_of(turns[:-1]))
        try:
            for event in events:
                apply_event(turn, event)
                yield "", render_view(turns, root), turns
        finally:
            # Stop cancels this generator; closing the stream ends the LLM request too.
            events.close()

    def stop(turns: list[Turn], request: gr.Request) -> tuple[str, list[Turn]]:
        for turn in turns:
            if turn.status in ("searching", "answering"):
                turn.status = "stopped"
        return render_view(turns, root_of(request)), turns

    def clear(request: gr.Request) -> tuple[str, list[Turn], str]:
        return render_view([], root_of(request)), [], ""

    with gr.Blocks(title="News assistant") as blocks:
        turns_state = gr.State([])
        view = gr.HTML(render_view([], ""), elem_id="na-view", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True):
            question = gr.Textbox(
                label="Question",
                show_label=False,
                placeholder="Ask about the news in any language…",
                lines=2,
                max_length=max_chars,
                elem_id="na-question",
                scale=1,
            )
            send = gr.Button("Send", variant="primary", elem_id="na-send", scale=0, min_width=90)
            stop_button = gr.Button(
                "Stop", variant="stop", elem_id="na-stop", scale=0, min_width=90
            )
            clear_button = gr.Button("Clear", elem_id="na-clear", scale=0, min_width=90)
        gr.Examples([[q] for q in EXAMPLE_QUESTIONS], inputs=[question], label="Try asking")

        outputs = [question, view, turns_state]
        asked = [
            send.click(respond, [question, turns_state], outputs, show_progress="hidden"),
            question.submit(respond, [question, turns_state], outputs, show_progress="hidden"),
        ]
        stop_button.click(stop, [turns_state], [view, turns_state], cancels=asked)
        clear_button.click(clear, None, [view, turns_state, question], cancels=asked)
    return blocks


def mount_ui(app: FastAPI, assistant: Assistant, settings: Settings) -> None:
    """Mounts the chat at the application's root."""
    # No Gradio auth: api.py guards the UI with HTTP basic auth in front of Gradio.
    gr.mount_gradio_app(
        app,
        build_ui(assistant, settings),
        path="/",
        root_path=settings.server.root_path or None,
        footer_links=[],
        run_history=False,
        css_paths=[CHAT_CSS],
    )

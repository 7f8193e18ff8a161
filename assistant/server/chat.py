"""The chat: a Gradio Blocks app whose conversation and source panel are one HTML view,
rendered from the answer stream by the autoescaped template ``prompts/html/chat_view.html``:
a news article is data, never markup.

While the answer is written, its key fact (``KeyFactEvent``: the figure or name the
extractive reader read off a sentence, before the model writes) is shown on a card with
its sentence, labelled "checking…" until the answer ends and says whether it is verified.

The view's own controls (rating an answer, regenerating the last one, translating a cited
sentence) are events of the view itself: chat.js calls Gradio's ``trigger("like", ...)``,
``trigger("retry", ...)`` and ``trigger("expand", ...)`` with the answer's or the turn's
id, and the handlers find the answer, or the citation by its marker, in the session's
turns. So the server rates, re-asks and translates what it showed, never text a page
sends; the controls go through Gradio's API, guarded like the rest of the chat
(``security.Access``), and work inside a ``<gradio-app>`` embed as the chat does; their
state (the rating, the comment, a translation) is the turn's, so the view re-rendered on
every update shows it. Exporting the conversation needs no server: the view carries it as
Markdown and JSON, and chat.js saves them."""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

import gradio as gr
from fastapi import FastAPI

from assistant.feedback import (
    MAX_COMMENT_CHARS,
    CitedSentence,
    Feedback,
    FeedbackStore,
    FeedbackStoreError,
    InvalidFeedback,
    answer_id,
    answer_settings,
)
from assistant.languages import DEFAULT_LANGUAGE
from assistant.llms import LLMError
from assistant.questions import InvalidQuestion, check_question
from assistant.server.admission import Admission, Busy
from assistant.server.generation import client_of
from assistant.server.public import public_events
from assistant.server.templates import STATIC_DIR, render, render_markdown, static_text
from assistant.server.ui_text import accepted_language, chat_language, ui_languages, ui_text
from assistant.server.urls import document_url, public_root
from assistant.translation import NoSuchSentence
from assistant.types import (
    Citation,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    KeyFact,
    KeyFactEvent,
    KeyFactStatus,
    Passage,
    ProgressEvent,
    SourcesEvent,
    TokenEvent,
)

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import Settings

logger = logging.getLogger(__name__)

CHAT_JS = static_text("chat.js")
CHAT_CSS = STATIC_DIR / "chat.css"

EXAMPLE_QUESTIONS = [
    "Bắc Ninh đã tổ chức bao nhiêu cuộc đối thoại với người dân và doanh nghiệp?",
    "宁顺县登记了多少个“巧妙群众动员”模式？",
    "متى عقدت اللجنة التنفيذية للحزب في مقاطعة ها تينه مؤتمرها؟",
    "Wie viele Dialoge mit der Bevölkerung wurden seit 2015 organisiert?",
    "Who chaired the meeting of the Provincial Party Standing Committee on July 4?",
    "Hány „ügyes tömegmozgósítási” modellt dolgozott ki Bac Ninh tartomány?",
]

# The catalogue's label of a model failure, by ErrorEvent kind; any other: unavailable.
ERROR_LABELS = {"context": "error_context", "bad_output": "error_bad_output"}
MARKER = re.compile(r"\[(\d+)\]")
QUEUE_POLL_S = 0.5  # how often a waiting question's place in the queue is shown again

Status = Literal[
    "busy",
    "queued",
    "searching",
    "answering",
    "done",
    "not_verified",
    "refused",
    "error",
    "stopped",
]
IN_PROGRESS: tuple[Status, ...] = ("queued", "searching", "answering")
# An answer the asker can rate and a follow-up builds on, by its public name.
ANSWERED: dict[Status, str] = {
    "done": "verified",
    "not_verified": "not_verified",
    "refused": "refused",
}
# How every other turn ends, by its public name; the last one can be asked again.
UNANSWERED: dict[Status, str] = {"error": "error", "stopped": "stopped", "busy": "busy"}
# Where the links of an exported conversation start: chat.js puts the app's own address
# there when the file is saved, as the server does not know it (``urls``).
EXPORT_ROOT = "{app-root}/"
FACT_CARD_MARKER = 0  # the key fact card's citation's marker (the answer's start at 1)

TranslationStatus = Literal["translating", "done", "failed"]
Span = tuple[str, int, int]  # a cited sentence: its document's id and offsets


@dataclass
class ShownTranslation:
    """A cited sentence machine translated for the asker (``language``), as the turn
    shows it under the sentence; when it ``failed``, ``problem`` is the catalogue's word
    for why (a busy queue: ``wait_s`` seconds to wait)."""

    language: str
    status: TranslationStatus = "translating"
    text: str = ""
    problem: str = ""
    wait_s: int = 0


@dataclass
class Turn:
    """One question and what the stream has said about it so far; ``turn_id`` names it
    to the view's controls for as long as it is in the conversation (the answer's id
    changes as the answer is written)."""

    question: str
    status: Status = "searching"
    answer: str = ""
    passages: list[Passage] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    error_kind: str = ""  # the ErrorEvent's kind; when busy, the Busy reason
    error: str = ""
    stage: str = ""  # what the answerer is doing (ProgressEvent)
    reading: int = 0  # passages the model reads
    queue_position: int = 0  # while queued: 1 = next
    wait_s: int = 0  # while queued: about how long until it is answered; busy: to retry
    dates: dict[str, str] = field(default_factory=dict)  # the sources' dates, by doc_id
    language: str = ""  # the question's, once known
    history: History = field(default_factory=list)  # the conversation it is asked in
    rating: str = ""  # the asker's: "up" or "down" once rated
    comment: str = ""  # the asker's comment on the answer, once sent
    key_fact: KeyFact | None = None  # the extractive reader's, once it was confident
    translations: dict[Span, ShownTranslation] = field(default_factory=dict)
    turn_id: str = field(default_factory=lambda: secrets.token_hex(8))

    @property
    def answer_id(self) -> str:
        """What names this answer in the feedback store (``assistant.feedback``)."""
        return answer_id(self.question, self.history, self.answer)


def apply_event(turn: Turn, event: Event) -> None:
    """Updates ``turn`` with one event of the answer stream."""
    match event:
        case SourcesEvent(passages=passages, language=language):
            turn.passages, turn.language = passages, language
            turn.status = "answering"
        case ProgressEvent(stage=stage, passages=passages):
            # A token's event of a short reading (the figure check) counts no passages.
            turn.stage, turn.reading = stage, passages or turn.reading
        case KeyFactEvent(key_fact=key_fact):
            # A copy: the answerer settles its own key fact's status as it checks the answer,
            # and the card says so only when the answer ends (CitationsEvent).
            turn.key_fact = replace(key_fact)
        case TokenEvent(text=text):
            turn.answer += text
        case ErrorEvent(message=message, kind=kind):
            turn.status, turn.error, turn.error_kind = "error", message, kind
        case CitationsEvent():
            turn.answer = event.answer
            turn.citations = event.citations
            if event.key_fact is not None:
                turn.key_fact = replace(event.key_fact)
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
        if turn.status in ANSWERED:
            history.append({"role": "user", "content": turn.question})
            history.append({"role": "assistant", "content": turn.answer})
    return history


@dataclass
class AnswerPart:
    """A piece of an answer's text; ``cite`` (turn-marker) makes it a citation link."""

    text: str
    cite: str = ""


@dataclass
class Highlight:
    """A passage split around its cited sentence."""

    before: str
    cited: str
    after: str


def answer_parts(turn: Turn, number: int) -> list[AnswerPart]:
    """The answer with its [n] markers as links to their citation cards (in a "not
    verified" reply, to the closest evidence); markers citing nothing stay text."""
    citations = {c.marker: c for c in turn.citations}
    parts, last = [], 0
    for match in MARKER.finditer(turn.answer):
        citation = citations.get(int(match.group(1)))
        if citation is None:
            continue
        parts.append(AnswerPart(turn.answer[last : match.start()]))
        parts.append(AnswerPart(f"[{citation.marker}]", f"{number}-{citation.marker}"))
        last = match.end()
    parts.append(AnswerPart(turn.answer[last:]))
    return parts


def highlighted_passage(passage: Passage | None, citation: Citation) -> Highlight:
    """The passage with the cited sentence marked; offsets are the document's, so they are
    shifted into the passage, and the quote alone is shown if it lies outside."""
    quote_only = Highlight("", citation.quote, "")
    if passage is None:
        return quote_only
    start, end = citation.start - passage.start, citation.end - passage.start
    if not 0 <= start <= end <= len(passage.text):
        found = passage.text.find(citation.quote) if citation.quote else -1
        if found < 0:
            return quote_only
        start, end = found, found + len(citation.quote)
    text = passage.text
    return Highlight(text[:start], text[start:end], text[end:])


def key_fact_status(turn: Turn) -> KeyFactStatus:
    """What the key fact card says of the turn's key fact: "checking" only while the answer
    is written; a key fact whose answer was stopped before its end was never confirmed."""
    assert turn.key_fact is not None
    status = turn.key_fact.status
    return "not_verified" if status == "checking" and turn.status not in IN_PROGRESS else status


def article_language(turn: Turn, doc_id: str) -> str:
    """The language of a turn's source article (its passages'), "" when none was found."""
    return next((p.language for p in turn.passages if p.doc_id == doc_id), "")


def asker_language(turn: Turn, chat: str) -> str:
    """The language a turn's cited sentences are translated into: its question's, when the
    chat has words for it (its "Show in …" button is labelled in it), else the chat's."""
    return turn.language if turn.language in ui_languages() else chat


def span_of(citation: Citation) -> Span:
    """What names a cited sentence's translation on its turn: the key fact card and a source
    card citing the same sentence show the same one."""
    return citation.doc_id, citation.start, citation.end


def cited_sentence(turn: Turn, marker: object) -> Citation | None:
    """The citation of ``turn`` with ``marker`` (as a page sends it: FACT_CARD_MARKER for
    the key fact's sentence), None when the turn shows none."""
    if turn.key_fact is not None and str(marker) == str(FACT_CARD_MARKER):
        return turn.key_fact.citation
    return next((c for c in turn.citations if str(c.marker) == str(marker)), None)


def translation_view(
    turn: Turn, citation: Citation, language: str, text: dict[str, str]
) -> dict | None:
    """What a cited sentence's card shows of its translation into the asker's language: a
    "Show in …" button (in that language), "translating…", the translation, or why it
    failed with the button again; None when the article is in the asker's language, or
    its language is not known."""
    source = article_language(turn, citation.doc_id)
    target = asker_language(turn, language)
    if source in ("", "und") or source == target:
        return None
    shown = turn.translations.get(span_of(citation))
    if shown is not None and shown.language != target:
        shown = None  # translated into the chat's language before its question set another
    note = ""
    if shown is not None and shown.status == "failed":
        note = text[shown.problem].format(seconds=shown.wait_s)
    words = ui_text(target)
    return {
        "turn_id": turn.turn_id,
        "marker": citation.marker,
        "language": target,
        "dir": words["dir"],
        "label": words["show_in_language"],
        "shown": shown,
        "note": note,
    }


def key_fact_view(turn: Turn, root: str, language: str, text: dict[str, str]) -> dict | None:
    """The key fact card: the fact, its status, its sentence with the fact marked, the link
    that opens the article at that sentence and the sentence's translation."""
    if turn.key_fact is None:
        return None
    fact, citation = turn.key_fact, turn.key_fact.citation
    found = citation.quote.find(fact.text) if fact.text else -1
    quote = Highlight(citation.quote, "", "")
    if found >= 0:
        end = found + len(fact.text)
        quote = Highlight(citation.quote[:found], fact.text, citation.quote[end:])
    source = article_language(turn, citation.doc_id)
    return {
        "text": fact.text,
        "status": key_fact_status(turn),
        "quote": quote,
        "language": source if source not in ("", "und") else "",
        "title": citation.title,
        "link": document_url(root, citation.doc_id, citation.start, citation.end),
        "translation": translation_view(turn, citation, language, text),
    }


RelevanceLevel = Literal["high", "medium", "low"]


def relevance_levels(passages: list[Passage]) -> dict[str, RelevanceLevel]:
    """Each passage's relevance (by chunk id) as a word a reader understands, for the raw
    fusion scores mean nothing on their own: where a score lies between the turn's
    weakest (low) and strongest (high) passage."""
    if not passages:
        return {}
    best, worst = max(p.score for p in passages), min(p.score for p in passages)
    spread = best - worst
    levels: dict[str, RelevanceLevel] = {}
    for passage in passages:
        position = (passage.score - worst) / spread if spread else 1.0
        levels[passage.chunk_id] = (
            "high" if position >= 2 / 3 else "medium" if position >= 1 / 3 else "low"
        )
    return levels


@dataclass
class SourceDocument:
    """An article of a turn's sources: its citations, numbered as the answer's markers,
    then the other passages found in it; ``relevance`` is its best passage's."""

    title: str
    language: str
    date: str
    link: str
    relevance: RelevanceLevel
    citations: list[dict] = field(default_factory=list)
    passages: list[dict] = field(default_factory=list)


RELEVANCE_ORDER: dict[RelevanceLevel, int] = {"low": 0, "medium": 1, "high": 2}


def source_documents(
    turn: Turn, number: int, root: str, language: str = DEFAULT_LANGUAGE
) -> list[SourceDocument]:
    """The turn's sources grouped by article: the cited articles first, in the order of
    their first marker, then the others in the order retrieval ranked them; a citation in
    another language than the asker's can be translated (in the chat's ``language``)."""
    text = ui_text(language)
    levels = relevance_levels(turn.passages)
    passages = {p.chunk_id: p for p in turn.passages}
    documents: dict[str, SourceDocument] = {}

    def document_of(doc_id: str, title: str, language: str) -> SourceDocument:
        if doc_id not in documents:
            documents[doc_id] = SourceDocument(
                title=title,
                language=language,
                date=turn.dates.get(doc_id, ""),
                link=document_url(root, doc_id),
                relevance="low",
            )
        return documents[doc_id]

    def rate(document: SourceDocument, chunk_id: str) -> None:
        level = levels.get(chunk_id, "low")
        if RELEVANCE_ORDER[level] > RELEVANCE_ORDER[document.relevance]:
            document.relevance = level

    for citation in sorted(turn.citations, key=lambda c: c.marker):
        passage = passages.get(citation.chunk_id)
        source_language = passage.language if passage else ""
        document = document_of(citation.doc_id, citation.title, source_language)
        rate(document, citation.chunk_id)
        document.citations.append(
            {
                "key": f"{number}-{citation.marker}",
                "marker": citation.marker,
                "highlight": highlighted_passage(passage, citation),
                "link": document_url(root, citation.doc_id, citation.start, citation.end),
                "translation": translation_view(turn, citation, language, text),
            }
        )
    cited = {c.chunk_id for c in turn.citations}
    for passage in turn.passages:
        document = document_of(passage.doc_id, passage.title, passage.language)
        rate(document, passage.chunk_id)
        if passage.chunk_id not in cited:
            link = document_url(root, passage.doc_id, passage.start, passage.end)
            document.passages.append({"passage": passage, "link": link})
    return list(documents.values())


def view_language(turns: list[Turn], accepted: str) -> str:
    """The chat's language: the last question's (``ui_text.chat_language``)."""
    asked = next((turn.language for turn in reversed(turns) if turn.language), None)
    return chat_language(asked, accepted)


def exported_conversation(turns: list[Turn], root: str) -> dict:
    """The conversation as the chat exports it in JSON (docs/evaluation.md shows it):
    ``{"format": "news-assistant-conversation", "version": 1, "turns": [...]}``, a turn
    ``{"question", "language", "status", "answer", "key_fact", "sources"}`` where
    ``status`` is verified, not_verified, refused, error, stopped or busy, and ``sources``
    are the answer's citations, numbered as its [n] markers: ``{"marker", "doc_id",
    "title", "language", "date", "quote", "link", "translation"}``, the link opening the
    article at the cited sentence, ``translation`` null or the sentence's machine
    translation the asker asked for, ``{"text", "language", "machine_translation": true}``.
    ``key_fact`` is null or the card's ``{"text", "kind", "status", "doc_id", "title",
    "language", "quote", "link", "translation"}``, its status verified or not_verified.
    ``turns`` are finished ones (none in IN_PROGRESS)."""

    def translation(turn: Turn, citation: Citation) -> dict | None:
        shown = turn.translations.get(span_of(citation))
        if shown is None or shown.status != "done":
            return None
        return {"text": shown.text, "language": shown.language, "machine_translation": True}

    def source(turn: Turn, citation: Citation) -> dict:
        passage = next((p for p in turn.passages if p.chunk_id == citation.chunk_id), None)
        return {
            "marker": citation.marker,
            "doc_id": citation.doc_id,
            "title": citation.title,
            "language": passage.language if passage else "",
            "date": turn.dates.get(citation.doc_id, ""),
            "quote": citation.quote,
            "link": document_url(root, citation.doc_id, citation.start, citation.end),
            "translation": translation(turn, citation),
        }

    def key_fact(turn: Turn) -> dict | None:
        if turn.key_fact is None:
            return None
        citation = turn.key_fact.citation
        return {
            "text": turn.key_fact.text,
            "kind": turn.key_fact.kind,
            "status": key_fact_status(turn),
            "doc_id": citation.doc_id,
            "title": citation.title,
            "language": article_language(turn, citation.doc_id),
            "quote": citation.quote,
            "link": document_url(root, citation.doc_id, citation.start, citation.end),
            "translation": translation(turn, citation),
        }

    statuses = ANSWERED | UNANSWERED
    exported = [
        {
            "question": turn.question,
            "language": turn.language,
            "status": statuses[turn.status],
            "answer": turn.answer,
            "key_fact": key_fact(turn),
            "sources": [source(turn, c) for c in sorted(turn.citations, key=lambda c: c.marker)],
        }
        for turn in turns
    ]
    return {"format": "news-assistant-conversation", "version": 1, "turns": exported}


def status_note(turn: Turn, text: dict[str, str]) -> str:
    """What the chat says of a finished turn beside its answer, in the view and in the
    exported conversation: why it is not a checked answer."""
    match turn.status:
        case "not_verified" | "refused" | "stopped":
            return text[turn.status]
        case "error":
            return text[ERROR_LABELS.get(turn.error_kind, "error_unavailable")]
        case "busy":
            return text[f"busy_{turn.error_kind}"].format(seconds=turn.wait_s)
    return ""


def render_view(turns: list[Turn], root: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The whole chat view in ``language``: the conversation, and beside it each turn's
    sources grouped by article (the last turn's shown; a marker of another turn shows that
    turn's). ``root`` is what the links to the article pages and the library start with.
    Each answer can be rated; once nothing is being answered, the last turn can be asked
    again and the conversation exported (as Markdown and JSON, its links starting with
    EXPORT_ROOT)."""
    text = ui_text(language)
    idle = not any(turn.status in IN_PROGRESS for turn in turns)
    items = [
        {
            "turn": turn,
            "number": number,
            "parts": answer_parts(turn, number),
            "evidence": turn.status == "not_verified",
            "copyable": bool(turn.answer) and turn.status != "answering",
            "rateable": turn.status in ANSWERED,
            "regenerable": idle and number == len(turns) - 1,
            "note": status_note(turn, text),
            "key_fact": key_fact_view(turn, root, language, text),
            "sources": source_documents(turn, number, root, language),
        }
        for number, turn in enumerate(turns)
    ]
    export = None
    if idle and turns:
        conversation = exported_conversation(turns, EXPORT_ROOT)
        noted = zip(conversation["turns"], [status_note(t, text) for t in turns], strict=True)
        export = {
            "root": root,
            "root_mark": EXPORT_ROOT,
            "json": json.dumps(conversation, ensure_ascii=False, indent=2),
            "markdown": render_markdown("conversation.md", turns=list(noted), text=text),
        }
    return render(
        "chat_view.html",
        turns=items,
        text=text,
        language=language,
        export=export,
        root=root,
        max_comment_chars=MAX_COMMENT_CHARS,
    )


def article_dates(assistant: Assistant, passages: list[Passage]) -> dict[str, str]:
    """The dates of the passages' articles, by doc_id, where the articles give one."""
    dates = {}
    for doc_id in dict.fromkeys(p.doc_id for p in passages):
        document = assistant.document(doc_id)
        if document is not None and document.date:
            dates[doc_id] = document.date
    return dates


def event_value(event: gr.EventData, name: str) -> object:
    """What chat.js sent as ``name`` with a view's event, None when it sent nothing."""
    data = event._data  # EventData's attributes raise on a missing name, or on no data
    return data.get(name) if isinstance(data, dict) else None


def build_ui(
    assistant: Assistant, settings: Settings, admission: Admission, feedback: FeedbackStore
) -> gr.Blocks:
    """The chat's Gradio Blocks: the view, the question box, Send, Stop, Clear and
    example questions. Questions take their turn with the API's in ``admission``; the
    answers' ratings go to ``feedback``."""
    max_chars = settings.server.max_question_chars

    def root_of(request: gr.Request) -> str:
        # Relative to this server unless server.public_url is set; chat.js resolves them
        # against the app's own address inside a <gradio-app> on another site.
        return public_root(request.request, settings.server.public_url)

    def language_of(request: gr.Request, turns: list[Turn]) -> str:
        return view_language(turns, accepted_language(request.headers.get("accept-language")))

    def screen(
        request: gr.Request, turns: list[Turn], *, generating: bool, box: str | None = None
    ) -> tuple:
        """The question box (emptied to ``box`` unless None), the view, the turns, Send,
        Stop, Clear and the examples, in the chat's language; Send disabled and Stop
        enabled only while an answer is generated."""
        language = language_of(request, turns)
        text = ui_text(language)
        emptied = {} if box is None else {"value": box}
        return (
            gr.update(placeholder=text["placeholder"], label=text["question_label"], **emptied),
            render_view(turns, root_of(request), language),
            turns,
            gr.update(value=text["send"], interactive=not generating),
            gr.update(value=text["stop"], interactive=generating),
            gr.update(value=text["clear"]),
            gr.update(label=text["try_asking"]),
        )

    def respond(question: str, turns: list[Turn], request: gr.Request) -> Iterator[tuple]:
        if not question:
            return  # Enter on an empty box
        try:
            question = check_question(question, max_chars)
        except InvalidQuestion as error:  # never "not_text": the box sends text
            text = ui_text(language_of(request, turns))
            message = text[f"question_{error.problem}"].format(**error.details)
            raise gr.Error(message, title=text["question_not_sent"]) from error
        # The session's list itself grows (and regenerate replaces its last turn), so that
        # a translation that ends later renders the conversation as it is then.
        turns.append(Turn(question, history=history_of(turns)))
        # The box is emptied once the question is taken; what is typed meanwhile then stays.
        yield from answer_last(turns, request, "")

    def regenerate(turns: list[Turn], event: gr.EventData, request: gr.Request) -> Iterator[tuple]:
        """The last question asked again with the same history, its new answer replacing
        the last turn; nothing when ``event`` names another answer or one is generated."""
        last = turns[-1] if turns else None
        if (
            last is None
            or last.status not in ANSWERED | UNANSWERED
            or last.answer_id != event_value(event, "answer")
        ):
            return
        turns[-1] = Turn(last.question, history=last.history)
        # The question box is left as it is: the asker may be typing the next question.
        yield from answer_last(turns, request)

    def answer_last(
        turns: list[Turn], request: gr.Request, box: str | None = None
    ) -> Iterator[tuple]:
        """Answers the last of ``turns`` once ``admission`` lets it, the screen updated as
        the answer comes; the question box emptied to ``box`` unless None."""
        turn = turns[-1]
        # Known at once (a few milliseconds), so that the chat speaks the question's language
        # while it waits in the queue too; the answer is then asked in it.
        turn.language = assistant.answerer.detect_language(turn.question, turn.history)
        try:
            ticket = admission.admit(client_of(request.request))
        except Busy as busy:
            turn.status, turn.error_kind, turn.wait_s = "busy", busy.reason, busy.retry_after_s
            yield screen(request, turns, generating=False)  # the question stays to resend
            return
        shown = None

        def changed() -> tuple | None:
            nonlocal box, shown
            update = screen(request, turns, generating=True, box=box)
            if update[1] == shown:  # every model token is an event; most change nothing
                return None
            box, shown = None, update[1]
            return update

        try:
            while not ticket.granted.is_set():
                turn.status, turn.queue_position = "queued", admission.position(ticket)
                turn.wait_s = admission.expected_wait_s(turn.queue_position)
                if update := changed():
                    yield update
                ticket.granted.wait(QUEUE_POLL_S)
            turn.status = "searching"
            if update := changed():
                yield update
            events = public_events(
                assistant.stream(turn.question, history=turn.history, language=turn.language)
            )
            try:
                for event in events:
                    apply_event(turn, event)
                    if isinstance(event, SourcesEvent):
                        turn.dates = article_dates(assistant, event.passages)
                    if update := changed():
                        yield update
            finally:
                # Stop cancels this generator; closing the stream ends the LLM request too.
                events.close()
            yield screen(request, turns, generating=False)
        finally:
            admission.release(ticket)

    def rate(turns: list[Turn], event: gr.EventData, request: gr.Request) -> str:
        """Stores the asker's rating of an answer (``event``: the answer's id, ``rating``
        and, when sent, ``comment``; without one the earlier comment stays); the view."""
        rated_id = event_value(event, "answer")
        turn = next((t for t in turns if t.status in ANSWERED and t.answer_id == rated_id), None)
        if turn is None:  # a page that sends what the chat never showed, or a stale one
            raise gr.Error(ui_text(language_of(request, turns))["feedback_no_such_answer"])
        comment = event_value(event, "comment")
        rated = Feedback(
            question=turn.question,
            history=turn.history,
            answer=turn.answer,
            status=ANSWERED[turn.status],
            citations=[CitedSentence(c.marker, c.doc_id, c.quote) for c in turn.citations],
            language=turn.language,
            rating=event_value(event, "rating"),
            comment=turn.comment if comment is None else comment,
            settings=answer_settings(settings),
        )
        try:
            feedback.record(rated)
        except (InvalidFeedback, FeedbackStoreError) as error:
            # The reader gets their language; the cause, naming the field or the file, is
            # for the server's log.
            logger.warning("A rating was not stored: %s", error)
            text = ui_text(language_of(request, turns))
            raise gr.Error(text["feedback_not_saved"]) from error
        turn.rating, turn.comment = rated.rating, rated.comment
        return render_view(turns, root_of(request), language_of(request, turns))

    def translate(turns: list[Turn], event: gr.EventData, request: gr.Request) -> Iterator[str]:
        """Machine translates a cited sentence into the asker's language (``event``: the
        turn's id and the citation's marker, FACT_CARD_MARKER for the key fact's): the view
        with "translating…", then with the translation under the sentence, or why not. The
        sentence is the one the turn cites, read from the stored article; a new
        translation waits its turn for the model with the answers."""
        chat = language_of(request, turns)
        turn = next((t for t in turns if t.turn_id == event_value(event, "turn")), None)
        citation = cited_sentence(turn, event_value(event, "cite")) if turn else None
        if citation is None or translation_view(turn, citation, chat, ui_text(chat)) is None:
            # A page that sends what the chat never showed (no such turn or citation, or a
            # sentence in the asker's language, which has no button).
            raise gr.Error(ui_text(chat)["feedback_no_such_answer"])
        language = asker_language(turn, chat)
        shown = turn.translations.get(span_of(citation))
        if shown is not None and shown.language == language and shown.status != "failed":
            return  # asked twice
        turn.translations[span_of(citation)] = ShownTranslation(language)
        yield render_view(turns, root_of(request), chat)
        turn.translations[span_of(citation)] = translated(citation, language, request)
        yield render_view(turns, root_of(request), language_of(request, turns))

    def translated(citation: Citation, language: str, request: gr.Request) -> ShownTranslation:
        """The cited sentence in ``language``: kept from before, else from the model once
        ``admission`` lets it (all in one step of ``translate``, so that the slot is given
        back even when Clear cancels the rest)."""
        failed = ShownTranslation(language, "failed", problem="translation_failed")
        translator = assistant.translator
        try:
            sentence = translator.sentence(citation.doc_id, citation.start, citation.end)
            if (found := translator.cached(sentence, language)) is not None:
                return ShownTranslation(language, "done", found.text)
        except NoSuchSentence as error:  # the article was replaced since it was cited
            logger.warning("A cited sentence was not translated: %s", error)
            return failed
        try:
            ticket = admission.admit(client_of(request.request))
        except Busy as busy:
            return replace(failed, problem=f"busy_{busy.reason}", wait_s=busy.retry_after_s)
        try:
            ticket.granted.wait()
            found = assistant.translate(citation.doc_id, citation.start, citation.end, language)
        except (LLMError, NoSuchSentence) as error:
            logger.warning("A cited sentence was not translated: %s", error)
            return failed
        finally:
            admission.release(ticket)
        return ShownTranslation(language, "done", found.text)

    def stop(turns: list[Turn], request: gr.Request) -> tuple:
        for turn in turns:
            if turn.status in IN_PROGRESS:
                turn.status = "stopped"
        return screen(request, turns, generating=False)

    def clear(turns: list[Turn], request: gr.Request) -> tuple:
        turns.clear()  # the session's list: a translation that ends later finds it empty
        return screen(request, turns, generating=False, box="")

    def greet(request: gr.Request) -> tuple:
        """The empty chat in the browser's language."""
        return screen(request, [], generating=False)

    # Until the page has loaded (greet), the chat is in English.
    text = ui_text(DEFAULT_LANGUAGE)
    with gr.Blocks(title=text["product_name"]) as blocks:
        turns_state = gr.State([])
        view = gr.HTML(render_view([], ""), elem_id="na-view", js_on_load=CHAT_JS)
        with gr.Row(equal_height=True, elem_id="na-input"):
            question = gr.Textbox(
                label=text["question_label"],
                show_label=False,
                placeholder=text["placeholder"],
                # One line that grows: Gradio sends a one-line box on Enter and leaves
                # Shift+Enter to the textarea, a new line (a taller box sends on Shift+Enter).
                lines=1,
                max_lines=8,
                max_length=max_chars,
                elem_id="na-question",
                scale=1,
            )
            send = gr.Button(
                text["send"], variant="primary", elem_id="na-send", scale=0, min_width=90
            )
            stop_button = gr.Button(
                text["stop"],
                variant="stop",
                elem_id="na-stop",
                scale=0,
                min_width=90,
                interactive=False,
            )
            clear_button = gr.Button(text["clear"], elem_id="na-clear", scale=0, min_width=90)
        examples = gr.Examples(
            [[q] for q in EXAMPLE_QUESTIONS], inputs=[question], label=text["try_asking"]
        )

        chat = [question, view, turns_state, send, stop_button, clear_button, examples.dataset]
        # One listener for Send and Enter, so that Enter while an answer is generated (Send
        # is disabled then) is ignored as a second click would be ("once"). No limit of
        # Gradio's own: the admission queue, shared with the API, is the limit, and it
        # shows the asker their place in it (Gradio's own, hidden, would not).
        asked = gr.on(
            [send.click, question.submit],
            respond,
            [question, turns_state],
            chat,
            show_progress="hidden",
            concurrency_limit=None,
            trigger_mode="once",
        )
        # The view's own controls (chat.js): Stop and Clear end a regenerated answer too.
        regenerated = view.retry(
            regenerate,
            [turns_state],
            chat,
            show_progress="hidden",
            concurrency_limit=None,
            trigger_mode="once",
        )
        # A rating changed quickly (👍 then 👎) counts as the last one clicked.
        view.like(rate, [turns_state], [view], show_progress="hidden", trigger_mode="always_last")
        # Each sentence's translation as it is asked for; the admission queue is the limit.
        translating = view.expand(
            translate,
            [turns_state],
            [view],
            show_progress="hidden",
            concurrency_limit=None,
            trigger_mode="multiple",
        )
        stop_button.click(stop, [turns_state], chat, cancels=[asked, regenerated])
        clear_button.click(clear, [turns_state], chat, cancels=[asked, regenerated, translating])
        blocks.load(greet, None, chat, show_progress="hidden")
    return blocks


def mount_ui(
    app: FastAPI,
    assistant: Assistant,
    settings: Settings,
    admission: Admission,
    feedback: FeedbackStore,
) -> None:
    """Mounts the chat at the application's root."""
    # No Gradio auth: the middleware guards the UI with HTTP basic auth in front of Gradio.
    gr.mount_gradio_app(
        app,
        build_ui(assistant, settings, admission, feedback),
        path="/",
        # Gradio writes its own root URL into its config: from public_url when set (a full
        # URL is used as it is), else from the request, as Gradio does.
        root_path=settings.server.public_url or settings.server.root_path or None,
        footer_links=[],
        run_history=False,
        css_paths=[CHAT_CSS],
    )

"""`assistant ask` and `assistant chat`: answers streamed to the terminal, then the checked
citations with the sentence each one quotes."""

from __future__ import annotations

import json
from collections.abc import Iterable

import typer

from assistant.questions import InvalidQuestion
from assistant.service import Assistant
from assistant.types import (
    Answer,
    CitationsEvent,
    DoneEvent,
    ErrorEvent,
    Event,
    History,
    TokenEvent,
)

QUOTE_CHARS = 240  # a cited sentence as a terminal line shows it, about three lines
CHAT_COMMANDS = "/clear forgets the conversation, /exit leaves."

LanguageOption = typer.Option(
    None, "--lang", help="Answer in this language (ISO 639-1 code) instead of the question's."
)
KOption = typer.Option(
    None, "--k", min=1, help="Passages to retrieve; their most relevant sentences are sent."
)


def shorten(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def print_stream(events: Iterable[Event]) -> Answer:
    """Show tokens as they come, then what the check changed and the sources."""
    streamed = ""
    for event in events:
        if isinstance(event, TokenEvent):
            streamed += event.text
            typer.echo(event.text, nl=False)
        elif isinstance(event, ErrorEvent):
            typer.echo(("\n" if streamed else "") + f"Error: {event.message}", err=True)
        elif isinstance(event, CitationsEvent):
            typer.echo()
            if event.answer and event.answer.strip() != streamed.strip():
                typer.echo(f"\nChecked answer:\n{event.answer}")
        elif isinstance(event, DoneEvent):
            print_sources(event.result)
            return event.result
    raise RuntimeError("the answer stream ended without a result")


def print_sources(answer: Answer) -> None:
    if answer.citations and not answer.verified:
        typer.echo("\nClosest evidence (not verified as an answer):")
        for citation in answer.citations:
            title = f" — {citation.title}" if citation.title else ""
            typer.echo(f"[{citation.marker}] {citation.doc_id}{title}")
            typer.echo(f"    “{shorten(citation.quote)}”")
    elif answer.citations:
        typer.echo("\nSources:")
        for citation in answer.citations:
            flag = "" if citation.supported else " (not supported by this passage)"
            title = f" — {citation.title}" if citation.title else ""
            typer.echo(f"[{citation.marker}] {citation.doc_id}{title}{flag}")
            typer.echo(f"    “{shorten(citation.quote)}”")
    elif answer.error and answer.passages:
        typer.echo("\nRetrieved passages:")
        for number, passage in enumerate(answer.passages, 1):
            typer.echo(f"[{number}] {passage.doc_id}: {shorten(passage.text, 120)}")
    if answer.unsupported_numbers:
        numbers = ", ".join(answer.unsupported_numbers)
        typer.echo(f"\nNumbers found in no source: {numbers}", err=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def ask(
        question: str = typer.Argument(..., help="The question, in any language."),
        as_json: bool = typer.Option(False, "--json", help="Print the answer as JSON."),
        lang: str | None = LanguageOption,
        k: int | None = KOption,
    ) -> None:
        """Answer a question from the ingested news, with checked citations."""
        assistant = Assistant()
        try:
            if as_json:
                answer = assistant.ask(question, language=lang, k=k)
                typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
            else:
                answer = print_stream(assistant.stream(question, language=lang, k=k))
        except InvalidQuestion as error:
            typer.echo(f"Error: {error}", err=True)
            raise typer.Exit(2) from error
        if answer.error:
            raise typer.Exit(1)

    @app.command()
    def chat(lang: str | None = LanguageOption, k: int | None = KOption) -> None:
        """Ask questions one after another; follow-ups may refer to earlier answers."""
        assistant = Assistant()
        history: History = []
        typer.echo(f"Ask about the news. {CHAT_COMMANDS}")
        while True:
            try:
                question = input("\n> ").strip()
            except (EOFError, KeyboardInterrupt):
                typer.echo()
                return
            if question in ("/exit", "/quit"):
                return
            if question == "/clear":
                history.clear()
                typer.echo("Conversation cleared.")
                continue
            if not question:
                continue
            try:
                answer = print_stream(
                    assistant.stream(question, history=history, language=lang, k=k)
                )
            except InvalidQuestion as error:
                typer.echo(f"Error: {error}", err=True)
                continue
            if not answer.error:
                history += [
                    {"role": "user", "content": question},
                    {"role": "assistant", "content": answer.answer},
                ]

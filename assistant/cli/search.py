"""`assistant search`: the passages retrieval finds for a question, without the LLM.
With no question it opens an interactive prompt (one query a line; an empty line ends it)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from assistant.types import Passage

SNIPPET_CHARS = 160  # two terminal lines of each passage


def register(app: typer.Typer) -> None:
    app.command()(search)


def search(
    question: str = typer.Argument(None, help="The query, in any language. None: a prompt."),
    k: int = typer.Option(None, "-k", "--k", min=1, help="Passages to show (default: settings)."),
    lang: str = typer.Option(None, "--lang", help="Only passages in this language (ISO 639-1)."),
    doc: list[str] = typer.Option(None, "--doc", help="Only this document's passages; repeatable."),
    as_json: bool = typer.Option(False, "--json", help="Print the passages as a JSON list."),
) -> None:
    """Show the passages that best match a question (hybrid dense + BM25 by default)."""
    from assistant.service import Assistant  # loads the index backends: not for --help

    assistant = Assistant()
    console = Console()

    def show(query: str) -> None:
        passages = assistant.search(query, k=k, language=lang, doc_ids=doc or None)
        if as_json:
            print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        else:
            console.print(passage_table(query, passages))

    if question is not None:
        show(question)
        return
    while query := _prompt(console):
        show(query)


def _prompt(console: Console) -> str:
    try:
        return console.input("[bold]search>[/bold] ").strip()
    except EOFError:
        return ""


def passage_table(query: str, passages: list[Passage]) -> Table:
    table = Table(title=f"Passages for: {query}", show_lines=True)
    for column, justify in (("#", "right"), ("score", "right"), ("document", "left"),
                            ("lang", "left"), ("text", "left")):  # fmt: skip
        table.add_column(column, justify=justify)
    for rank, passage in enumerate(passages, start=1):
        text = " ".join(passage.text.split())
        snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
        table.add_row(
            str(rank),
            f"{passage.score:.4f}",
            passage.doc_id,
            passage.language,
            snippet,
        )
    if not passages:
        table.caption = "No passages: is the index empty? Run `assistant ingest` first."
    return table

"""`assistant feedback list` and `assistant feedback export`: the ratings the chat's users
and the API's clients gave (``assistant.feedback``), and those ratings as gold-question
candidates for the evaluation (docs/evaluation.md)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from assistant.cli.answer import shorten
from assistant.feedback import (
    GOLD_FIELDS_TO_FILL,
    Feedback,
    FeedbackStore,
    FeedbackStoreError,
    gold_candidate,
)

QUESTION_CHARS = 80  # a table cell's width in a terminal
COMMENT_CHARS = 60  # likewise

feedback_app = typer.Typer(
    help="The answers' ratings (👍/👎 and comments), and gold-question candidates from them.",
    no_args_is_help=True,
)


class RatingChoice(StrEnum):
    down = "down"
    up = "up"
    all = "all"


RatingOption = typer.Option(RatingChoice.all, "--rating", help="Only 👎 (down) or 👍 (up) ones.")


def register(app: typer.Typer) -> None:
    app.add_typer(feedback_app, name="feedback")


def stored_ratings(rating: RatingChoice) -> list[Feedback]:
    """The ratings of ``rating`` in the configured data directory; says so (on standard
    error, which an export's output does not include) when there are none."""
    from assistant.settings import Settings  # reads the configuration: not for --help

    store = FeedbackStore.of(Settings())
    try:
        rated = store.ratings(None if rating is RatingChoice.all else rating.value)
    except FeedbackStoreError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from error
    if not rated:
        kind = "" if rating is RatingChoice.all else f"{rating.value} "
        typer.echo(f"No {kind}ratings in {store.path}.", err=True)
    return rated


@feedback_app.command("list")
def list_ratings(rating: RatingChoice = RatingOption) -> None:
    """Show the ratings, oldest first."""
    rated = stored_ratings(rating)
    if not rated:
        return
    table = Table(title="Ratings of answers")
    for column in ("time", "rating", "status", "lang", "question", "comment"):
        table.add_column(column)
    for feedback in rated:
        table.add_row(
            feedback.time,
            "👍" if feedback.rating == "up" else "👎",
            feedback.status,
            feedback.language,
            shorten(feedback.question, QUESTION_CHARS),
            shorten(feedback.comment, COMMENT_CHARS),
        )
    Console().print(table)


@feedback_app.command()
def export(
    output: Path | None = typer.Option(
        None, "--output", "-o", help="JSON Lines file to write. Default: standard output."
    ),
    rating: RatingChoice = RatingOption,
) -> None:
    """Write the rated questions as gold-set candidates (JSON Lines): fill in their
    id, answer, must_include, sources and answerable, delete their `feedback`, then add
    them to the gold set (docs/evaluation.md)."""
    lines = [
        json.dumps(gold_candidate(feedback), ensure_ascii=False)
        for feedback in stored_ratings(rating)
    ]
    text = "".join(f"{line}\n" for line in lines)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        typer.echo(f"Error: cannot write {output}: {error.strerror}.", err=True)
        raise typer.Exit(1) from error
    typer.echo(
        f"Wrote {len(lines)} candidates to {output}. Fill in "
        f"{', '.join(GOLD_FIELDS_TO_FILL)}, delete `feedback`, then add them to the gold set.",
        err=True,
    )

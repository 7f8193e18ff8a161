"""The `assistant` command. Subcommands are plugins: each module listed under the
``assistant.commands`` entry-point group gets the Typer app and adds its commands. The
product's own commands plug in the same way as third-party ones (and `evals`)."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from ingest import offline

app = typer.Typer(
    name="assistant",
    help="Cross-lingual question answering over a news corpus, with verified citations.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def load_plugins(target: typer.Typer) -> None:
    for entry_point in sorted(entry_points(group="assistant.commands"), key=lambda e: e.name):
        entry_point.load()(target)


def main() -> None:
    offline.apply()  # before any library that reads its opt-out is imported
    load_plugins(app)
    app()

"""`assistant ingest`: build or update the index from files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport

SUMMARY_COLUMNS = (
    "new",
    "changed",
    "skipped",
    "failed",
    "removed",
    "chunks",
    "seconds",
    "chunks/s",
)


def register(app: typer.Typer) -> None:
    app.command()(ingest)


def ingest(
    paths: list[Path] = typer.Argument(
        None, help="Files or folders (recursed). Default: the configured corpus_dir."
    ),
    prune: bool = typer.Option(False, "--prune", help="Drop indexed documents not in PATHS."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    ray: str = typer.Option(
        None,
        "--ray",
        metavar="ADDRESS",
        help="Read, clean, chunk and embed on this Ray cluster (host:6379); this process "
        "writes to the store (index.chroma_url) in batches. Needs the ray extra. Default: "
        "ray.address, else in this process.",
    ),
) -> None:
    """Index .txt, .md, .html/.htm, .json/.jsonl, .pdf and .docx files (and any format a
    reader plugin adds); unchanged ones are skipped."""
    # Imported here so that `assistant --help` and the other commands stay quick.
    from assistant.settings import Settings
    from ingest.embedding import make_embedder
    from ingest.errors import IndexBusyError, PluginError
    from ingest.language import make_language_detector
    from ingest.pipeline import ingest_paths
    from ingest.store import make_store

    settings, console = Settings(), Console()
    address = ray or settings.ray.address
    try:
        if address:
            from ingest.ray_ingest import ingest_on_ray

            report = ingest_on_ray(
                paths or [settings.corpus_dir],
                settings,
                address=address,
                store=make_store(settings),
                prune=prune,
                progress=progress,
            )
        else:
            report = ingest_paths(
                paths or [settings.corpus_dir],
                settings,
                embedder=make_embedder(settings),
                store=make_store(settings),
                detector=make_language_detector(settings),
                prune=prune,
                progress=progress,
            )
    except (IndexBusyError, PluginError, ConnectionError) as error:
        console.print(f"[red]{error}[/red]", highlight=False, soft_wrap=True)
        raise typer.Exit(code=1) from None
    print_report(report, console)
    if report.failed:
        raise typer.Exit(code=1)


def print_report(report: IngestReport, console: Console) -> None:
    for where, why in report.failed:
        console.print(f"[red]failed[/red] {where}: {why}", highlight=False, soft_wrap=True)
    if report.repaired:
        console.print(f"redone after an interrupted run: {', '.join(report.repaired)}")
    if report.rebuilt:
        console.print("the embedding model changed: the whole index was rebuilt")
    table = Table(title="Ingestion")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="right")
    table.add_row(
        *(str(len(items)) for items in (report.new, report.changed, report.skipped)),
        str(len(report.failed)),
        str(len(report.removed)),
        str(report.chunks),
        f"{report.seconds:.1f}",
        f"{report.chunks_per_second:.1f}",
    )
    console.print(table)

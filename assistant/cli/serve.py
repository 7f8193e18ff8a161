"""`assistant serve`: the chat, the HTTP API and the OpenAI-compatible endpoint on one port."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    host: str = typer.Option(None, help="Interface to listen on. Default: server.host."),
    port: int = typer.Option(None, help="Port to listen on. Default: server.port."),
) -> None:
    """Serve the chat at /, the API at /api and /v1 (docs at /docs). An empty index is
    first filled from the configured corpus (the bundled one by default)."""
    # Imported here so that `assistant --help` and the other commands stay quick.
    import uvicorn
    from rich.console import Console

    from assistant.cli.ingest import print_report
    from assistant.server import create_app
    from assistant.service import Assistant
    from assistant.settings import Settings
    from ingest.errors import IndexBusyError
    from ingest.pipeline import ingest_paths

    settings = Settings()
    server = settings.server = settings.server.model_copy(
        update={"host": host or settings.server.host, "port": port or settings.server.port}
    )
    assistant = Assistant(settings)
    if assistant.store.count() == 0:
        typer.echo(f"The index is empty: ingesting {settings.corpus_dir} first.")
        console = Console()
        try:
            report = ingest_paths(
                [settings.corpus_dir],
                settings,
                embedder=assistant.embedder,
                store=assistant.store,
                detector=assistant.detector,
            )
        except IndexBusyError as busy:
            console.print(f"[red]{busy}[/red]", highlight=False, soft_wrap=True)
            raise typer.Exit(code=1) from None
        print_report(report, console)
    typer.echo("Loading the models...")
    assistant.warm_up()
    typer.echo(f"News assistant: http://{server.host}:{server.port}{server.root_path}/")
    uvicorn.run(create_app(assistant, settings), host=server.host, port=server.port)

"""`assistant llm serve`: the embedded model as a standalone OpenAI-compatible server, for
other clients (another `assistant` with ASSISTANT_LLM__BASE_URL, LlamaIndex, curl)."""

from __future__ import annotations

import threading

import typer

from assistant.llms.embedded import LocalLLMServer
from assistant.settings import Settings


def register(app: typer.Typer) -> None:
    llm_app = typer.Typer(help="The embedded language model.", no_args_is_help=True)
    app.add_typer(llm_app, name="llm")

    @llm_app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
        port: int = typer.Option(8080, help="Port to listen on; 0 = any free port."),
    ) -> None:
        """Serve the embedded model over an OpenAI-compatible API until Ctrl-C."""
        settings = Settings()
        typer.echo(f"Loading {settings.llm.model}…", err=True)
        with LocalLLMServer(settings, host=host, port=port) as server:
            typer.echo(f"Serving {settings.llm.model} at {server.base_url}")
            typer.echo(f"Use it with: ASSISTANT_LLM__BASE_URL={server.base_url}", err=True)
            typer.echo("Press Ctrl-C to stop.", err=True)
            try:
                threading.Event().wait()  # the server runs in llama.cpp's own threads
            except KeyboardInterrupt:
                typer.echo("Stopped.", err=True)

"""`assistant serve` before it listens: an empty index is filled from the corpus first,
unless another ingest holds the index."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from typer.testing import CliRunner

from assistant.cli.serve import register
from assistant.settings import Settings
from ingest.pipeline import index_lock


def test_serve_on_an_empty_index_held_by_another_ingest_says_so_and_exits(
    tmp_path: Path, model_cache_dir: Path, monkeypatch
):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ASSISTANT_MODEL_CACHE_DIR", str(model_cache_dir))
    app = typer.Typer()
    register(app)
    app.command("unused")(lambda: None)  # more than one command: `serve` is named
    index_dir = Settings().index_dir

    with index_lock(index_dir, wait=False):
        result = CliRunner().invoke(app, ["serve", "--port", "1"])

    assert result.exit_code == 1, result.output
    assert f"another ingest (process {os.getpid()}) is running on {index_dir}" in result.output
    assert "Traceback" not in result.output and "Loading the models" not in result.output

import json

import pytest
import typer
from typer.testing import CliRunner

import assistant.service
from assistant import search_commands
from assistant.service import Assistant
from ingest.embedding import make_embedder
from ingest.language import make_language_detector
from ingest.pipeline import ingest_paths
from ingest.settings import Settings
from ingest.store import make_store
from tests.fakes import HashEmbedder
from tests.test_retrieval import DOCUMENTS, write_document

PASSAGE_FIELDS = {"doc_id", "chunk_id", "title", "language", "score", "start", "end", "text"}


@pytest.fixture
def cli(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    store = make_store(settings)
    for doc_id, (language, paragraphs) in DOCUMENTS.items():
        write_document(store, HashEmbedder(), doc_id, language, paragraphs)
    monkeypatch.setattr(
        assistant.service, "Assistant",
        lambda: Assistant(settings, embedder=HashEmbedder(), store=store),
    )  # fmt: skip
    app = typer.Typer()
    search_commands.register(app)
    app.command("noop")(lambda: None)  # two commands, so `search` is a subcommand as in the CLI
    return lambda *args, **kwargs: CliRunner().invoke(app, ["search", *args], **kwargs)


def test_search_json_is_a_list_of_passages(cli):
    result = cli("How many proposals? 18.087", "-k", "2", "--lang", "ar", "--json")
    assert result.exit_code == 0, result.output
    passages = json.loads(result.output)
    assert len(passages) == 2
    assert all(set(p) == PASSAGE_FIELDS for p in passages)
    assert passages[0]["chunk_id"] == "ha-tinh.txt#0"
    assert passages[0]["score"] >= passages[1]["score"]


def test_search_filters_by_language_and_document(cli):
    by_language = json.loads(cli("Ninh", "--lang", "hu", "--json").output)
    assert by_language and {p["language"] for p in by_language} == {"hu"}
    by_document = json.loads(cli("Ninh", "--doc", "bac-ninh.txt", "--json").output)
    assert by_document and {p["doc_id"] for p in by_document} == {"bac-ninh.txt"}


def test_search_table_and_interactive_prompt(cli):
    table = cli("Bac Ninh Dialoge", "-k", "1")
    assert table.exit_code == 0 and "bac-ninh.txt" in table.output
    prompt = cli(input="1.269\nQuang Ninh\n\n")
    assert prompt.exit_code == 0
    assert prompt.output.count("search>") == 3  # two queries, then the empty line ends it
    assert "bac-ninh.txt" in prompt.output and "quang-ninh.txt" in prompt.output


@pytest.mark.slow
def test_english_question_finds_the_arabic_answer(e5_settings):
    embedder = make_embedder(e5_settings)
    store = make_store(e5_settings)
    ingest_paths(
        [e5_settings.corpus_dir], e5_settings, embedder=embedder, store=store,
        detector=make_language_detector(e5_settings), progress=False,
    )  # fmt: skip
    passages = Assistant(e5_settings, embedder=embedder, store=store).search(
        "How many proposals did Ha Tinh receive through dialogue conferences?", k=5
    )
    answering = [
        p for p in passages if p.doc_id.startswith("002_9dbad9a477df04d3") and "18087" in p.text
    ]
    assert answering, [(p.chunk_id, p.text[:60]) for p in passages]

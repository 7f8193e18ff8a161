import codecs
import os
import shutil
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import ingest.language
from assistant.cli.ingest import register
from assistant.retrieval import make_retriever
from assistant.settings import Settings, bundled_corpus
from ingest.errors import ForeignEmbedderError
from ingest.language import LinguaDetector
from ingest.pipeline import IngestReport, index_lock, ingest_paths
from ingest.store import ChromaStore, make_store
from tests.documents import make_docx, make_pdf
from tests.fakes import HashEmbedder
from tests.support.paths import PROJECT_ROOT

CORPUS_NAMES = sorted(p.name for p in bundled_corpus().glob("*.txt"))
GERMAN = "Die Provinz Bac Ninh hat 1.014 Modelle der Massenmobilisierung entwickelt. " * 3


@pytest.fixture(scope="module")
def detector() -> LinguaDetector:
    return LinguaDetector()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return Path(shutil.copytree(bundled_corpus(), tmp_path / "corpus"))


class Index:
    """A data directory and the one way these tests ingest into it."""

    def __init__(self, root: Path, detector: LinguaDetector, **index_settings):
        self.settings = Settings(data_dir=root, index=index_settings)
        self.detector = detector
        self.embedder = HashEmbedder()
        self.store = make_store(self.settings)

    def ingest(self, *paths: Path, prune: bool = False) -> IngestReport:
        return ingest_paths(
            list(paths),
            self.settings,
            embedder=self.embedder,
            store=self.store,
            detector=self.detector,
            prune=prune,
            progress=False,
        )


LEXICAL_QUERIES = ("Bac Ninh 1.014", "18087", "Quang Ninh", "Modelle der Massenmobilisierung")


def snapshot(store: ChromaStore) -> tuple:
    """Everything a reader of the index can see, its lexical index included."""
    documents = [store.get_document(doc_id) for doc_id in sorted(store.document_ids())]
    lexical = store.lexical
    lexical.refresh()
    # The chunks each query finds (their scores move with deletions not yet merged away:
    # BM25's statistics count deleted entries until Tantivy merges their segment).
    searches = [sorted(i for i, _ in lexical.search(query, 100)) for query in LEXICAL_QUERIES]
    names = lexical.naming({key for d in documents for key in d.record.name_keys})
    lexical_view = (lexical.entries(), lexical.chunk_count(), searches, names)
    return store.manifest(), store.all_chunks(), documents, lexical_view


def test_corpus_ingest_then_rerun_skips_everything(tmp_path: Path, corpus: Path, detector):
    index = Index(tmp_path / "state", detector)
    report = index.ingest(corpus)
    assert report.new == CORPUS_NAMES
    assert report.failed == [] and report.changed == [] and report.skipped == []
    assert report.chunks == index.store.count() > 5
    assert report.chunks_per_second > 0

    languages = {d: index.store.get_document(d).language for d in CORPUS_NAMES}
    assert list(languages.values()) == ["de", "de", "ar", "hu", "de"]
    bac_ninh = index.store.get_document(CORPUS_NAMES[4])
    assert bac_ninh.url.startswith("https://kinhtedothi.vn/")
    assert bac_ninh.title.startswith("Genosse Nguyen Anh Tuan")
    assert bac_ninh.source_path == str(corpus / CORPUS_NAMES[4])
    for chunk in index.store.all_chunks():
        assert chunk.text == index.store.get_document(chunk.doc_id).text[chunk.start : chunk.end]

    again = index.ingest(corpus)
    assert again.skipped == [(name, "unchanged") for name in CORPUS_NAMES]
    assert (again.new, again.changed, again.chunks) == ([], [], 0)


def test_changed_file_is_replaced(tmp_path: Path, corpus: Path, detector):
    index = Index(tmp_path / "state", detector)
    index.ingest(corpus)
    (corpus / CORPUS_NAMES[1]).write_text(GERMAN, encoding="utf-8")
    report = index.ingest(corpus)
    assert report.changed == [CORPUS_NAMES[1]]
    assert len(report.skipped) == 4
    chunks = [c for c in index.store.all_chunks() if c.doc_id == CORPUS_NAMES[1]]
    assert [c.text for c in chunks] == [GERMAN.strip()]


def test_prune_drops_documents_gone_from_disk(tmp_path: Path, corpus: Path, detector):
    index = Index(tmp_path / "state", detector)
    index.ingest(corpus)
    (corpus / CORPUS_NAMES[2]).unlink()
    assert index.ingest(corpus).removed == []
    assert CORPUS_NAMES[2] in index.store.document_ids()
    report = index.ingest(corpus, prune=True)
    assert report.removed == [CORPUS_NAMES[2]]
    assert index.store.document_ids() == set(CORPUS_NAMES) - {CORPUS_NAMES[2]}
    assert all(c.doc_id != CORPUS_NAMES[2] for c in index.store.all_chunks())


def test_identical_texts_are_stored_once_under_all_names(tmp_path: Path, detector):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "b.txt").write_text(GERMAN + "\nQuelle\nKommentar (0)", encoding="utf-8")
    index = Index(tmp_path / "state", detector)
    report = index.ingest(folder)
    assert report.new == ["a.txt"]
    assert report.skipped == [("b.txt", "same text as a.txt")]
    assert index.store.document_ids() == {"a.txt"}
    assert index.store.get_document("b.txt").aliases == ["b.txt"]
    assert {c.doc_id for c in index.store.all_chunks()} == {"a.txt"}

    # b.txt gets its own text: it stops being an alias.
    (folder / "b.txt").write_text(GERMAN.replace("1.014", "2.000"), encoding="utf-8")
    report = index.ingest(folder)
    assert (report.new, report.skipped) == (["b.txt"], [("a.txt", "unchanged")])
    assert index.store.manifest()["a.txt"].aliases == []

    # The primary's file goes: the text lives on under its remaining name.
    (folder / "b.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "a.txt").unlink()
    report = index.ingest(folder, prune=True)
    assert (report.changed, report.removed) == (["b.txt"], ["a.txt"])
    assert index.store.document_ids() == {"b.txt"}


def test_new_alias_of_a_stored_document_costs_no_embedding(tmp_path: Path, detector):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "b.txt").write_text(GERMAN, encoding="utf-8")
    index = Index(tmp_path / "state", detector)
    index.ingest(folder)
    (folder / "a.txt").write_text(GERMAN, encoding="utf-8")
    report = index.ingest(folder)
    # b.txt stays the primary name although a.txt sorts first: nothing is re-embedded.
    assert (report.new, report.chunks) == ([], 0)
    assert index.store.manifest()["b.txt"].aliases == ["a.txt"]


def test_chunking_settings_change_redoes_every_document(tmp_path: Path, corpus, detector):
    Index(tmp_path / "state", detector).ingest(corpus)
    smaller = Index(tmp_path / "state", detector, chunk_max_chars=300)
    report = smaller.ingest(corpus)
    assert report.changed == CORPUS_NAMES and not report.rebuilt
    assert all(len(c.text) <= 300 for c in smaller.store.all_chunks())


def test_embedding_text_recipe_change_redoes_every_document(
    tmp_path, corpus, detector, monkeypatch
):
    Index(tmp_path / "state", detector).ingest(corpus)
    monkeypatch.setattr("ingest.pipeline.EMBEDDING_TEXT_VERSION", -1)
    report = Index(tmp_path / "state", detector).ingest(corpus)
    assert report.changed == CORPUS_NAMES and not report.rebuilt


def test_embedder_change_clears_the_index(tmp_path: Path, corpus: Path, detector):
    index = Index(tmp_path / "state", detector)
    index.ingest(corpus)

    class OtherEmbedder(HashEmbedder):
        name = "other-embedder"
        dimension = 32

    index.embedder = OtherEmbedder()
    extra = tmp_path / "extra.txt"
    extra.write_text(GERMAN, encoding="utf-8")
    report = index.ingest(extra)
    assert report.rebuilt and report.new == ["extra.txt"]
    # Vectors of two models cannot be compared, so the documents not in this run are gone.
    assert index.store.document_ids() == {"extra.txt"}


def test_json_records_keep_their_metadata(tmp_path: Path, detector):
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        '{"id": "vn-1", "text": "' + GERMAN + '", "title": "Modelle", "language": "de", '
        '"date": "2024-08-15", "url": "https://example.org/1"}\n',
        encoding="utf-8",
    )
    index = Index(tmp_path / "state", detector)
    assert index.ingest(feed).new == ["vn-1"]
    document = index.store.get_document("vn-1")
    assert (document.title, document.language, document.date, document.url) == (
        "Modelle",
        "de",
        "2024-08-15",
        "https://example.org/1",
    )


def make_bad_inputs(folder: Path) -> None:
    folder.mkdir()
    (folder / "good.txt").write_text(GERMAN, encoding="utf-8")
    (folder / "utf16.txt").write_bytes(codecs.BOM_UTF16_LE + "Ünnep. ".encode("utf-16-le") * 30)
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (folder / "latin1.txt").write_bytes("Grüße aus Bac Ninh".encode("latin-1"))
    (folder / "only_footer.txt").write_text("Quelle\nKommentar (0)\n", encoding="utf-8")
    with (folder / "huge.txt").open("wb") as sparse:
        sparse.truncate(50_000_000)
    (folder / "feed.jsonl").write_text(
        f'{{"text": "{GERMAN} Eins."}}\n{{"text": broken\n{{"text": "{GERMAN} Drei."}}\n',
        encoding="utf-8",
    )


def test_bad_inputs_fail_one_by_one_and_the_rest_ingests(tmp_path: Path, detector):
    folder = tmp_path / "in"
    make_bad_inputs(folder)
    index = Index(tmp_path / "state", detector)
    report = index.ingest(folder, tmp_path / "missing.txt")
    assert sorted(report.new) == ["feed.jsonl#1", "feed.jsonl#3", "good.txt", "utf16.txt"]
    failures = {Path(where).name: why for where, why in report.failed}
    assert set(failures) == {
        "missing.txt",
        "empty.txt",
        "binary.txt",
        "latin1.txt",
        "only_footer.txt",
        "huge.txt",
        "feed.jsonl:2",
    }
    assert failures["huge.txt"].startswith("50.0 MB is over the 20.0 MB limit")
    assert failures["latin1.txt"].startswith("not utf-8 text")
    assert failures["feed.jsonl:2"].startswith("malformed JSON")
    assert failures["binary.txt"].startswith("binary file")
    assert failures["empty.txt"] == "empty file"
    assert failures["only_footer.txt"] == "no text left after removing boilerplate"


PDF_PARAGRAPHS = [
    "The harbour authority of Hai Phong counted 1,200 container ships in March, a record "
    "for the port since it opened its new terminal on the Lach Huyen estuary.",
    "Dock workers said the night shifts had doubled while the cranes were being replaced.",
]
DOCX_PARAGRAPHS = [
    "Die Stadtverwaltung von Da Nang hat 45 neue Elektrobusse bestellt, die ab Juli auf "
    "sieben Linien zwischen Flughafen und Altstadt fahren sollen.",
    "Der Kaufpreis von 12 Millionen Euro wird zur Hälfte aus einem Klimafonds bezahlt.",
]


def test_pdf_and_docx_are_ingested_and_found_beside_bad_files(tmp_path: Path, detector):
    folder = tmp_path / "in"
    folder.mkdir()
    make_pdf(folder / "port.pdf", [PDF_PARAGRAPHS], title="Record month in Hai Phong")
    make_docx(folder / "buses.docx", DOCX_PARAGRAPHS, heading="Elektrobusse für Da Nang")
    make_pdf(folder / "scan.pdf", [None, None])  # pages scanned without OCR: images only
    (folder / "broken.docx").write_bytes(b"PK\x03\x04" + b"\x00broken" * 40)
    (folder / "good.txt").write_text(GERMAN, encoding="utf-8")
    index = Index(tmp_path / "state", detector)
    report = index.ingest(folder)

    assert sorted(report.new) == ["buses.docx", "good.txt", "port.pdf"]
    failures = {Path(where).name: why for where, why in report.failed}
    assert failures == {
        "scan.pdf": "no text layer: a scanned PDF needs OCR first",
        "broken.docx": failures["broken.docx"],
    }
    assert failures["broken.docx"].startswith("not a readable Word document")
    port = index.store.get_document("port.pdf")
    assert (port.title, port.language) == ("Record month in Hai Phong", "en")
    assert port.text == "\n\n".join(PDF_PARAGRAPHS)
    buses = index.store.get_document("buses.docx")
    assert buses.language == "de" and buses.text.startswith("Elektrobusse für Da Nang\n\n")
    assert buses.title == "Elektrobusse für Da Nang"  # no title property: the first sentence

    retriever = make_retriever(index.settings, embedder=index.embedder, store=index.store)
    [found] = retriever.retrieve("How many container ships did Hai Phong count?", 1)
    assert found.doc_id == "port.pdf" and "1,200 container ships" in found.text
    [found] = retriever.retrieve("Wie viele Elektrobusse bestellt Da Nang?", 1)
    assert found.doc_id == "buses.docx" and "45 neue Elektrobusse" in found.text
    assert sorted(index.ingest(folder).skipped) == [
        ("buses.docx", "unchanged"), ("good.txt", "unchanged"), ("port.pdf", "unchanged"),
    ]  # fmt: skip


def test_a_failing_document_does_not_sink_the_batch(tmp_path: Path, corpus: Path, detector):
    class FlakyEmbedder(HashEmbedder):
        def embed_passages(self, texts):
            if any("Ninh Son" in text for text in texts):
                raise RuntimeError("model crashed")
            return super().embed_passages(texts)

    index = Index(tmp_path / "state", detector)
    index.embedder = FlakyEmbedder()
    report = index.ingest(corpus)
    assert report.failed == [(str(corpus / CORPUS_NAMES[1]), "not indexed: model crashed")]
    assert report.new == [n for n in CORPUS_NAMES if n != CORPUS_NAMES[1]]
    assert index.store.document_ids() == set(report.new)


def test_documents_are_embedded_together_and_stored_one_by_one(
    tmp_path: Path, corpus: Path, detector
):
    calls: list[int] = []

    class CountingEmbedder(HashEmbedder):
        def embed_passages(self, texts):
            calls.append(len(texts))
            return super().embed_passages(texts)

    index = Index(tmp_path / "state", detector)
    index.embedder = CountingEmbedder()
    report = index.ingest(corpus)
    # The bundled corpus has fewer chunks than one embedding group: one call for them all.
    assert calls == [report.chunks]
    assert index.store.document_ids() == set(CORPUS_NAMES)
    assert len(index.store.all_chunks()) == report.chunks


# A separate process ingests and SIGKILLs itself at the n-th call of a step of the store's
# write: "records" (the store is about to write a batch's records, after its chunks and its
# lexical entries), "lexical" (the lexical index is adding a batch's chunks, after it
# committed their records) or "prune" (the lexical index is to remove documents the store has
# just deleted). Each document is its own batch here, so the n-th call is the n-th document.
CRASHING_INGEST = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    import ingest.lexical, ingest.pipeline
    from ingest.language import LinguaDetector
    from ingest.pipeline import ingest_paths
    from assistant.settings import Settings
    from ingest.store import ChromaStore, make_store
    from tests.fakes import HashEmbedder

    data_dir, corpus, step, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    ingest.pipeline.EMBED_GROUP_CHUNKS = ingest.pipeline.STORE_BATCH_CHUNKS = 1
    calls = []

    def dying(function, when=lambda *args, **kwargs: True):
        def wrapper(*args, **kwargs):
            if when(*args, **kwargs):
                calls.append(args)
                if len(calls) == kill_at:
                    os.kill(os.getpid(), signal.SIGKILL)
            return function(*args, **kwargs)
        return wrapper

    if step == "records":
        ChromaStore._write_records = dying(ChromaStore._write_records)
    elif step == "lexical":
        ingest.lexical.chunk_terms = dying(ingest.lexical.chunk_terms)
    elif step == "prune":
        lexical = ingest.lexical.TantivyLexicalIndex
        lexical.write = dying(lexical.write, lambda *args, removed=(), **kwargs: bool(removed))
    settings = Settings(data_dir=data_dir)
    ingest_paths([Path(corpus)], settings, embedder=HashEmbedder(), store=make_store(settings),
                 detector=LinguaDetector(), progress=False, prune=True)
    """
)


def ingest_and_die(data_dir: Path, corpus: Path, kill_at: int, step: str = "records") -> None:
    process = subprocess.run(
        [sys.executable, "-c", CRASHING_INGEST, str(data_dir), str(corpus), step, str(kill_at)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == -9, process.stderr


def clean_index(tmp_path: Path, corpus: Path, detector) -> Index:
    clean = Index(tmp_path / "clean", detector)
    clean.ingest(corpus)
    return clean


def test_crash_during_first_ingest_is_repaired_by_a_rerun(tmp_path: Path, corpus, detector):
    ingest_and_die(tmp_path / "crashed", corpus, kill_at=2)
    crashed = Index(tmp_path / "crashed", detector)
    assert crashed.store.document_ids() == {CORPUS_NAMES[0]}
    assert {c.doc_id for c in crashed.store.all_chunks()} == set(CORPUS_NAMES[:2])
    # The lexical index was written before the records: it holds the second document too.
    assert set(crashed.store.lexical.entries()) == set(CORPUS_NAMES[:2])

    report = crashed.ingest(corpus)
    assert report.repaired == [CORPUS_NAMES[1]]
    assert report.new == CORPUS_NAMES[1:]
    assert snapshot(crashed.store) == snapshot(clean_index(tmp_path, corpus, detector).store)


def test_crash_while_replacing_a_changed_document_is_repaired(tmp_path: Path, corpus, detector):
    Index(tmp_path / "crashed", detector).ingest(corpus)
    for name in CORPUS_NAMES[2:4]:
        (corpus / name).write_text(GERMAN + name, encoding="utf-8")
    ingest_and_die(tmp_path / "crashed", corpus, kill_at=1)
    crashed = Index(tmp_path / "crashed", detector)
    assert CORPUS_NAMES[2] not in crashed.store.document_ids()

    report = crashed.ingest(corpus)
    assert report.repaired == [CORPUS_NAMES[2]]
    assert (report.new, report.changed) == ([CORPUS_NAMES[2]], [CORPUS_NAMES[3]])
    assert snapshot(crashed.store) == snapshot(clean_index(tmp_path, corpus, detector).store)


def test_crash_inside_an_incremental_lexical_update_is_repaired(tmp_path, corpus, detector):
    Index(tmp_path / "crashed", detector).ingest(corpus)
    for name in CORPUS_NAMES[2:4]:
        (corpus / name).write_text(GERMAN + name, encoding="utf-8")
    # Killed while the lexical index adds the second changed document's chunks: the first
    # is done, the second has its new lexical record but its old chunks are gone in Chroma.
    ingest_and_die(tmp_path / "crashed", corpus, kill_at=2, step="lexical")
    crashed = Index(tmp_path / "crashed", detector)
    assert CORPUS_NAMES[3] not in crashed.store.document_ids()
    held = crashed.store.lexical.entries()
    assert held[CORPUS_NAMES[3]].content_hash != crashed.store.manifest().get(CORPUS_NAMES[3])

    report = crashed.ingest(corpus)
    assert report.repaired == [CORPUS_NAMES[3]]
    assert (report.new, report.changed) == ([CORPUS_NAMES[3]], [])
    assert snapshot(crashed.store) == snapshot(clean_index(tmp_path, corpus, detector).store)


def test_crash_while_pruning_is_repaired(tmp_path: Path, corpus: Path, detector):
    Index(tmp_path / "crashed", detector).ingest(corpus)
    (corpus / CORPUS_NAMES[0]).unlink()
    ingest_and_die(tmp_path / "crashed", corpus, kill_at=1, step="prune")
    crashed = Index(tmp_path / "crashed", detector)
    assert CORPUS_NAMES[0] not in crashed.store.document_ids()
    assert CORPUS_NAMES[0] in crashed.store.lexical.entries()  # the store went first

    report = crashed.ingest(corpus, prune=True)
    assert report.skipped == [(name, "unchanged") for name in CORPUS_NAMES[1:]]
    assert CORPUS_NAMES[0] not in crashed.store.lexical.entries()
    assert snapshot(crashed.store) == snapshot(clean_index(tmp_path, corpus, detector).store)


def test_store_writes_go_in_large_batches_with_the_records_last(tmp_path, corpus, detector):
    index = Index(tmp_path / "state", detector)
    calls: list[tuple[str, int]] = []
    chunks, documents = index.store._chunks, index.store._documents

    class Recording:
        def __init__(self, collection, name):
            self.collection, self.name = collection, name

        def __getattr__(self, attribute):
            method = getattr(self.collection, attribute)
            if attribute in ("add", "upsert"):

                def recorded(**kwargs):
                    calls.append((f"{self.name}.{attribute}", len(kwargs["ids"])))
                    return method(**kwargs)

                return recorded
            return method

    index.store._chunks = Recording(chunks, "chunks")
    index.store._documents = Recording(documents, "records")
    report = index.ingest(corpus)
    # One embedding group, so one store batch: every chunk in one add, every record after.
    assert calls == [("chunks.add", report.chunks), ("records.upsert", len(CORPUS_NAMES))]
    assert index.store.lexical.chunk_count() == report.chunks


def test_an_unfinished_write_is_found_without_reading_every_chunk_otherwise(
    tmp_path, corpus, detector, monkeypatch
):
    index = Index(tmp_path / "state", detector)
    index.ingest(corpus)
    pages = []
    monkeypatch.setattr(ChromaStore, "_pages", lambda self, *a: pages.append(a) or iter(()))
    assert index.store.drop_incomplete() == []
    assert pages == []  # the state said the last write finished


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, detector) -> typer.Typer:
    """The ingest command with the test embedder and a throwaway data directory."""
    embedding = types.ModuleType("ingest.embedding")
    embedding.make_embedder = lambda settings: HashEmbedder()
    monkeypatch.setitem(sys.modules, "ingest.embedding", embedding)
    monkeypatch.setattr(ingest.language, "make_language_detector", lambda settings: detector)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "state"))
    app = typer.Typer()
    app.callback()(lambda: None)  # keeps `ingest` a subcommand, as in the real CLI
    register(app)
    return app


def test_cli_ingests_the_configured_corpus_and_exits_zero(cli, corpus, monkeypatch):
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    result = CliRunner().invoke(cli, ["ingest", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "Ingestion" in result.output and "chunks/s" in result.output
    rerun = CliRunner().invoke(cli, ["ingest", "--no-progress", str(corpus), "--prune"])
    assert rerun.exit_code == 0, rerun.output


def test_cli_exits_non_zero_and_names_each_failure(cli, tmp_path: Path):
    folder = tmp_path / "in"
    make_bad_inputs(folder)
    result = CliRunner().invoke(cli, ["ingest", "--no-progress", str(folder)])
    assert result.exit_code == 1
    failed_lines = [line for line in result.output.splitlines() if line.startswith("failed ")]
    assert len(failed_lines) == 6
    assert any(f"{folder / 'feed.jsonl'}:2: malformed JSON" in line for line in failed_lines)


def test_cli_fails_at_once_while_another_ingest_holds_the_index(cli, corpus, tmp_path: Path):
    index_dir = tmp_path / "state" / "index"
    with index_lock(index_dir, wait=False):
        result = CliRunner().invoke(cli, ["ingest", "--no-progress", str(corpus)])

    assert result.exit_code == 1
    assert f"another ingest (process {os.getpid()}) is running on {index_dir}" in result.output
    assert "wait for it" in result.output
    assert CliRunner().invoke(cli, ["ingest", "--no-progress", str(corpus)]).exit_code == 0


def test_an_ingest_that_may_not_rebuild_leaves_another_models_index_alone(
    tmp_path: Path, corpus: Path, detector
):
    index = Index(tmp_path / "state", detector)
    index.ingest(corpus)
    before = snapshot(index.store)

    class OtherEmbedder(HashEmbedder):
        name = "other-embedder"

    with pytest.raises(ForeignEmbedderError, match="run `assistant ingest` first"):
        ingest_paths(
            [corpus],
            index.settings,
            embedder=OtherEmbedder(),
            store=index.store,
            detector=detector,
            progress=False,
            rebuild=False,
        )
    assert snapshot(index.store) == before

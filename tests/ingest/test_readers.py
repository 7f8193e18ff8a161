import codecs
import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from ingest import plugins
from ingest.readers import (
    ReadError,
    ReadProblem,
    decode,
    find_files,
    read_bytes,
    read_file,
    reader_for,
    supported_suffixes,
)
from ingest.readers import pdf as pdf_reader
from ingest.readers.registry import load_readers
from ingest.types import Document
from tests.documents import make_docx, make_pdf

MB = 1_000_000


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


def test_find_files_recurses_names_relative_and_skips_hidden_and_unsupported(tmp_path: Path):
    write(tmp_path / "a.txt", "A.")
    write(tmp_path / "sub" / "b.md", "B.")
    write(tmp_path / "sub" / "c.HTML", "<p>C.</p>")
    write(tmp_path / "notes.odt", b"PK")
    write(tmp_path / ".git" / "d.txt", "D.")
    single = write(tmp_path / "elsewhere" / "e.jsonl", "{}")
    found, problems = find_files([tmp_path / "sub", tmp_path / "a.txt", single])
    assert [doc_id for _, doc_id in found] == ["b.md", "c.HTML", "a.txt", "e.jsonl"]
    assert problems == []
    found, _ = find_files([tmp_path])
    assert "notes.odt" not in {d for _, d in found}
    assert ".git/d.txt" not in {d for _, d in found}
    assert "sub/b.md" in {d for _, d in found}


def test_find_files_reports_missing_and_unsupported_paths(tmp_path: Path):
    odt = write(tmp_path / "notes.odt", b"PK")
    _, problems = find_files([tmp_path / "missing", odt])
    assert [(Path(p.where).name, p.message.split(" (")[0]) for p in problems] == [
        ("missing", "no such file or folder"),
        ("notes.odt", "unsupported file type"),
    ]
    assert ".docx, .htm, .html, .json, .jsonl, .md, .pdf, .txt" in problems[1].message


@pytest.mark.parametrize(
    "data",
    [
        "Grüße aus Bắc Ninh".encode(),
        codecs.BOM_UTF8 + "Grüße aus Bắc Ninh".encode(),
        codecs.BOM_UTF16_LE + "Grüße aus Bắc Ninh".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Grüße aus Bắc Ninh".encode("utf-16-be"),
    ],
    ids=["utf-8", "utf-8-sig", "utf-16-le", "utf-16-be"],
)
def test_decode_accepts_utf8_and_utf16_with_bom(data: bytes):
    assert decode(data) == "Grüße aus Bắc Ninh"


def test_decode_refuses_latin1_and_binary():
    with pytest.raises(ReadError, match=r"not utf-8 text \(invalid byte 0xfc at offset 2\)"):
        decode("Grüße".encode("latin-1"))
    with pytest.raises(ReadError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00")


def test_text_file(tmp_path: Path):
    path = write(tmp_path / "x.txt", "Ein Satz.\n")
    [document], problems = read_file(path, "x.txt", MB)
    assert (document.doc_id, document.text, document.source_path) == (
        "x.txt",
        "Ein Satz.\n",
        str(path),
    )
    assert problems == []


def test_markdown_headings_lose_their_marks(tmp_path: Path):
    path = write(tmp_path / "x.md", "# Bac Ninh erprobt Modelle\n\nText.\n")
    [document], _ = read_file(path, "x.md", MB)
    assert document.text == "Bac Ninh erprobt Modelle\n\nText.\n"


def test_html_main_text_and_metadata(tmp_path: Path):
    html = """<html><head><title>Bac Ninh erprobt Modelle</title>
    <meta name="date" content="2024-08-15"><link rel="canonical" href="https://example.org/a">
    </head><body><nav>Startseite | Politik | Wirtschaft</nav><article>
    <h1>Bac Ninh erprobt Modelle</h1>
    <p>Die Provinz Bac Ninh hat 1.014 Modelle der Massenmobilisierung entwickelt, die sich
    durch große Wirkung auszeichnen.</p>
    <p>Zweiter Absatz über die Arbeit der Partei und die Dialoge mit den Bürgern.</p>
    </article><footer>Impressum Datenschutz Copyright 2024</footer></body></html>"""
    [document], _ = read_file(write(tmp_path / "a.html", html), "a.html", MB)
    assert "1.014 Modelle" in document.text
    assert "Impressum" not in document.text and "Startseite" not in document.text
    assert (document.title, document.date, document.url) == (
        "Bac Ninh erprobt Modelle",
        "2024-08-15",
        "https://example.org/a",
    )


def test_html_without_text_is_an_error(tmp_path: Path):
    with pytest.raises(ReadError, match="no article text"):
        read_file(write(tmp_path / "a.html", "<html><body></body></html>"), "a.html", MB)


def test_jsonl_records_ids_metadata_and_bad_lines(tmp_path: Path):
    lines = [
        json.dumps({"id": "vn-1", "text": "Erster.", "title": "T", "language": "de"}),
        "{not json",
        "",
        json.dumps({"text": "Dritter.", "url": "https://example.org/3", "date": "2024-07-04"}),
        json.dumps({"title": "no text"}),
        json.dumps({"text": "   "}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines))
    documents, problems = read_file(path, "feed.jsonl", MB)
    assert [(d.doc_id, d.title, d.language, d.url, d.date) for d in documents] == [
        ("vn-1", "T", "de", None, None),
        ("feed.jsonl#4", "", "und", "https://example.org/3", "2024-07-04"),
    ]
    assert [(p.where, p.message.split(":")[0]) for p in problems] == [
        (f"{path}:2", "malformed JSON"),
        (f"{path}:5", 'record is not an object with a "text" string'),
        (f"{path}:6", "empty text"),
    ]


def test_json_list_and_single_object(tmp_path: Path):
    many = write(tmp_path / "many.json", json.dumps([{"text": "A."}, {"text": "B.", "id": 7}]))
    documents, _ = read_file(many, "many.json", MB)
    assert [d.doc_id for d in documents] == ["many.json#1", "7"]
    one = write(tmp_path / "one.json", json.dumps({"text": "A."}))
    assert [d.doc_id for d in read_file(one, "one.json", MB)[0]] == ["one.json#1"]


def test_malformed_json_file_names_the_line(tmp_path: Path):
    with pytest.raises(ReadError, match="malformed JSON at line 2"):
        read_file(write(tmp_path / "x.json", '[\n{"text": }]'), "x.json", MB)


def test_too_large_file_is_refused_before_reading(tmp_path: Path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as sparse:
        sparse.truncate(50 * MB)
    with pytest.raises(ReadError, match=r"50.0 MB is over the 20.0 MB limit \(index.max_file_mb\)"):
        read_file(path, "huge.txt", 20 * MB)


def test_empty_and_unreadable_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ReadError, match="empty file"):
        read_file(write(tmp_path / "empty.txt", " \n\n"), "empty.txt", MB)

    locked = write(tmp_path / "locked.txt", "Text.")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(ReadError, match="cannot read: Permission denied"):
        read_file(locked, "locked.txt", MB)


# --- choosing a reader --------------------------------------------------------------------

BUILTIN_READERS = {"text", "markdown", "html", "json", "jsonl", "pdf", "docx"}
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_the_products_readers_register_as_entry_points():
    assert set(plugins.registered("reader")) >= BUILTIN_READERS
    readers, problems = load_readers()
    assert problems == []
    assert {r.name for r in readers if r.builtin} == BUILTIN_READERS
    assert supported_suffixes() >= {".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"}


@pytest.mark.parametrize(
    ("name", "mime_type", "reader"),
    [
        ("a.TXT", None, "text"),
        ("a.md", None, "markdown"),
        ("a.htm", None, "html"),
        ("feed.jsonl", None, "jsonl"),
        ("report.pdf", None, "pdf"),
        ("letter.docx", None, "docx"),
        ("upload", "application/pdf", "pdf"),  # no suffix: the content type decides
        ("article.php", "text/html; charset=utf-8", "html"),
        ("upload", DOCX_MIME, "docx"),
        ("feed.jsonl", "application/json", "jsonl"),  # the suffix's reader takes it too
        ("notes.md", "text/plain", "text"),  # a declared type beats the suffix
        ("report.pdf", "application/octet-stream", "pdf"),  # says nothing: the suffix decides
        ("report.pdf", "application/x-unknown", "pdf"),
    ],
)
def test_reader_for_chooses_by_mime_type_then_suffix(name, mime_type, reader):
    assert reader_for(name, mime_type).name == reader


def test_reader_for_an_unknown_type_names_what_is_read():
    with pytest.raises(ReadError, match=r"unsupported file type 'image/png' \(reads .docx, "):
        reader_for("scan", "image/png")
    with pytest.raises(ReadError, match=r"unsupported file type \(reads "):
        reader_for("notes.odt")


def test_read_bytes_reads_an_upload_by_its_content_type():
    [document], problems = read_bytes(
        b"<html><body><article><p>Die Provinz Bac Ninh hat 1.014 Modelle der "
        b"Massenmobilisierung entwickelt, die sich durch grosse Wirkung auszeichnen.</p>"
        b"</article></body></html>",
        name="upload-1",
        mime_type="text/html",
    )
    assert "1.014 Modelle" in document.text
    assert (document.doc_id, document.source_path, problems) == ("upload-1", "upload-1", [])
    with pytest.raises(ReadError, match=r"over the 0\.0 MB limit"):
        read_bytes(b"x" * 100, name="a.txt", max_bytes=10)
    with pytest.raises(ReadError, match="empty file"):
        read_bytes(b"", name="a.pdf")


# --- PDF ----------------------------------------------------------------------------------

FIRST = (
    "Die Provinz Bac Ninh hat 1.014 Modelle der Massenmobilisierung entwickelt, die sich "
    "durch große Wirkung auszeichnen und landesweit Beachtung finden."
)
SECOND = (
    "Im zweiten Absatz geht es um die Arbeit der Partei (und der Verwaltung) und um die "
    "Dialoge mit den Bürgern, die seit 2021 jeden Monat stattfinden."
)
THIRD = "Auf der zweiten Seite: Die Provinz plant 300 weitere Modelle bis 2026."


def read_pdf(path: Path) -> tuple[list, list]:
    return read_file(path, path.name, MB)


def test_pdf_text_in_reading_order_with_paragraphs_and_title(tmp_path: Path):
    pdf = make_pdf(tmp_path / "a.pdf", [[FIRST, SECOND], [THIRD]], title="Bac Ninh erprobt Modelle")
    [document], problems = read_pdf(pdf)
    # Lines wrapped on the page are one paragraph again; paragraphs and pages stay apart.
    assert document.text == f"{FIRST}\n\n{SECOND}\n\n{THIRD}"
    assert (document.title, document.doc_id, document.source_path) == (
        "Bac Ninh erprobt Modelle",
        "a.pdf",
        str(pdf),
    )
    assert problems == []


@pytest.mark.parametrize("title", [None, "Microsoft Word - bac-ninh.docx", "Untitled", "x.pdf"])
def test_pdf_without_title_and_a_sentence_running_on_to_the_next_page(tmp_path: Path, title):
    head, tail = FIRST.split(" und ")
    pdf = make_pdf(tmp_path / "a.pdf", [[head], ["und " + tail]], title=title)
    [document], _ = read_pdf(pdf)
    # A title the PDF producer made from the file name is none; the pipeline derives one.
    assert (document.text, document.title) == (FIRST, "")


def test_scanned_pdf_needs_ocr(tmp_path: Path):
    with pytest.raises(ReadError, match="no text layer: a scanned PDF needs OCR first"):
        read_pdf(make_pdf(tmp_path / "scan.pdf", [None, None]))


def test_pdf_with_some_scanned_pages_is_read_and_they_are_named(tmp_path: Path):
    pdf = make_pdf(tmp_path / "mixed.pdf", [[FIRST], None, [THIRD], None])
    [document], problems = read_pdf(pdf)
    assert document.text == f"{FIRST}\n\n{THIRD}"
    assert [(p.where, p.message) for p in problems] == [
        (str(pdf), "pages 2, 4: no text layer: a scanned PDF needs OCR first; "
                   "the other pages were read"),
    ]  # fmt: skip


def test_encrypted_pdf_needs_a_password_unless_only_editing_is_locked(tmp_path: Path):
    with pytest.raises(ReadError, match="encrypted PDF that needs a password"):
        read_pdf(make_pdf(tmp_path / "secret.pdf", [[FIRST]], password="geheim"))
    locked = make_pdf(tmp_path / "locked.pdf", [[FIRST]], owner_password="geheim")
    assert read_pdf(locked)[0][0].text == FIRST


def test_a_pdf_page_that_fails_is_named_and_the_others_read(tmp_path: Path, monkeypatch):
    extract = pdf_reader._page_text

    def fail_on_the_second_page(page):
        if "zweiten Seite" in page.extract_text():
            raise ValueError("bad content stream")
        return extract(page)

    monkeypatch.setattr(pdf_reader, "_page_text", fail_on_the_second_page)
    pdf = make_pdf(tmp_path / "a.pdf", [[FIRST], [THIRD]])
    [document], problems = read_pdf(pdf)
    assert document.text == FIRST
    assert [(p.where, p.message) for p in problems] == [
        (str(pdf), "page 2: text cannot be extracted (ValueError: bad content stream)")
    ]
    with pytest.raises(ReadError, match=r"not a readable PDF .*ValueError: bad content stream"):
        read_pdf(make_pdf(tmp_path / "b.pdf", [[THIRD]]))


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + b"\x00garbage" * 50, b"<html>not a pdf</html>", "truncated"],
    ids=["garbage", "not-a-pdf", "truncated"],
)
def test_corrupt_pdf_is_a_read_error(tmp_path: Path, data):
    if data == "truncated":
        whole = make_pdf(tmp_path / "whole.pdf", [[FIRST]]).read_bytes()
        data = whole[: len(whole) // 3]
    with pytest.raises(ReadError, match="not a readable PDF"):
        read_pdf(write(tmp_path / "bad.pdf", data))


# --- DOCX ---------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_title(tmp_path: Path):
    path = make_docx(
        tmp_path / "a.docx",
        [FIRST, "", SECOND],
        title="Bac Ninh erprobt Modelle",
        heading="Massenmobilisierung",
        table=[["Jahr", "Modelle"], ["2024", "1.014"]],
    )
    [document], problems = read_file(path, "a.docx", MB)
    assert document.text == (
        f"Massenmobilisierung\n\n{FIRST}\n\n{SECOND}\n\nJahr | Modelle\n2024 | 1.014"
    )
    assert (document.title, document.source_path, problems) == (
        "Bac Ninh erprobt Modelle",
        str(path),
        [],
    )


def test_docx_without_title_or_text(tmp_path: Path):
    [document], _ = read_file(make_docx(tmp_path / "a.docx", [SECOND]), "a.docx", MB)
    assert (document.text, document.title) == (SECOND, "")
    with pytest.raises(ReadError, match="no text in the document"):
        read_file(make_docx(tmp_path / "empty.docx", ["", "  "]), "empty.docx", MB)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PK\x03\x04" + b"\x00broken" * 40, "not a readable Word document"),
        (b"plain text renamed", "not a readable Word document"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "password-protected"),
    ],
    ids=["broken-zip", "not-a-zip", "protected"],
)
def test_corrupt_or_protected_docx_is_a_read_error(tmp_path: Path, data, message):
    with pytest.raises(ReadError, match=message):
        read_file(write(tmp_path / "bad.docx", data), "bad.docx", MB)


def test_a_zip_that_is_no_word_document(tmp_path: Path):
    path = tmp_path / "other.docx"
    with zipfile.ZipFile(path, "w") as package:
        package.writestr("hello.txt", "Hallo")
    with pytest.raises(ReadError, match="not a readable Word document"):
        read_file(path, "other.docx", MB)


# --- readers from other packages ----------------------------------------------------------


class CsvReader:
    """A third-party reader: one article a row of ``title,text``."""

    suffixes = (".CSV",)  # normalised by the registry
    mime_types = ("text/csv",)

    def read(self, data: bytes, *, doc_id: str, source: str):
        documents, problems = [], []
        rows = csv.DictReader(io.StringIO(decode(data)))
        for number, row in enumerate(rows, start=2):  # the header is line 1
            if not (row.get("text") or "").strip():
                problems.append(ReadProblem(f"{source}:{number}", "no text"))
                continue
            documents.append(
                Document(f"{doc_id}#{number}", row["text"], title=row["title"], source_path=source)
            )
        return documents, problems


class ShoutingTextReader:
    """A third-party reader replacing the product's own for .txt files."""

    suffixes = frozenset({".txt"})
    mime_types = frozenset({"text/plain"})

    def read(self, data: bytes, *, doc_id: str, source: str):
        return [Document(doc_id, decode(data).upper(), source_path=source)], []


class BrokenReader:
    suffixes = frozenset({".bad"})
    mime_types = frozenset()

    def read(self, data: bytes, *, doc_id: str, source: str):
        raise RuntimeError("a bug in the plugin")


def install_distribution(root: Path, name: str, readers: dict[str, str]) -> None:
    """A fake installed distribution declaring ``readers`` (entry-point name -> object)."""
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{key} = {value}\n" for key, value in readers.items())
    (info / "entry_points.txt").write_text(f"[news_assistant.readers]\n{lines}")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder on sys.path where tests install fake distributions; the registry forgets
    them afterwards."""
    folder = tmp_path / "site-packages"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    plugins.refresh()


# The entry points name readers defined in this module by its import path, whichever folder
# of tests/ it sits in.
THIS_MODULE = __name__
CSV = "title,text\nBac Ninh,Die Provinz Bac Ninh hat 1.014 Modelle entwickelt.\nLeer,\n"


def test_a_reader_from_another_package_is_used_without_editing_the_product(
    tmp_path: Path, site: Path
):
    data = write(tmp_path / "in" / "feed.csv", CSV)
    write(tmp_path / "in" / "a.txt", "Ein Satz.")
    assert ".csv" not in supported_suffixes()

    install_distribution(site, "fake-csv-reader", {"csv": f"{THIS_MODULE}:CsvReader"})
    plugins.refresh()
    found, problems = find_files([tmp_path / "in"])
    assert ([doc_id for _, doc_id in found], problems) == (["a.txt", "feed.csv"], [])
    [document], problems = read_file(data, "feed.csv", MB)
    assert (document.doc_id, document.title) == ("feed.csv#2", "Bac Ninh")
    assert [(p.where, p.message) for p in problems] == [(f"{data}:3", "no text")]
    assert reader_for("upload", "text/csv; charset=utf-8").name == "csv"
    assert not {r.name: r for r in load_readers()[0]}["csv"].builtin


def test_a_plugin_reader_wins_over_the_products_own_for_its_suffix(tmp_path: Path, site: Path):
    install_distribution(site, "loud", {"loud-text": f"{THIS_MODULE}:ShoutingTextReader"})
    plugins.refresh()
    assert reader_for("a.txt").name == "loud-text"
    [document], _ = read_file(write(tmp_path / "a.txt", "Ein Satz."), "a.txt", MB)
    assert document.text == "EIN SATZ."


def test_a_broken_plugin_costs_its_files_only(tmp_path: Path, site: Path):
    install_distribution(
        site,
        "broken-readers",
        {"missing": "tests.no_such_module:Reader", "buggy": f"{THIS_MODULE}:BrokenReader"},
    )
    plugins.refresh()
    write(tmp_path / "in" / "a.txt", "Ein Satz.")
    bad = write(tmp_path / "in" / "b.bad", "data")
    found, problems = find_files([tmp_path / "in"])
    assert [doc_id for _, doc_id in found] == ["a.txt", "b.bad"]
    assert [(p.where, p.message.split(" (")[0]) for p in problems] == [
        ("reader plugin 'missing' (tests.no_such_module:Reader)", "cannot be loaded"),
    ]
    with pytest.raises(ReadError, match="the buggy reader failed: RuntimeError: a bug"):
        read_file(bad, "b.bad", MB)

import codecs
import json
from pathlib import Path

import pytest

from ingest.readers import ReadError, decode, find_files, read_file

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
    write(tmp_path / "notes.pdf", b"%PDF")
    write(tmp_path / ".git" / "d.txt", "D.")
    single = write(tmp_path / "elsewhere" / "e.jsonl", "{}")
    found, problems = find_files([tmp_path / "sub", tmp_path / "a.txt", single])
    assert [doc_id for _, doc_id in found] == ["b.md", "c.HTML", "a.txt", "e.jsonl"]
    assert problems == []
    found, _ = find_files([tmp_path])
    assert "notes.pdf" not in {d for _, d in found}
    assert ".git/d.txt" not in {d for _, d in found}
    assert "sub/b.md" in {d for _, d in found}


def test_find_files_reports_missing_and_unsupported_paths(tmp_path: Path):
    pdf = write(tmp_path / "notes.pdf", b"%PDF")
    _, problems = find_files([tmp_path / "missing", pdf])
    assert [(Path(p.where).name, p.message.split(" (")[0]) for p in problems] == [
        ("missing", "no such file or folder"),
        ("notes.pdf", "unsupported file type"),
    ]


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

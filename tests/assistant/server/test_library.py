"""The library: the list of indexed documents (``GET /api/documents`` and the ``/library``
page), its search and paging, and uploads into the live index: who may upload, each bad
file reported by name, good ones searchable at once, answers going on meanwhile."""

from __future__ import annotations

import errno
import io
import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from assistant.server.routers import library as library_router
from assistant.server.routers.library import job_json
from assistant.server.ui_text import ui_text
from assistant.server.uploads import IncomingFile, Uploads, upload_name
from tests.support.web import CORPUS, VI_QUESTION, GatedEmbedder, assert_error, make_app

AUTH = ("ana", "pw")
EN = ui_text("en")
UPLOAD_HEADERS = {"X-Library-Upload": "1"}
MAX_UPLOAD_MB = 0.01  # 10 kB: a test file over it stays small
# Uploads are longer than 120 characters: a shorter text waits seconds for lingua's precise
# models (ingest.language).
MOON = (
    "# Moonflower fair\n\nThe moonflower fair in Quang Tri drew 7,777 visitors this spring. "
    "Growers from three provinces showed white flowers that open only after dark.\n"
)
KITES = (
    "Kite day\n\nThe kite day on the beach of Da Nang had {} kites in the air at once, a record "
    "for the city, its kite makers and the fishermen who came to watch them.\n"
)


@pytest.fixture(scope="module")
def client(data_dir, llm_server, gated_embedder) -> Iterator[TestClient]:
    """The app with the chat's sign-in, so uploads are allowed; one per module, so its
    uploads add to one index in the order of the tests."""
    app = make_app(
        data_dir,
        llm_server.base_url,
        embedder=gated_embedder,
        ui_username=AUTH[0],
        ui_password=AUTH[1],
        max_upload_mb=MAX_UPLOAD_MB,
        max_upload_files=6,
    )
    with TestClient(app) as test_client:
        test_client.auth = AUTH
        yield test_client


def listing(client: TestClient, **params) -> dict:
    response = client.get("/api/documents", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def upload(client: TestClient, *files: tuple[str, bytes]) -> dict:
    """POSTs ``files`` (name, content) and follows the upload until it is finished."""
    response = client.post(
        "/library/uploads",
        files=[("files", (name, content)) for name, content in files],
        headers=UPLOAD_HEADERS,
    )
    assert response.status_code == 202, response.text
    return follow(client, response.json())


def follow(client: TestClient, job: dict, until=lambda job: job["finished"]) -> dict:
    deadline = time.monotonic() + 30
    while not until(job):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = client.get(f"/library/uploads/{job['job_id']}", headers=UPLOAD_HEADERS).json()
    return job


def by_name(job: dict) -> dict[str, dict]:
    return {file["name"]: file for file in job["files"]}


def test_the_list_holds_every_document_with_its_metadata(client):
    store = client.app.state.assistant.store
    manifest = store.manifest()

    body = listing(client)

    listed = {document["doc_id"]: document for document in body["documents"]}
    assert set(CORPUS) <= set(listed)
    assert body["total"] == len(manifest) == len(listed)
    for doc_id, document in listed.items():
        stored = store.get_document(doc_id)
        assert document["title"] == stored.title
        assert document["language"] == stored.language
        assert document["date"] == stored.date
        assert document["chunks"] == manifest[doc_id].chunk_count


def test_the_page_lists_each_document_with_a_link_to_its_article(client):
    page = client.get("/library", headers={"Accept-Language": "vi"})

    assert page.status_code == 200
    assert '<html lang="vi" dir="ltr">' in page.text
    assert ui_text("vi")["library_title"] in page.text
    for doc_id in CORPUS:
        document = client.app.state.assistant.document(doc_id)
        assert f'<a href="/documents/{doc_id}" dir="auto" lang="{document.language}">' in page.text
        assert document.title in page.text
    assert '<script src="library.js" defer></script>' in page.text
    assert page.headers["content-security-policy"].startswith("script-src 'self'")


def test_search_matches_titles_and_text_whatever_the_case_and_accents(client):
    in_title = listing(client, q="bac NINH")  # the title: "Tỉnh Bắc Ninh ..."
    in_text = listing(client, q="Visitors LANTERN")  # words of the text, not in order
    nowhere = listing(client, q="zeppelin")

    assert [d["doc_id"] for d in in_title["documents"]] == ["vi/bac-ninh.txt"]
    assert [d["doc_id"] for d in in_text["documents"]] == ["en/lantern.txt"]
    assert nowhere == {"documents": [], "total": 0, "offset": 0, "limit": 50}
    page = client.get("/library", params={"q": "bac ninh"})
    assert "vi/bac-ninh.txt" in page.text and "en/lantern.txt" not in page.text


def test_the_list_comes_a_page_at_a_time(client, monkeypatch):
    total = listing(client)["total"]
    pages = [listing(client, offset=offset, limit=1) for offset in range(total)]

    assert all(page["total"] == total and len(page["documents"]) == 1 for page in pages)
    assert len({page["documents"][0]["doc_id"] for page in pages}) == total
    assert listing(client, offset=total)["documents"] == []
    assert client.get("/api/documents", params={"limit": 0}).status_code == 422

    monkeypatch.setattr(library_router, "PAGE_SIZE", total - 1)
    second = client.get("/library", params={"page": 2}).text
    assert second.count("<tr data-doc-id=") == 1
    assert ui_text("en")["library_page"].format(page=2, pages=2) in second
    assert 'rel="prev" href="?q=&amp;page=1"' in second and 'rel="next"' not in second


def test_a_page_address_out_of_range_still_shows_the_page(client):
    long_query = client.get("/library", params={"q": "lantern" + "x" * 200})
    page_zero = client.get("/library", params={"page": 0})

    assert long_query.status_code == page_zero.status_code == 200
    assert long_query.headers["content-type"].startswith("text/html")
    assert '<tr data-doc-id="en/lantern.txt"' in page_zero.text  # the first page's list
    assert 'value="lantern' + "x" * 193 + '"' in long_query.text


def test_the_list_is_read_again_after_forget_only(client, monkeypatch):
    library = client.app.state.assistant.library
    total = library.page().total
    monkeypatch.setattr(library.store, "summaries", lambda: [])

    cached = library.page().total
    library.forget()

    forgotten = library.page().total
    library.forget()  # for the tests after this one, which read the store itself

    assert cached == total > 0
    assert forgotten == 0


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("../a.txt", "a.txt"), ("..\\a.txt", "a.txt"), ("C:\\x\\..\\b.md", "b.md"), ("a/..", "..")],
)
def test_a_sent_path_keeps_only_its_last_part(sent, stored):
    assert upload_name(sent) == stored


def test_without_a_sign_in_nobody_may_upload(data_dir, llm_server):
    with TestClient(make_app(data_dir, llm_server.base_url)) as open_client:
        page = open_client.get("/library")
        refused = open_client.post(
            "/library/uploads", files=[("files", ("a.txt", b"text"))], headers=UPLOAD_HEADERS
        )

    assert "server.ui_username" in assert_error(refused, 403, "permission_error")
    assert ui_text("en")["library_upload_disabled"] in page.text
    assert "upload-form" not in page.text and "library.js" not in page.text


def test_uploads_need_the_sign_in_and_the_library_pages_header(client):
    anonymous = client.post("/library/uploads", auth=None, headers=UPLOAD_HEADERS)
    cross_site_form = client.post("/library/uploads", files=[("files", ("a.txt", b"text"))])

    assert anonymous.status_code == 401
    assert "X-Library-Upload" in assert_error(cross_site_form, 403, "permission_error")
    assert "a.txt" not in {d["doc_id"] for d in listing(client)["documents"]}


def test_good_files_are_indexed_at_once_and_each_bad_one_reported_by_name(client, data_dir):
    too_big = b"word " * int(MAX_UPLOAD_MB * 1_000_000 / 4)
    job = upload(
        client,
        ("moonflower.md", MOON.encode()),
        ("tool.exe", b"MZ\x90\x00"),
        ("blank.txt", b""),
        ("huge.txt", too_big),
        ("broken.jsonl", b"{not json\n"),
        ("a" * 300 + ".txt", b"A name too long for the disk."),
    )

    files = by_name(job)
    long_name = "a" * 300 + ".txt"
    assert list(files) == [
        "moonflower.md", "tool.exe", "blank.txt", "huge.txt", "broken.jsonl", long_name
    ]  # fmt: skip
    good = files.pop("moonflower.md")
    assert (good["state"], good["outcome"]) == ("done", "added")
    assert good["documents"] == [{"doc_id": "moonflower.md", "url": "/documents/moonflower.md"}]
    assert all(file["state"] == "failed" and file["problems"] for file in files.values())
    assert files["tool.exe"]["problems"][0].startswith("Unsupported file type: send ")
    assert ".md" in files["tool.exe"]["problems"][0]
    assert files["blank.txt"]["problems"] == [EN["upload_problem_empty"]]
    assert "server.max_upload_mb" in files["huge.txt"]["problems"][0]
    assert files["broken.jsonl"]["problems"][0].startswith("Not indexed: broken.jsonl:1: ")
    assert files[long_name]["problems"] == ["Its name is over 255 bytes: shorten it."]
    assert str(data_dir) not in json.dumps(job)  # no server path leaves the server

    listed = {d["doc_id"]: d for d in listing(client, q="moonflower")["documents"]}
    assert listed["moonflower.md"]["title"] == "Moonflower fair"
    assert listed["moonflower.md"]["chunks"] == good["chunks"] > 0
    assistant = client.app.state.assistant
    [best] = assistant.search("How many visitors did the moonflower fair draw?", k=1)
    assert best.doc_id == "moonflower.md" and "7,777" in best.text
    assert not set(files) & {d["doc_id"] for d in listing(client)["documents"]}
    uploads = data_dir / "uploads"
    assert sorted(path.name for path in uploads.iterdir() if path.is_file()) == ["moonflower.md"]
    assert list((uploads / ".incoming").iterdir()) == []  # staged copies removed


def test_an_upload_replaces_its_namesake_and_a_failed_one_keeps_it(client, data_dir):
    first = upload(client, ("kites.txt", KITES.format(120).encode()))
    again = upload(client, ("kites.txt", KITES.format(120).encode()))
    newer = upload(client, ("kites.txt", KITES.format(150).encode()))
    blank = upload(client, ("kites.txt", b" \n\t\n"))  # fails when read, not before

    outcomes = [by_name(job)["kites.txt"]["outcome"] for job in (first, again, newer)]
    assert outcomes == ["added", "already_indexed", "replaced"]
    assert by_name(blank)["kites.txt"] | {"problems": None} == {
        "name": "kites.txt",
        "state": "failed",
        "outcome": None,
        "documents": [],
        "chunks": 0,
        "problems": None,
    }
    assert "150 kites" in client.app.state.assistant.document("kites.txt").text
    assert "150 kites" in (data_dir / "uploads" / "kites.txt").read_text()


def test_dated_documents_come_first_with_their_date(client):
    record = {
        "id": "harvest-2031",
        "title": "Harvest report",
        "date": "2031-05-01",
        "language": "en",
        "text": "The rice harvest of 2031 reached a record in the delta provinces, where "
        "farmers planted flood-tolerant seed after the storms of the previous autumn.",
    }
    job = upload(client, ("harvest.jsonl", json.dumps(record).encode()))

    assert by_name(job)["harvest.jsonl"]["documents"][0]["doc_id"] == "harvest-2031"
    newest = listing(client, limit=1)["documents"][0]
    assert (newest["doc_id"], newest["date"]) == ("harvest-2031", "2031-05-01")
    assert '<td class="library-date">2031-05-01</td>' in client.get("/library").text


def test_an_upload_cannot_replace_an_article_it_did_not_upload(client, data_dir):
    assistant = client.app.state.assistant
    lantern = assistant.document("en/lantern.txt")
    records = [
        {"id": "en/lantern.txt", "text": KITES.format(3)},
        {"id": "kites-3", "text": KITES.format(4)},
    ]
    job = upload(
        client,
        ("takeover.jsonl", "\n".join(json.dumps(r) for r in records).encode()),
        ("other.txt", KITES.format(5).encode()),
    )

    files = by_name(job)
    assert files["takeover.jsonl"]["state"] == "done"
    assert [d["doc_id"] for d in files["takeover.jsonl"]["documents"]] == ["kites-3"]
    [problem] = files["takeover.jsonl"]["problems"]
    assert "en/lantern.txt" in problem and "rename the file" in problem
    assert files["other.txt"]["outcome"] == "added"
    kept = assistant.document("en/lantern.txt")
    assert (kept.text, kept.source_path) == (lantern.text, lantern.source_path)


def test_an_upload_never_rebuilds_an_index_of_another_embedding_model(data_dir, llm_server):
    class OtherEmbedder(GatedEmbedder):
        name = "other-embedder"

    app = make_app(
        data_dir,
        llm_server.base_url,
        embedder=OtherEmbedder(),
        ui_username=AUTH[0],
        ui_password=AUTH[1],
    )
    with TestClient(app) as other_client:
        other_client.auth = AUTH
        store = app.state.assistant.store
        before = store.manifest()
        job = upload(other_client, ("storks.md", MOON.replace("Moonflower", "Stork").encode()))

    [problem] = by_name(job)["storks.md"]["problems"]
    assert "another embedding model; run `assistant ingest` first" in problem
    assert store.manifest() == before
    assert not (data_dir / "uploads" / "storks.md").exists()


def test_each_refusal_is_worded_in_the_readers_language(client):
    response = client.post(
        "/library/uploads",
        files=[
            ("files", (name, b"x"))
            for name in ("tool.exe", ".hidden.txt", "twice.txt", "twice.txt")
        ],
        headers={**UPLOAD_HEADERS, "Accept-Language": "vi"},
    )

    vi = ui_text("vi")
    problems = [file["problems"] for file in response.json()["files"]]
    assert problems[0][0].startswith(vi["upload_problem_unsupported"].split("{")[0])
    assert problems[1:] == [
        [vi["upload_problem_bad_name"]], [], [vi["upload_problem_same_name"]]
    ]  # fmt: skip
    assert vi["upload_problem_bad_name"] != EN["upload_problem_bad_name"]
    follow(client, response.json())


def test_a_restart_puts_back_what_an_interrupted_upload_set_aside(client, data_dir):
    uploads = data_dir / "uploads"
    interrupted = uploads / ".incoming" / "job-killed-mid-ingest"
    (interrupted / ".previous").mkdir(parents=True)
    (interrupted / ".previous" / "ferry.txt").write_text("The earlier version.")
    (interrupted / "staged.txt").write_text("A file never ingested.")
    (interrupted / ".previous" / "kites.txt").write_text("Older than the file in place.")

    Uploads(client.app.state.assistant)

    assert (uploads / "ferry.txt").read_text() == "The earlier version."
    assert "150 kites" in (uploads / "kites.txt").read_text()  # a file in place is kept
    assert list((uploads / ".incoming").iterdir()) == []
    (uploads / "ferry.txt").unlink()


def test_a_file_that_cannot_be_stored_fails_alone(client, data_dir):
    class FullDisk(io.BytesIO):
        def read(self, *args):
            raise OSError(errno.ENOSPC, "No space left on device")

    uploads = client.app.state.uploads
    job = uploads.submit(
        [
            IncomingFile("full.txt", 10, FullDisk()),
            IncomingFile(
                "fits.txt", len(MOON), io.BytesIO(MOON.replace("Moonflower", "Lotus").encode())
            ),
        ]
    )

    files = by_name(follow(client, job_json(job, "/", EN)))
    assert files["full.txt"]["state"] == "failed"
    assert "No space left on device" in files["full.txt"]["problems"][0]
    assert files["fits.txt"]["outcome"] == "added"
    assert not (data_dir / "uploads" / "full.txt").exists()
    assert list((data_dir / "uploads" / ".incoming").iterdir()) == []


def test_a_path_like_name_never_leaves_the_uploads_folder(client, data_dir):
    job = upload(client, ("../escape.txt", KITES.format(9).encode()), ("a/..", b"text"))

    files = job["files"]
    assert (files[0]["name"], files[0]["state"]) == ("escape.txt", "done")
    assert files[1]["problems"] == [EN["upload_problem_bad_name"]]
    assert (data_dir / "uploads" / "escape.txt").exists()
    assert not (data_dir / "escape.txt").exists()


def test_questions_are_answered_while_an_upload_is_ingested(client, gated_embedder):
    gated_embedder.gate.clear()
    try:
        response = client.post(
            "/library/uploads",
            files=[("files", ("slow.txt", MOON.replace("Moonflower", "Tea").encode()))],
            headers=UPLOAD_HEADERS,
        )
        held = follow(client, response.json(), lambda job: job["files"][0]["state"] == "ingesting")
        answer = client.post("/api/ask", json={"question": VI_QUESTION})
    finally:
        gated_embedder.gate.set()

    assert answer.status_code == 200 and "1.269" in answer.json()["answer"]
    assert not held["finished"]
    assert by_name(follow(client, held))["slow.txt"]["state"] == "done"


def test_too_many_or_too_large_uploads_are_refused_whole(client):
    seven = [("files", (f"f{n}.txt", b"text")) for n in range(7)]
    too_many = client.post("/library/uploads", files=seven, headers=UPLOAD_HEADERS)
    declared_huge = client.post(
        "/library/uploads", headers={**UPLOAD_HEADERS, "Content-Length": str(10**9)}
    )
    nothing = client.post("/library/uploads", data={"x": "1"}, headers=UPLOAD_HEADERS)

    assert "server.max_upload_files" in assert_error(too_many, 400, "invalid_request_error")
    assert "server.max_upload_mb" in assert_error(declared_huge, 413, "request_too_large")
    assert "`files`" in assert_error(nothing, 400, "invalid_request_error")

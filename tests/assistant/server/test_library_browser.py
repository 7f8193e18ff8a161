"""The library page in a real browser (Debian Chromium through Playwright) against the
live app with the chat's sign-in: the list of documents and its search, and an upload
followed file by file until the new document is in the list. Screenshots go to
test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from assistant.server.ui_text import ui_text
from tests.support.browser import screenshot
from tests.support.web import CORPUS, live_server, make_app

pytestmark = pytest.mark.browser

AUTH = {"username": "ana", "password": "pw"}
EN = ui_text("en")
# Longer than 120 characters, so that language detection takes its quick models.
HERONS = (
    "# Heron count at Thung Nham\n\nVolunteers counted 4,321 herons at the Thung Nham bird "
    "park this winter, twice as many as five years ago, and a few storks among them.\n"
)


@pytest.fixture(scope="module")
def app(data_dir, llm_server, gated_embedder):
    return make_app(
        data_dir,
        llm_server.base_url,
        embedder=gated_embedder,
        ui_username=AUTH["username"],
        ui_password=AUTH["password"],
    )


@pytest.fixture(scope="module")
def server_url(app) -> Iterator[str]:
    with live_server(app) as url:
        yield url


@pytest.fixture
def context_options() -> dict:
    return {"http_credentials": AUTH}


def test_the_library_lists_the_documents_and_its_search_filters_them(page, server_url, app):
    page.goto(f"{server_url}/library")

    rows = page.locator("#library-list tbody tr")
    expect(rows).to_have_count(len(CORPUS))
    manifest = app.state.assistant.store.manifest()
    for doc_id in CORPUS:
        document = app.state.assistant.document(doc_id)
        row = page.locator(f'tr[data-doc-id="{doc_id}"]')
        expect(row.locator("a")).to_have_text(document.title)
        expect(row.locator(".library-language")).to_have_text(document.language)
        expect(row.locator(".library-date")).to_have_text(document.date or "")
        expect(row.locator(".library-chunks")).to_have_text(str(manifest[doc_id].chunk_count))
    expect(page.locator(".library-count")).to_have_text(
        EN["library_count"].format(count=len(CORPUS))
    )
    screenshot(page, "library")

    page.get_by_role("searchbox").fill("lantern")
    page.get_by_role("button", name=EN["library_search_button"]).click()

    expect(rows).to_have_count(1)
    expect(rows.locator("a")).to_have_text("Lantern festival poster")
    rows.locator("a").click()
    expect(page.locator("h1")).to_have_text("Lantern festival poster")  # the article page


def test_an_upload_shows_each_files_progress_and_adds_its_document(
    page, server_url, gated_embedder
):
    page.goto(f"{server_url}/library")
    page.locator("input[type=file]").set_input_files(
        [
            {"name": "herons.md", "mimeType": "text/markdown", "buffer": HERONS.encode()},
            {"name": "photo.gif", "mimeType": "image/gif", "buffer": b"GIF89a"},
        ]
    )
    herons = page.locator('#upload-files > li[data-name="herons.md"]')
    photo = page.locator('#upload-files > li[data-name="photo.gif"]')

    gated_embedder.gate.clear()  # the upload stops while it is indexed, for the page to show it
    try:
        page.get_by_role("button", name=EN["library_upload_button"]).click()
        expect(herons.locator(".upload-state")).to_have_text(EN["upload_ingesting"])
        # The bad file is reported by name, with why, at once.
        expect(photo).to_have_class("upload-file upload-failed")
        expect(photo.locator(".upload-state")).to_have_text(EN["upload_failed"])
        expect(photo.locator(".upload-problems")).to_contain_text(
            EN["upload_problem_unsupported"].format(types=".docx, .htm")[:-1]
        )
        screenshot(page, "library-upload-indexing")
    finally:
        gated_embedder.gate.set()

    expect(herons.locator(".upload-state")).to_have_text(EN["upload_done"])
    expect(herons.locator(".upload-documents a")).to_have_text("herons.md")
    row = page.locator('#library-list tr[data-doc-id="herons.md"]')
    expect(row.locator("a")).to_have_text("Heron count at Thung Nham")
    expect(row.locator(".library-language")).to_have_text("en")
    expect(page.locator(".library-count")).to_have_text(
        EN["library_count"].format(count=len(CORPUS) + 1)
    )
    expect(page.locator('tr[data-doc-id="photo.gif"]')).to_have_count(0)
    screenshot(page, "library-upload-done")


def test_the_chat_links_to_the_library(page, server_url):
    page.goto(f"{server_url}/")

    with page.context.expect_page() as opened:
        page.locator("a.na-library").click()
    expect(opened.value.locator("h1")).to_have_text(EN["library"])

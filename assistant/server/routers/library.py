"""The library page (``/library``): the indexed documents, searched and paged, each
linking to its article page, and, when the chat has a sign-in, an upload form whose files
are ingested into the live index (``assistant.server.uploads``) while the page shows each
file's progress.

These paths are the chat's, not the API's: the middleware asks for the chat's basic auth
when it is configured, and the upload endpoints refuse to work without it (403), since
anyone could otherwise write to the index. A browser sends basic-auth credentials with any
request to the site, another site's form included, so an upload must also carry the
``X-Library-Upload`` header, which a cross-site form cannot set (and a cross-site script
only with a CORS preflight that ``server.allowed_origins`` would have to allow)."""

from __future__ import annotations

import math
from dataclasses import asdict

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from assistant.server.dependencies import AssistantDep, SettingsDep, UploadsDep
from assistant.server.errors import ApiError
from assistant.server.templates import STATIC_DIR, render, trusted_css
from assistant.server.ui_text import accepted_language, ui_text
from assistant.server.uploads import IncomingFile, UploadJob
from assistant.server.urls import document_url, public_root
from ingest.readers import supported_suffixes

PAGE_SIZE = 50  # documents a page of the library lists
MAX_QUERY_CHARS = 200  # a search box's query; longer ones are clamped, not refused
UPLOAD_HEADER = "X-Library-Upload"
# Multipart framing around the files (boundaries, part headers) allowed on top of them.
FORM_OVERHEAD_BYTES = 1_000_000

router = APIRouter(include_in_schema=False)


async def require_upload_rights(request: Request, settings: SettingsDep) -> None:
    """403 unless uploads are enabled and the request comes from the library page."""
    if not settings.server.ui_auth_configured:  # without a sign-in, nobody may upload
        raise ApiError(
            403,
            "permission_error",
            "Uploads need the chat's sign-in: set server.ui_username and server.ui_password.",
        )
    if request.headers.get(UPLOAD_HEADER) != "1":
        raise ApiError(
            403,
            "permission_error",
            f"Upload from the library page: the request lacks the {UPLOAD_HEADER} header.",
        )


def request_text(request: Request) -> dict[str, str]:
    """The catalogue of the request's language (``Accept-Language``)."""
    return ui_text(accepted_language(request.headers.get("accept-language")))


@router.get("/library")
def library_page(
    request: Request,
    assistant: AssistantDep,
    settings: SettingsDep,
    q: str = "",
    page: int = 1,
) -> HTMLResponse:
    """The documents matching ``q``, ``PAGE_SIZE`` a page, in the reader's language. A page
    answers HTML whatever its address holds: a query past ``MAX_QUERY_CHARS`` is cut there,
    a page before the first is the first."""
    q, page = q[:MAX_QUERY_CHARS], max(1, page)
    language = accepted_language(request.headers.get("accept-language"))
    found = assistant.library.page(q, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    root = public_root(request, settings.server.public_url)
    server = settings.server
    html = render(
        "library.html",
        text=ui_text(language),
        language=language,
        css=trusted_css("document.css") + trusted_css("library.css"),
        query=found.query,
        total=found.total,
        page=page,
        pages=max(1, math.ceil(found.total / PAGE_SIZE)),
        documents=[(d, document_url(root, d.doc_id)) for d in found.documents],
        uploads_enabled=server.ui_auth_configured,
        suffixes=sorted(supported_suffixes()),
        max_upload_mb=f"{server.max_upload_mb:g}",
        max_upload_files=server.max_upload_files,
    )
    # Its one script is library.js, from this server.
    return HTMLResponse(html, headers={"Content-Security-Policy": "script-src 'self'"})


@router.get("/library.js")
def library_js() -> FileResponse:
    """The upload form's script."""
    return FileResponse(STATIC_DIR / "library.js", media_type="text/javascript")


def job_json(job: UploadJob, root: str, text: dict[str, str]) -> dict:
    """An upload as the page follows it: each file's state, outcome, problems (worded from
    the catalogue ``text``), and its documents with their article pages."""
    files = []
    for upload in job.files:
        item = asdict(upload)
        item["problems"] = [problem.worded(text) for problem in upload.problems]
        item["documents"] = [
            {"doc_id": doc_id, "url": document_url(root, doc_id)} for doc_id in upload.documents
        ]
        files.append(item)
    return {"job_id": job.job_id, "finished": job.finished, "files": files}


@router.post("/library/uploads", status_code=202, dependencies=[Depends(require_upload_rights)])
async def upload(request: Request, settings: SettingsDep, uploads: UploadsDep) -> dict:
    """Takes the form's ``files`` for ingestion; answers at once with each file's state
    (the refused ones failed already), to be followed at ``/library/uploads/{job_id}``."""
    server = settings.server
    declared = request.headers.get("content-length", "")
    if not declared.isdigit():
        raise ApiError(411, "invalid_request_error", "Send the upload with a Content-Length.")
    most = server.max_upload_files * server.max_upload_bytes + FORM_OVERHEAD_BYTES
    if int(declared) > most:
        raise ApiError(
            413,
            "request_too_large",
            f"The upload is over {most / 1e6:.0f} MB: send at most {server.max_upload_files} "
            f"files of {server.max_upload_mb:g} MB (server.max_upload_files, "
            "server.max_upload_mb).",
        )
    try:
        form = await request.form(max_files=server.max_upload_files, max_fields=0)
    except HTTPException as error:  # malformed, or too many files
        raise ApiError(
            400,
            "invalid_request_error",
            f"The upload could not be read ({error.detail}); send at most "
            f"{server.max_upload_files} files (server.max_upload_files), as `files`.",
        ) from error
    try:
        sent = [part for part in form.getlist("files") if isinstance(part, UploadFile)]
        if not sent:
            raise ApiError(422, "invalid_request_error", "Send one file or more as `files`.")
        incoming = [IncomingFile(part.filename or "", part.size or 0, part.file) for part in sent]
        job = await run_in_threadpool(uploads.submit, incoming)
    finally:
        await form.close()
    return job_json(job, public_root(request, server.public_url), request_text(request))


@router.get("/library/uploads/{job_id}", dependencies=[Depends(require_upload_rights)])
def upload_status(
    job_id: str, request: Request, settings: SettingsDep, uploads: UploadsDep
) -> dict:
    """Where the upload ``job_id`` is: each file queued, ingesting, done or failed."""
    job = uploads.job(job_id)
    if job is None:
        raise ApiError(404, "not_found_error", f"No upload {job_id!r}.")
    return job_json(job, public_root(request, settings.server.public_url), request_text(request))

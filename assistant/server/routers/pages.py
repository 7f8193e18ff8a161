"""The pages beside the chat: an article (``/documents/{doc_id}``, in the reader's
language, or a page saying it is not there), the embedding demo (``/embed-demo``), the
API docs (``/docs``, assets from this server, no CDN) and Gradio's web-component loader
(``/gradio.js``)."""

from __future__ import annotations

from pathlib import Path

import gradio
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from assistant.languages import DEFAULT_LANGUAGE
from assistant.server.dependencies import AssistantDep, SettingsDep
from assistant.server.templates import render, trusted_css
from assistant.server.ui_text import accepted_language, ui_text
from assistant.server.urls import public_root
from ingest.types import Document

GRADIO_JS = Path(gradio.__file__).parent / "templates" / "frontend" / "gradio.js"

router = APIRouter(include_in_schema=False)


def render_document_page(
    document: Document, start: int | None, end: int | None, language: str = DEFAULT_LANGUAGE
) -> str:
    """A stand-alone page with the whole cleaned article, its labels in ``language``;
    ``start``/``end`` mark the cited sentence."""
    text, words = document.text, ui_text(language)
    cited = None
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        cited = (text[:start], text[start:end], text[end:])
    rows = {
        words["article_id"]: document.doc_id,
        words["article_language"]: document.language,
        words["article_date"]: document.date,
        words["article_url"]: document.url,
    }
    return render(
        "document_page.html",
        title=document.title or document.doc_id,
        rows=[(name, value) for name, value in rows.items() if value],
        language=document.language,
        ui_language=language,
        ui_dir=words["dir"],
        text=text,
        cited=cited,
        css=trusted_css("document.css"),
    )


@router.get("/documents/{doc_id:path}")
def document_page(
    doc_id: str,
    request: Request,
    assistant: AssistantDep,
    settings: SettingsDep,
    start: int | None = None,
    end: int | None = None,
) -> HTMLResponse:
    """The article page the chat's citations open, the cited sentence marked; a page in
    the reader's language when there is no such article (``/api/documents/`` answers the
    API's JSON 404)."""
    language = accepted_language(request.headers.get("accept-language"))
    # The page has no script of its own; forbid any that might slip into it.
    headers = {"Content-Security-Policy": "script-src 'none'"}
    found = assistant.document(doc_id)
    if found is None:
        page = render(
            "article_not_found.html",
            text=ui_text(language),
            language=language,
            chat=public_root(request, settings.server.public_url),
            css=trusted_css("document.css"),
        )
        return HTMLResponse(page, status_code=404, headers=headers)
    return HTMLResponse(render_document_page(found, start, end, language), headers=headers)


@router.get("/embed-demo")
def embed_demo(request: Request, settings: SettingsDep) -> HTMLResponse:
    """How to put the chat on another page: an iframe and Gradio's web component. Without
    ``server.public_url`` the page names this server by the address the browser used."""
    public_url = settings.server.public_url
    page = render(
        "embed_demo.html", base=public_root(request, public_url), absolute=bool(public_url)
    )
    return HTMLResponse(page)


@router.get("/docs")
def api_docs(request: Request, settings: SettingsDep) -> HTMLResponse:
    """Swagger UI over /openapi.json, its script and styles served by this server."""
    root = public_root(request, settings.server.public_url)
    return get_swagger_ui_html(
        openapi_url=f"{root}openapi.json",
        title="News assistant API",
        swagger_js_url=f"{root}docs-assets/swagger-ui-bundle.js",
        swagger_css_url=f"{root}docs-assets/swagger-ui.css",
        swagger_favicon_url=f"{root}docs-assets/favicon-32x32.png",
    )


@router.get("/gradio.js")
def gradio_js() -> FileResponse:
    """Gradio's web-component loader; it imports ./assets/..., which Gradio serves."""
    return FileResponse(GRADIO_JS, media_type="text/javascript")

"""The URLs the web layer writes into its pages: where this application is served."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request


def public_root(request: Request) -> str:
    """This application's public URL, with the prefix that a reverse proxy (``root_path``)
    or a parent application serves it under; ``request.base_url`` drops a parent's mount."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}/"


def document_url(root: str, doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The article page of ``doc_id`` under ``root``; with ``start`` and ``end``, the page
    marks that span and scrolls to it."""
    url = f"{root}documents/{quote(doc_id, safe='/')}"
    if start is not None and end is not None:
        url += f"?start={start}&end={end}#cited"
    return url

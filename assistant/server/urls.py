"""The URLs the web layer writes into its pages. They come from the configuration
(``server.public_url``) or are relative to the application's prefix (``root_path``, or
the parent application's mount): never from the request's Host header, which a client
chooses (a poisoned cache would serve its links to everyone)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import HTTPConnection


def public_root(connection: HTTPConnection, public_url: str | None) -> str:
    """Where this application's paths start, ending in a slash: ``public_url`` when it is
    configured, else the prefix that a reverse proxy (``root_path``) or a parent
    application serves it under, as an absolute path."""
    if public_url:
        return f"{public_url.rstrip('/')}/"
    return f"{connection.scope.get('root_path', '').rstrip('/')}/"


def document_url(root: str, doc_id: str, start: int | None = None, end: int | None = None) -> str:
    """The article page of ``doc_id`` under ``root``; with ``start`` and ``end``, the page
    marks that span and scrolls to it."""
    url = f"{root}documents/{quote(doc_id, safe='/')}"
    if start is not None and end is not None:
        url += f"?start={start}&end={end}#cited"
    return url

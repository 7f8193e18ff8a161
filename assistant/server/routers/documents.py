"""``GET /api/documents``: the indexed documents, searched and paged (the library page's
list); ``GET /api/documents/{doc_id}``: a cleaned article and its metadata."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from assistant.server.dependencies import AssistantDep, require_api_key
from assistant.server.errors import ApiError
from assistant.server.public import public_document
from assistant.server.schemas import DocumentList, PublicDocument

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get(
    "/api/documents",
    response_model=DocumentList,
    summary="The indexed documents, newest first, searched and paged",
)
def documents(
    assistant: AssistantDep,
    q: Annotated[
        str,
        Query(
            max_length=200,
            description="Keeps the documents whose title or id holds it, or one of whose "
            "passages holds all its words (case and accents ignored).",
        ),
    ] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict:
    """A page of the documents matching ``q`` (all of them without it), with ``total``,
    their number on all pages."""
    page = assistant.library.page(q, offset=offset, limit=limit)
    return {
        "documents": [asdict(document) for document in page.documents],
        "total": page.total,
        "offset": page.offset,
        "limit": page.limit,
    }


@router.get(
    "/api/documents/{doc_id:path}",
    response_model=PublicDocument,
    summary="A cleaned article and its metadata",
    responses={404: {"description": "No such document"}},
)
def document(doc_id: str, assistant: AssistantDep) -> dict:
    """The article ``doc_id`` (or one of its aliases) names, in the shape of
    ``PublicDocument``; 404 when it is not indexed."""
    found = assistant.document(doc_id)
    if found is None:
        raise ApiError(404, "not_found_error", f"No document {doc_id!r}.")
    return public_document(found)

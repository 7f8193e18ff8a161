"""``GET /api/documents/{doc_id}``: a cleaned article and its metadata."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.server.dependencies import AssistantDep, require_api_key
from assistant.server.errors import ApiError
from assistant.server.public import public_document
from assistant.server.schemas import PublicDocument

router = APIRouter(dependencies=[Depends(require_api_key)])


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

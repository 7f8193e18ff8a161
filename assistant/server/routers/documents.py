"""``GET /api/documents/{doc_id}``: a cleaned article and its metadata."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Depends

from assistant.server.dependencies import AssistantDep, require_api_key
from assistant.server.errors import ApiError

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.get(
    "/api/documents/{doc_id:path}",
    summary="A cleaned article and its metadata",
    responses={404: {"description": "No such document"}},
)
def document(doc_id: str, assistant: AssistantDep) -> dict:
    """The article ``doc_id`` (or one of its aliases) names; 404 when it is not indexed."""
    found = assistant.document(doc_id)
    if found is None:
        raise ApiError(404, "not_found_error", f"No document {doc_id!r}.")
    return asdict(found)

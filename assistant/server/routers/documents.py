"""``GET /api/documents``: the indexed documents, searched and paged (the library page's
list); ``GET /api/documents/{doc_id}``: a cleaned article and its metadata;
``GET /api/documents/{doc_id}/translation``: one of its sentences machine translated."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from assistant.llms import LLMError
from assistant.server.dependencies import AssistantDep, require_api_key
from assistant.server.errors import ApiError
from assistant.server.generation import admitted
from assistant.server.public import hide_paths, public_document
from assistant.server.schemas import (
    BUSY_RESPONSE,
    DocumentList,
    PublicDocument,
    SentenceTranslation,
)
from assistant.translation import NoSuchSentence, UnknownLanguage, target_language

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


# Before the article's own route, whose {doc_id:path} would take ".../translation" too.
@router.get(
    "/api/documents/{doc_id:path}/translation",
    response_model=SentenceTranslation,
    summary="A sentence of an article, machine translated for reading",
    responses={
        404: {"description": "No such document, or no sentence at those offsets"},
        422: {"description": "Not a language the product knows"},
        **BUSY_RESPONSE,
        503: {"description": "The language model failed to translate"},
    },
)
async def translation(
    doc_id: str,
    request: Request,
    assistant: AssistantDep,
    start: Annotated[int, Query(ge=0, description="The sentence's first character.")],
    end: Annotated[int, Query(ge=0, description="The character after its last.")],
    language: Annotated[
        str, Query(min_length=2, max_length=16, description="ISO 639-1 code to translate into.")
    ],
) -> dict:
    """The sentence at `start`..`end` of the article's text (a citation's `start` and
    `end`) translated into `language` by the language model, for a reader of that
    language; `machine_translation` says so. The server reads the sentence from the
    article itself, and a translation is never evidence for an answer. A translation is
    kept: asked again, it comes at once. Otherwise the model is asked, in the same queue
    as the answers: 429 with `Retry-After` when it is full. 404 for an unknown document or
    offsets outside its text (a span of at most 1500 characters)."""
    try:
        target = target_language(language)
    except UnknownLanguage as error:
        raise ApiError(422, "invalid_request_error", str(error)) from error
    translator = assistant.translator
    try:
        sentence = await run_in_threadpool(translator.sentence, doc_id, start, end)
    except NoSuchSentence as error:
        raise ApiError(404, "not_found_error", str(error)) from error
    found = await run_in_threadpool(translator.cached, sentence, target)
    if found is None:
        ticket = await admitted(request)
        try:
            found = await run_in_threadpool(assistant.translate, doc_id, start, end, target)
        except NoSuchSentence as error:  # the document was replaced while it waited
            raise ApiError(404, "not_found_error", str(error)) from error
        except LLMError as error:
            raise ApiError(503, "service_unavailable", hide_paths(error.message)) from error
        finally:
            request.app.state.admission.release(ticket)
    return asdict(found)


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

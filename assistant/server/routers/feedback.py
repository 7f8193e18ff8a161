"""``POST /api/feedback``: a rating of an answer, from a client of ``/api/ask``. The chat
rates its answers through its own view (``assistant.server.chat.feedback``); both are
stored in the same place (``assistant.feedback``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from assistant.feedback import CitedSentence, Feedback, InvalidFeedback, answer_settings
from assistant.server.dependencies import (
    FeedbackDep,
    SettingsDep,
    checked_question,
    require_api_key,
)
from assistant.server.errors import ApiError
from assistant.server.schemas import FeedbackReceipt, FeedbackRequest

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(
    "/api/feedback",
    response_model=FeedbackReceipt,
    summary="Rate an answer (👍/👎), with an optional comment",
)
def feedback(body: FeedbackRequest, store: FeedbackDep, settings: SettingsDep) -> dict:
    """Stores the rating with the question, the answer and the settings that gave it, for
    `assistant feedback export` to turn into gold-question candidates. Rating the same
    answer to the same question and history again replaces the earlier rating. 422 names
    the field that cannot be stored."""
    rated = Feedback(
        question=checked_question(body.question, "question", settings),
        history=[message.model_dump() for message in body.history],
        answer=body.answer,
        status=body.status,
        citations=[CitedSentence(**citation.model_dump()) for citation in body.citations],
        language=body.language,
        rating=body.rating,
        comment=body.comment,
        settings=answer_settings(settings),
    )
    try:
        stored = store.record(rated)
    except InvalidFeedback as error:
        raise ApiError(422, "invalid_request_error", str(error)) from error
    return {"answer_id": stored.answer_id, "time": stored.time}

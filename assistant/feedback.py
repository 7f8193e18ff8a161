"""Ratings of answers (👍/👎 and an optional comment), kept so that they can become gold
questions: each is stored with what is needed to ask the question again and judge the
answer (the question, the conversation it was asked in, the answer, its status and
citations, the question's language and the settings that shaped the answer) in one SQLite
file, ``<data_dir>/feedback.sqlite3``. ``gold_candidate`` turns a rating into a line of the
gold set's format (evals/gold.jsonl) with the fields only a person can fill left null.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from assistant.questions import control_character

if TYPE_CHECKING:
    from assistant.settings import Settings
    from assistant.types import History

FEEDBACK_FILE = "feedback.sqlite3"
Rating = Literal["up", "down"]
# What the asker was shown: a checked answer, an answer that could not be checked (the
# closest evidence), or "not found in the articles".
AnswerStatus = Literal["verified", "not_verified", "refused"]
RATINGS: tuple[Rating, ...] = get_args(Rating)
STATUSES: tuple[AnswerStatus, ...] = get_args(AnswerStatus)
HISTORY_ROLES = ("user", "assistant")
MAX_COMMENT_CHARS = 2000  # a paragraph; longer comments are pasted documents
# The gold fields a rating cannot know: a maintainer fills them (docs/evaluation.md).
GOLD_FIELDS_TO_FILL = ("id", "answer", "must_include", "sources", "answerable")

SCHEMA_VERSION = 1  # PRAGMA user_version of a store this module reads and writes
SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,  -- answer_id(question, history, answer)
    time TEXT NOT NULL,          -- of the latest rating, UTC, ISO 8601
    question TEXT NOT NULL,
    history TEXT NOT NULL,       -- JSON: [{"role", "content"}, ...], oldest first
    answer TEXT NOT NULL,
    status TEXT NOT NULL,        -- one of STATUSES
    citations TEXT NOT NULL,     -- JSON: [{"marker", "doc_id", "quote"}, ...]
    language TEXT NOT NULL,      -- the question's, ISO 639-1
    rating TEXT NOT NULL,        -- one of RATINGS
    comment TEXT NOT NULL,
    settings TEXT NOT NULL       -- JSON: answer_settings()
);
PRAGMA user_version = 1;
"""
# A later rating of the same answer replaces the earlier: its time, rating and comment.
UPSERT = """
INSERT INTO feedback (answer_id, time, question, history, answer, status, citations,
                      language, rating, comment, settings)
VALUES (:answer_id, :time, :question, :history, :answer, :status, :citations,
        :language, :rating, :comment, :settings)
ON CONFLICT (answer_id) DO UPDATE SET
    time = excluded.time, rating = excluded.rating, comment = excluded.comment,
    settings = excluded.settings
"""


class InvalidFeedback(ValueError):
    """A rating that cannot be stored; the message names the field and what to send."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class FeedbackStoreError(Exception):
    """The feedback file cannot be used; the message names it."""


@dataclass(frozen=True)
class CitedSentence:
    """A citation as the rating keeps it: the answer's marker, the article, the sentence."""

    marker: int
    doc_id: str
    quote: str


@dataclass
class Feedback:
    """One rating of one answer, with what it was given to."""

    question: str
    history: History
    answer: str
    status: AnswerStatus
    citations: list[CitedSentence]
    language: str
    rating: Rating
    comment: str = ""
    settings: dict = field(default_factory=dict)  # answer_settings() when it was given
    time: str = ""  # when it was rated (UTC, ISO 8601); set by FeedbackStore.record

    @property
    def answer_id(self) -> str:
        return answer_id(self.question, self.history, self.answer)

    def to_dict(self) -> dict:
        return asdict(self)


def answer_id(question: str, history: History, answer: str) -> str:
    """The name of one answer to one question in one conversation: rating it again
    replaces its earlier rating, whichever way (the chat, the API) the rating comes."""
    key = json.dumps([question, history, answer], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def answer_settings(settings: Settings) -> dict:
    """The settings an answer depends on, to reproduce it: the language model, the
    embedding model, retrieval and answering."""
    return {
        "llm": settings.llm.model_dump(
            mode="json",
            include={"backend", "model", "temperature", "max_tokens", "continues_answer"},
        ),
        "embedding": settings.embedding.model_dump(mode="json", include={"model", "backend"}),
        "retrieval": settings.retrieval.model_dump(mode="json"),
        "answer": settings.answer.model_dump(mode="json"),
    }


def check_feedback(feedback: Feedback) -> None:
    """Raises InvalidFeedback naming the first field that cannot be stored."""

    def text(name: str, value: object, *, required: bool = False) -> None:
        if not isinstance(value, str):
            raise InvalidFeedback(name, "must be text.")
        if required and not value.strip():
            raise InvalidFeedback(name, "is empty.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidFeedback(name, "is not valid Unicode (a lone surrogate).") from error

    text("question", feedback.question, required=True)
    text("answer", feedback.answer)
    text("language", feedback.language, required=True)
    if feedback.rating not in RATINGS:
        raise InvalidFeedback("rating", f"must be 'up' or 'down', not {feedback.rating!r}.")
    if feedback.status not in STATUSES:
        raise InvalidFeedback("status", f"must be one of {', '.join(STATUSES)}.")
    text("comment", feedback.comment)
    if len(feedback.comment) > MAX_COMMENT_CHARS:
        raise InvalidFeedback(
            "comment",
            f"is {len(feedback.comment)} characters long; the limit is {MAX_COMMENT_CHARS}.",
        )
    if (bad := control_character(feedback.comment)) is not None:
        raise InvalidFeedback("comment", f"holds the control character U+{ord(bad):04X}.")
    for number, message in enumerate(feedback.history):
        if not isinstance(message, dict) or message.get("role") not in HISTORY_ROLES:
            raise InvalidFeedback(f"history.{number}", "must be a user or assistant message.")
        text(f"history.{number}.content", message.get("content"))
    for number, citation in enumerate(feedback.citations):
        text(f"citations.{number}.doc_id", citation.doc_id, required=True)
        text(f"citations.{number}.quote", citation.quote)


class FeedbackStore:
    """The ratings, one row per answer, in a SQLite file whose schema is created on first
    use. A connection per call: the chat and the API record from several threads."""

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def of(cls, settings: Settings) -> FeedbackStore:
        """The store of ``settings.data_dir``."""
        return cls(settings.data_dir / FEEDBACK_FILE)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=10)
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0:
                db.executescript(SCHEMA)
            elif version != SCHEMA_VERSION:
                db.close()
                raise FeedbackStoreError(
                    f"{self.path}: feedback store version {version}; this version of the "
                    f"product reads version {SCHEMA_VERSION}. Upgrade the product."
                )
        except (sqlite3.Error, OSError) as error:
            raise FeedbackStoreError(f"{self.path}: {error}") from error
        return db

    def record(self, feedback: Feedback, now: datetime | None = None) -> Feedback:
        """Stores ``feedback`` (checked: InvalidFeedback names a bad field), replacing an
        earlier rating of the same answer; returns it with its time."""
        check_feedback(feedback)
        stamped = replace(feedback, time=(now or datetime.now(UTC)).isoformat(timespec="seconds"))
        as_dict = stamped.to_dict()
        row = as_dict | {
            "answer_id": stamped.answer_id,
            **{
                column: json.dumps(as_dict[column], ensure_ascii=False)
                for column in ("history", "citations", "settings")
            },
        }
        with closing(self._connect()) as db:
            try:
                with db:
                    db.execute(UPSERT, row)
            except sqlite3.Error as error:
                raise FeedbackStoreError(f"{self.path}: {error}") from error
        return stamped

    def ratings(self, rating: Rating | None = None) -> list[Feedback]:
        """The stored ratings, oldest first; only ``up`` or ``down`` ones when given. Reading
        a store nothing was ever rated in creates no file."""
        if not self.path.exists():
            return []
        query, parameters = "SELECT * FROM feedback", {}
        if rating is not None:
            query, parameters = query + " WHERE rating = :rating", {"rating": rating}
        with closing(self._connect()) as db:
            db.row_factory = sqlite3.Row
            try:
                rows = db.execute(query + " ORDER BY time, rowid", parameters).fetchall()
            except sqlite3.Error as error:
                raise FeedbackStoreError(f"{self.path}: {error}") from error
        return [
            Feedback(
                question=row["question"],
                history=json.loads(row["history"]),
                answer=row["answer"],
                status=row["status"],
                citations=[CitedSentence(**c) for c in json.loads(row["citations"])],
                language=row["language"],
                rating=row["rating"],
                comment=row["comment"],
                settings=json.loads(row["settings"]),
                time=row["time"],
            )
            for row in rows
        ]


def gold_candidate(feedback: Feedback) -> dict:
    """A line of the gold set's format (evals/gold.jsonl) for the rated question: its
    language, question and conversation, the fields of GOLD_FIELDS_TO_FILL null (the
    reference answer, what it must include, its source articles, whether the articles
    answer it, and an id, whose number puts it in the dev or held-out half), and under
    ``feedback`` what the rating said about the answer given, which the maintainer deletes
    once the fields are filled (the gold loader accepts only gold fields)."""
    candidate: dict = dict.fromkeys(GOLD_FIELDS_TO_FILL)
    candidate |= {"language": feedback.language, "question": feedback.question}
    if feedback.history:
        candidate["history"] = feedback.history
    candidate["feedback"] = {
        "rating": feedback.rating,
        "comment": feedback.comment,
        "answer_given": feedback.answer,
        "status": feedback.status,
        "citations": [asdict(citation) for citation in feedback.citations],
        "time": feedback.time,
        "settings": feedback.settings,
    }
    return candidate

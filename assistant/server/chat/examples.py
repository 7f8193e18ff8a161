"""The example questions under the question box. They are the questions
``server.example_questions`` lists, as they are; without any, questions about the newest
documents of the index, each its title (shortened) in the catalogue's ``example_question``
of the chat's language. So a newsroom's own archive gets examples about itself, and an
empty index none.

The titles come from the library's listing (``assistant.library``, newest first): it is
read again after an ingest in this process (the library page's uploads) and at most
``LISTING_MAX_AGE_S`` after another process's, and the examples follow it."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from assistant.server.ui_text import ui_text

if TYPE_CHECKING:
    from assistant.service import Assistant
    from assistant.settings import ServerSettings

logger = logging.getLogger(__name__)

EXAMPLES_FROM_TITLES = 6  # as many as the bundled corpus's questions were: one or two rows
TITLE_CHARS = 60  # a longer title is cut at a word: a question read at a glance
# What a cut title ends with before its ellipsis, and a title's own final full stop.
TRAILING = " \t.,;:-–—。、،"


def shortened(title: str, limit: int = TITLE_CHARS) -> str:
    """``title`` on one line, cut at the last word that fits ``limit`` characters (at a
    character in a script without spaces) and ended with "…"; its final full stop
    dropped."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title.rstrip(TRAILING)
    cut = title[:limit]
    # Back to the last word boundary, unless the cut is one or the last is too far back.
    if title[limit] != " " and " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(TRAILING + "…") + "…"


class ExampleQuestions:
    """The examples the chat offers (see the module docstring)."""

    def __init__(self, assistant: Assistant, settings: ServerSettings):
        self.assistant = assistant
        self.configured = list(settings.example_questions)

    def questions(self, language: str) -> list[str]:
        """The example questions, derived ones in ``language`` (the chat's)."""
        if self.configured:
            return list(self.configured)
        template = ui_text(language)["example_question"]
        return [template.format(title=title) for title in self.newest_titles()]

    def newest_titles(self) -> list[str]:
        """The shortened titles of the newest documents, EXAMPLES_FROM_TITLES at most, each
        once; none when the index cannot be listed (the chat works without examples)."""
        titles: list[str] = []
        offset = 0
        try:
            while len(titles) < EXAMPLES_FROM_TITLES:
                page = self.assistant.library.page(offset=offset, limit=EXAMPLES_FROM_TITLES)
                for document in page.documents:
                    title = shortened(document.title)
                    if title and title not in titles:
                        titles.append(title)
                offset += EXAMPLES_FROM_TITLES
                if offset >= page.total:
                    break
        except Exception as error:  # a store's own errors: whatever its backend raises
            logger.warning("No example questions: the index could not be listed: %s", error)
            return []
        return titles[:EXAMPLES_FROM_TITLES]

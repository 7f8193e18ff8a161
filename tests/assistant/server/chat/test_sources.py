"""The sources panel: a turn's passages grouped by article, numbered as the answer's
markers, with their dates and relevance in words."""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.server.chat.turns import Turn, apply_event
from assistant.server.chat.view import render_view
from assistant.types import Citation, CitationsEvent, Passage, SourcesEvent, TokenEvent
from tests.support.chat import PASSAGE
from tests.support.web import CORPUS, VI_QUESTION


def visible_text(html_view: str) -> str:
    """The view's text as a reader sees it: no tags, no attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_view))


def shown_answer(html_view: str) -> str:
    """The text of the view's last answer, as it reads."""
    shown = re.findall(r'class="na-answer-text"[^>]*>(.*?)</div>', html_view, re.S)[-1]
    return re.sub(r"<[^>]+>", "", shown)


def test_sources_are_grouped_by_article_and_numbered_as_the_markers():
    vi_text = CORPUS["vi/bac-ninh.txt"]
    first, second = vi_text.index("Từ đầu"), vi_text.index("Toàn tỉnh")
    vi = ("vi/bac-ninh.txt", "Dân vận ở Bắc Ninh")
    vi_passages = [
        Passage(vi[0], "vi#0", vi[1], "vi", 0.0328, 0, second, vi_text[:second]),
        Passage(vi[0], "vi#1", vi[1], "vi", 0.0161, second, len(vi_text), vi_text[second:]),
    ]
    citations = [
        Citation(1, vi[0], "vi#0", vi[1], vi_text[first : second - 1], first, second - 1, True),
        Citation(2, vi[0], "vi#1", vi[1], vi_text[second:-1], second, len(vi_text) - 1, True),
    ]
    answer = "Bắc Ninh đã tổ chức 1.269 cuộc đối thoại [1] và 1.014 mô hình [2]."
    turn = Turn(VI_QUESTION, dates={"vi/bac-ninh.txt": "2024-07-04"})
    apply_event(turn, SourcesEvent([*vi_passages, replace(PASSAGE, score=0.0159)], "vi"))
    apply_event(turn, TokenEvent(answer))
    streamed = shown_answer(render_view([turn], "/"))
    apply_event(turn, CitationsEvent(answer, citations, False, [], verified=True))
    html_view = render_view([turn], "/")
    text = visible_text(html_view)

    # What was streamed stays: the same text and markers once the citations arrive.
    assert streamed == shown_answer(html_view)
    assert "[1]" in streamed and "[2]" in streamed
    sources = text.split(" Sources ")[1]
    assert sources.count(vi[1]) == 1  # one article, its title once
    assert re.findall(r"\[\d+\]", sources) == ["[1]", "[2]"]
    assert sources.index(vi[1]) < sources.index("[1]") < sources.index("Lantern")
    assert "vi · 2024-07-04 · Strong match" in sources
    assert "en · Weak match" in sources
    assert ".txt" not in text and "0.0" not in text  # no file names, no raw scores
    assert '<mark class="na-cited">Toàn tỉnh đã xây dựng 1.014 mô hình' in html_view
    assert 'href="/documents/vi/bac-ninh.txt?start=' in html_view

"""Whether the model's draft and the extractive reader name the same key fact."""

from __future__ import annotations

import pytest

from assistant.answering.agreement import compare, facts_stated, names_match
from assistant.answering.candidates import candidates_in
from assistant.answering.citations import Span
from assistant.answering.extractive import Reading, ScoredCandidate
from assistant.settings import bundled_prompts
from assistant.types import Passage

NUMBER_WORDS = bundled_prompts() / "number_words"
PASSAGE = Passage("a.txt", "a.txt#0", "A", "de", 1.0, 0, 10, "")


def reading(kind: str, sentence: str, language: str, *texts: str) -> Reading:
    """A reading of ``kind`` ranking the candidates of ``sentence`` written ``texts``."""
    kinds = ["name"] if kind == "person" else ["figure", "date"]
    common = frozenset({"قال", "ان", "حضر"})  # words of the language around the names
    found = {c.text: c for c in candidates_in(sentence, language, kinds, NUMBER_WORDS, common)}
    span = Span(sentence, 0, len(sentence))
    ranked = [ScoredCandidate(found[t], 1.0 - i / 10, PASSAGE, span) for i, t in enumerate(texts)]
    return Reading(kind, ranked, 0.9)


FIGURES = "Ha Tinh erhielt 18.087 Vorschläge in 2.015 Dialogen."


@pytest.mark.parametrize(
    ("draft", "status"),
    [
        ("Ha Tinh received 18,087 proposals [1].", "agree"),
        ("Hà Tĩnh đã tiếp nhận 18087 ý kiến [1].", "agree"),
        ("Ha Tinh received 2,015 proposals [1].", "disagree"),
        ("Ha Tinh received many proposals [1].", "unstated"),  # a count asked, none given
    ],
)
def test_figures_agree_on_their_digits_whatever_the_grouping(draft, status):
    read = reading("count", FIGURES, "de", "18.087", "2.015")
    stated = facts_stated(draft, "How many proposals?", read, "en", NUMBER_WORDS, 3)
    agreement = compare(read, stated)
    assert agreement.status == status
    if status == "disagree":
        assert agreement.draft_fact is read.ranked[1]  # the reader's own second candidate


def test_a_figure_the_question_or_the_conversation_says_is_no_answer():
    read = reading("count", FIGURES, "de", "18.087")
    known = "Ha Tinh received 18,087 proposals. And how many of them were resolved?"
    stated = facts_stated("All 18,087 were resolved [1].", known, read, "en", NUMBER_WORDS, 3)
    assert compare(read, stated).status == "unstated"


def test_dates_agree_on_day_and_month_named_in_any_language():
    read = reading("date", "Am 25. August 2023 tagte das Komitee.", "de", "25. August 2023")
    for draft, status in [
        ("Hội nghị diễn ra ngày 25 tháng 8 [1].", "agree"),
        ("The committee met on 25 August [1].", "agree"),
        ("The committee met on 15 August [1].", "disagree"),
    ]:
        stated = facts_stated(draft, "When?", read, "en", NUMBER_WORDS, 3)
        assert compare(read, stated).status == status, draft


def test_names_agree_across_scripts_and_titles():
    sentence = "قال السكرتير هوانج ترونج دونج إن نجوين مينه دوك حضر"
    read = reading("person", sentence, "ar", "هوانج ترونج دونج", "نجوين مينه دوك")
    for draft, status in [
        ("Comrade Hoàng Trung Dũng said so [1].", "agree"),
        ("Nguyen Minh Duc said so [1].", "disagree"),
        ("费托罗·哈伊 said so [1].", "unstated"),  # a name no reader read: garbled
    ]:
        stated = facts_stated(draft, "Who said so?", read, "en", NUMBER_WORDS, 3)
        assert compare(read, stated).status == status, draft


def test_names_match_on_a_run_of_two_words_with_enough_letters():
    assert names_match("Genosse Nguyen Anh Tuan", "Comrade Nguyễn Anh Tuấn", 3)
    assert names_match("فو ترونج هاي", "Võ Trọng Hải", 3)
    assert not names_match("Nguyen Anh Tuan", "Nguyen Anh Duc", 3)
    assert not names_match("Pham Tat Thang", "Nguyen Xuan Ky", 3)


def test_no_reading_leaves_the_answer_to_the_other_checks():
    assert compare(Reading("other"), []).status == "unread"

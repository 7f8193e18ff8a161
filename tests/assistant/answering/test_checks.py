"""The check that decides whether an answer is shown as verified."""

from __future__ import annotations

import pytest

from assistant.answering.checks import AnswerChecker, misdated, misnamed
from assistant.answering.evidence import EvidencePlanner, EvidenceScorer
from assistant.settings import AnswerSettings
from assistant.types import Passage
from ingest.names import name_key
from ingest.records import build_record
from ingest.types import Document

ARTICLES = {
    "bac-ninh.txt": "Bac Ninh held talks. Since the beginning of the term, Bac Ninh held 1.269 "
    "dialogues with citizens; the province built 1.014 skilled mobilisation models.",
    "ha-tinh.txt": "Ha Tinh met on 25 August. Through dialogue conferences, Ha Tinh received "
    "18.087 proposals from the people in 2023.",
    "arabic.txt": "عقدت ها تينه مؤتمرا. تلقت ها تينه 18087 اقتراحا في مؤتمرات الحوار.",
}


def document(doc_id: str) -> Document:
    found = Document(doc_id, ARTICLES[doc_id], title=doc_id)
    found.record = build_record(found)
    return found


def passage(doc_id: str) -> Passage:
    text = ARTICLES[doc_id]
    return Passage(doc_id, f"{doc_id}#0", doc_id, "en", 1.0, 0, len(text), text)


def names() -> dict[str, dict[str, set[str]]]:
    return {doc_id: document(doc_id).record.keys() for doc_id in ARTICLES}


@pytest.fixture
def checker() -> AnswerChecker:
    return AnswerChecker(EvidenceScorer(), document, lambda keys: names())


def check(checker, question: str, answer: str, first: str):
    ranked = [passage(first)] + [passage(d) for d in ARTICLES if d != first]
    planner = EvidencePlanner(AnswerSettings(), checker.scorer, lambda d: document(d).record)
    evidence = planner.plan(question, ranked)
    return checker.check(question, answer, evidence, "en")


def test_an_answer_whose_figure_stands_in_its_cited_sentence_is_verified(checker):
    verdict = check(
        checker,
        "How many dialogues did Bac Ninh hold with citizens?",
        "Bac Ninh held 1.269 dialogues with citizens [1].",
        "bac-ninh.txt",
    )
    assert verdict.verified, verdict.problems
    assert [c.supported for c in verdict.checked.citations] == [True]


def test_a_number_the_cited_passage_does_not_hold_fails(checker):
    verdict = check(
        checker,
        "How many dialogues did Bac Ninh hold with citizens?",
        "Bac Ninh held 2.024 dialogues with citizens [1].",
        "bac-ninh.txt",
    )
    assert not verdict.verified
    assert any("2024" in problem for problem in verdict.problems)


def test_an_answer_from_an_article_about_another_province_fails(checker):
    verdict = check(
        checker,
        "How many proposals did Bac Ninh receive through dialogue conferences?",
        "Through dialogue conferences, 18.087 proposals were received [1].",
        "ha-tinh.txt",
    )
    assert not verdict.verified
    assert "the question names Bac Ninh, the cited article does not" in verdict.problems


def test_names_match_across_scripts():
    cited = {"arabic.txt": document("arabic.txt")}
    assert misnamed("How many proposals did Ha Tinh receive?", names(), cited) == []
    assert misnamed("How many proposals did Bac Ninh receive?", names(), cited) == [
        "the question names Bac Ninh, the cited article does not"
    ]
    # The Russian spelling of Bac Ninh is matched to the English article's by its key.
    assert misnamed("Сколько предложений получил Бакнинь?", names(), cited)


def test_a_name_no_article_writes_says_nothing():
    cited = {"ha-tinh.txt": document("ha-tinh.txt")}
    assert misnamed("How many Skilled Mass Mobilisation models?", names(), cited) == []


def test_uncased_words_count_as_names_only_when_written_in_another_script():
    arabic_question = "كم عدد المقترحات في باك نينه؟"  # "how many proposals in Bac Ninh?"
    cited = {"arabic.txt": document("arabic.txt")}
    assert misnamed(arabic_question, names(), cited) == [
        "the question names باك نينه, the cited article does not"
    ]
    index = names() | {"other.txt": {name_key("المقترحات"): {"ARABIC"}}}
    assert misnamed("كم عدد المقترحات؟", index, cited) == []


def test_a_year_another_article_writes_and_the_cited_one_does_not_fails():
    retrieved = {d: document(d) for d in ARTICLES}
    cited = {"bac-ninh.txt": document("bac-ninh.txt")}
    assert misdated("How many proposals were received in 2023?", retrieved, cited, 13) == [
        "the question says 2023, the cited article does not"
    ]
    assert misdated("How many proposals were received in 2019?", retrieved, cited, 13) == []
    assert misdated("What happened on 10 August?", retrieved, cited, 13) == []  # may be a word


class EnglishDetector:
    """Takes Vietnamese-looking names for Vietnamese, everything else for English."""

    def detect(self, text: str) -> str:
        return "vi" if text in ("Thanh Hoa", "Nghe An", "Ha Tinh", "Ha Tinh's") else "en"


def test_a_question_naming_a_place_no_article_writes_is_a_near_miss():
    from assistant.answering.checks import unknown_names

    cited = {"ha-tinh.txt": Document("ha-tinh.txt", "Ha Tinh received 18.087 proposals.")}
    written = {"ha-tinh.txt": {name_key("Ha Tinh"): {"LATIN"}}}
    detector = EnglishDetector()

    def problems(question: str, language: str = "en") -> list[str]:
        return unknown_names(question, language, written, cited, detector)

    assert problems("How many proposals did Thanh Hoa receive?") == [
        "the question names Thanh Hoa, which no article writes"
    ]
    assert problems("How many proposals did Ha Tinh receive?") == []
    assert problems("How many proposals did Ha Tinh's leaders receive?") == []  # an ending
    # Words of the question's own language, quoted terms and German nouns say nothing.
    assert problems("How many Party Committee proposals were there?") == []
    assert problems("How many 'Skilled Mass' models did Thanh Hoa build?") != []
    assert problems("Wie viele Vorschläge erhielt Thanh Hoa?", "de") == []

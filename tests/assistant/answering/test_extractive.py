"""The extractive reader: the key fact read off the evidence without the model."""

from __future__ import annotations

from assistant.answering.evidence import EvidencePlanner, EvidenceScorer
from assistant.answering.extractive import ExtractiveReader, clause, window
from assistant.settings import AnswerSettings, ReaderSettings, bundled_prompts
from assistant.types import Passage
from tests.fakes import HashEmbedder
from tests.support.passages import make_passages

PROMPTS = bundled_prompts()
QUESTION = "How many proposals did Ha Tinh receive through dialogue conferences?"


def read(question: str, passages: list[Passage], lookup=None, **config):
    embedder = HashEmbedder()
    planner = EvidencePlanner(AnswerSettings(), EvidenceScorer(embedder), lambda doc: None)
    evidence = planner.plan(question, passages)
    reader = ExtractiveReader(
        ReaderSettings(**config),
        embedder,
        PROMPTS / "question_words",
        PROMPTS / "number_words",
        lookup,
        breakdown_words_dir=PROMPTS / "breakdown_words",
    )
    return reader.run(question, "en", evidence)


def ha_tinh_first() -> list[Passage]:
    return sorted(make_passages(), key=lambda passage: passage.doc_id != "ha-tinh.txt")


def test_the_best_candidate_of_the_asked_kind_with_its_sentence_and_a_confidence():
    reading = read(QUESTION, ha_tinh_first())
    assert reading.kind == "count"
    assert [r.candidate.text for r in reading.ranked] == ["18.087", "2.015"]
    key_fact = reading.key_fact()
    assert key_fact.text == "18.087" and key_fact.kind == "count"
    assert (
        key_fact.citation.quote == "Ha Tinh received 18.087 proposals through dialogue conferences."
    )
    document = "Earlier text of the article. " + ha_tinh_first()[0].text
    assert document[key_fact.citation.start : key_fact.citation.end] == key_fact.citation.quote
    assert 0.5 < reading.confidence <= 1.0 and key_fact.status == "checking"


def test_a_date_is_not_a_count_and_a_question_of_another_kind_reads_nothing():
    when = read("When did the conference take place?", ha_tinh_first())
    assert when.kind == "date" and when.best.candidate.text == "25 August"
    assert read("Why were dialogues held?", ha_tinh_first()).ranked == []


def test_the_question_s_own_figures_are_no_candidates():
    reading = read("How many of the 18.087 proposals came through dialogues?", ha_tinh_first())
    assert [r.candidate.text for r in reading.ranked] == ["2.015"]


def test_the_whole_document_is_read_not_only_the_retrieved_passage():
    retrieved, rest = ha_tinh_first()[0], "Later, 4.321 proposals were received online."
    later = Passage("ha-tinh.txt", "ha-tinh.txt#1", "Ha Tinh", "en", 0.0, 500, 545, rest)
    lookup = {"ha-tinh.txt": [retrieved, later]}.get
    only_retrieved = read("How many proposals were received online?", [retrieved])
    whole = read("How many proposals were received online?", [retrieved], lookup)
    assert "4.321" not in [r.candidate.text for r in only_retrieved.ranked]
    assert whole.best.candidate.text == "4.321" and whole.best.passage is later


def test_a_part_gives_way_to_its_total_unless_the_question_asks_for_a_part():
    text = "By 2024 the district registered 29 models, including 13 economic models and 3 others."
    passages = [Passage("d.txt", "d.txt#0", "D", "en", 1.0, 0, len(text), text)]
    whole = read("How many models did the district register by 2024?", passages, part_penalty=1.0)
    assert whole.best.candidate.text == "29"
    part = read("Among the models, how many economic models?", passages, part_penalty=1.0)
    assert part.best.candidate.text == "13"


def test_contexts_a_window_of_words_and_a_clause():
    sentence = "The chairman Vo Trong Hai, and the secretary Hoang Trung Dung attended."
    start = sentence.index("Vo")
    assert window(sentence, start, start + 2, 1, 1) == "chairman Vo Trong"
    assert clause(sentence, start, start + 12, 4) == "The chairman Vo Trong Hai"

"""Citation checking: markers kept, re-pointed, removed or added from the evidence alone."""

from __future__ import annotations

import pytest

from assistant.answering.citations import (
    PromptPassage,
    number_keys,
    passage_sentences,
    unsupported_numbers,
    verify_answer,
)
from assistant.answering.evidence import EvidenceScorer
from tests.fakes import HashEmbedder
from tests.support.passages import document_text, make_passages


@pytest.fixture
def sent() -> list[PromptPassage]:
    return [
        PromptPassage(number, passage, passage_sentences(passage, 250))
        for number, passage in enumerate(make_passages(), 1)
    ]


def verify(answer: str, sent: list[PromptPassage], embedder=None):
    return verify_answer(answer, sent, EvidenceScorer(embedder), "en")


def test_correct_marker_is_kept_and_quotes_the_supporting_sentence(sent):
    result = verify("Ha Tinh received 18,087 proposals through dialogues [2].", sent)
    assert result.text == "Ha Tinh received 18,087 proposals through dialogues [2]."
    [citation] = result.citations
    assert (citation.marker, citation.doc_id, citation.supported) == (2, "ha-tinh.txt", True)
    assert citation.quote == "Ha Tinh received 18.087 proposals through dialogue conferences."
    assert document_text("ha-tinh.txt")[citation.start : citation.end] == citation.quote
    assert result.unsupported_numbers == []


@pytest.mark.parametrize("embedder", [None, HashEmbedder()], ids=["lexical", "with-embedder"])
def test_wrong_marker_is_repointed_to_the_supporting_passage(sent, embedder):
    result = verify("Bac Ninh held 1,269 dialogues with citizens [3].", sent, embedder)
    assert result.text == "Bac Ninh held 1,269 dialogues with citizens [1]."
    assert [(c.marker, c.doc_id, c.supported) for c in result.citations] == [
        (1, "bac-ninh.txt", True)
    ]


def test_out_of_range_marker_is_removed(sent):
    result = verify("Ninh Son registered 29 models [7]. The weather was sunny [9].", sent)
    assert result.text == "Ninh Son registered 29 models [3]. The weather was sunny."
    assert [c.marker for c in result.citations] == [3]


def test_missing_marker_is_added_before_the_full_stop(sent):
    result = verify("By 2024, Ninh Son district registered 29 models.", sent)
    assert result.text == "By 2024, Ninh Son district registered 29 models [3]."
    assert result.citations[0].supported


def test_unsupported_number_is_flagged_and_its_citation_unsupported(sent):
    result = verify("Ha Tinh received 19,000 proposals through dialogue conferences [2].", sent)
    assert result.unsupported_numbers == ["19,000"]
    [citation] = result.citations
    assert (citation.marker, citation.supported) == (2, False)
    assert "[2]" in result.text


def test_sentence_no_passage_supports_gets_no_marker(sent):
    result = verify("Hanoi is the capital of Vietnam.", sent)
    assert result.text == "Hanoi is the capital of Vietnam."
    assert result.citations == []


def test_marker_after_the_full_stop_belongs_to_the_sentence_before(sent):
    answer = "Ha Tinh received 18087 proposals. [2] Bac Ninh held 1269 dialogues. [1]"
    result = verify(answer, sent)
    assert result.text == "Ha Tinh received 18087 proposals [2]. Bac Ninh held 1269 dialogues [1]."
    assert [c.marker for c in result.citations] == [2, 1]


def test_combined_and_full_width_markers_become_plain_markers(sent):
    result = verify(
        "Ha Tinh received 18.087 proposals【2】. Bac Ninh held 1.269 dialogues [1, 3].", sent
    )
    assert (
        result.text == "Ha Tinh received 18.087 proposals [2]. Bac Ninh held 1.269 dialogues [1]."
    )


def test_numbers_compare_digit_normalised():
    assert number_keys("18.087") == number_keys("18,087") == number_keys("18087") == {"18087"}
    passages = make_passages()
    assert unsupported_numbers("18087, 18.087 and 18 087 [2]; on 25 August 2024", passages) == []
    assert unsupported_numbers("It was 2,016 or 3.5 [2].", passages) == ["2,016", "3.5"]


def test_passage_sentence_vectors_are_embedded_once():
    class CountingEmbedder(HashEmbedder):
        def __init__(self):
            self.embedded: list[str] = []

        def embed_passages(self, texts):
            self.embedded += texts
            return super().embed_passages(texts)

    embedder = CountingEmbedder()
    scorer = EvidenceScorer(embedder)
    sentences = [span.text for p in make_passages() for span in passage_sentences(p, 250)]
    first = scorer.scores(["How many proposals did Ha Tinh receive?"], sentences)
    second = scorer.scores(["How many proposals did Ha Tinh receive?"], sentences)
    assert embedder.embedded == sentences
    assert (
        first.argmax()
        == second.argmax()
        == sentences.index("Ha Tinh received 18.087 proposals through dialogue conferences.")
    )

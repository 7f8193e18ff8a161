"""The real pipeline on the bundled corpus: e5 retrieval, the embedded local model, citation
checking. A question per script (Latin twice: German and Vietnamese); each answer must cite
a passage that supports it, quote the document exactly, and come in the asker's language."""

from __future__ import annotations

import pytest

from assistant.answering.citations import without_markers

QUESTIONS = {
    "de": "Wie viele Dialoge fanden seit 2015 auf Provinzebene statt, laut der Online-Konferenz "
    "vom 15. August?",
    "vi": "Hà Tĩnh đã tiếp nhận bao nhiêu ý kiến, kiến nghị của nhân dân thông qua các hội nghị "
    "đối thoại?",
    "ar": "كم عدد المقترحات والتوصيات التي تلقتها مقاطعة ها تينه من خلال مؤتمرات الحوار؟",
    "zh": "河静省委关于各级党委和政权负责人与人民直接接触、对话的规定是第几号决定？何时颁布？",
}


@pytest.mark.slow
@pytest.mark.parametrize("language", QUESTIONS)
def test_real_model_answers_with_a_supported_citation_in_the_askers_language(
    bundled_assistant, language
):
    answer = bundled_assistant.ask(QUESTIONS[language])
    assert answer.error is None and not answer.refused, answer.answer
    assert answer.verified, (answer.answer, answer.problems)
    assert answer.language == language
    supported = [c for c in answer.citations if c.supported]
    assert supported, (answer.answer, answer.citations)
    for citation in supported:
        assert f"[{citation.marker}]" in answer.answer
        document = bundled_assistant.document(citation.doc_id)
        assert document.text[citation.start : citation.end] == citation.quote
    assert bundled_assistant.detector.detect(without_markers(answer.answer)) == language, (
        answer.answer
    )
    assert answer.timings.ttft_s is not None and answer.timings.ttft_s <= answer.timings.total_s

"""Three English passages with their figures, as the answerer receives them from retrieval:
shared by the citation and answering tests, which check markers against the same text."""

from __future__ import annotations

from assistant.types import Passage

# Each passage sits after a lead-in, so quote offsets are document offsets, not passage ones.
LEAD_IN = "Earlier text of the article. "
DOCUMENTS = {
    "bac-ninh.txt": "Comrade Nguyen Anh Tuan is Secretary of the Bac Ninh Provincial Party "
    "Committee. He received the delegation of the province. Since the beginning of the term, "
    "authorities in Bac Ninh held 1.269 dialogues with citizens and businesses.",
    "ha-tinh.txt": "The conference took place on 25 August in the afternoon. Ha Tinh received "
    "18.087 proposals through dialogue conferences. Leaders held 2.015 direct dialogues.",
    "ninh-son.txt": "By 2024, Ninh Son district registered 29 skilled mass mobilisation models. "
    "The delegation worked with the district party committee.",
}


def make_passages() -> list[Passage]:
    return [
        Passage(
            doc_id=doc_id,
            chunk_id=f"{doc_id}#0",
            title=doc_id.removesuffix(".txt").replace("-", " ").title(),
            language="en",
            score=1.0 / number,
            start=len(LEAD_IN),
            end=len(LEAD_IN) + len(text),
            text=text,
        )
        for number, (doc_id, text) in enumerate(DOCUMENTS.items(), 1)
    ]


def document_text(doc_id: str) -> str:
    return LEAD_IN + DOCUMENTS[doc_id]

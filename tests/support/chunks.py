"""Three short documents in three languages, written into a store chunk by chunk (one chunk a
paragraph) without the ingest pipeline: shared by the retrieval, search and plugin tests."""

from __future__ import annotations

from ingest.types import Chunk, Document

DOCUMENTS = {
    "bac-ninh.txt": ("de", ["Bac Ninh hat 1.269 Dialoge geführt.", "Die Provinz baute Modelle."]),
    "ha-tinh.txt": ("ar", ["تلقت المقاطعة 18087 اقتراحًا", "ها تينه عقدت مؤتمرا"]),
    "quang-ninh.txt": ("hu", ["Quang Ninh ülést tartott.", "A tartomány 2024 céljai."]),
}


def write_document(store, embedder, doc_id, language, paragraphs, aliases=()):
    text = "\n".join(paragraphs)
    chunks, start = [], 0
    for index, paragraph in enumerate(paragraphs):
        chunks.append(Chunk(f"{doc_id}#{index}", doc_id, index, paragraph, start,
                            start + len(paragraph), language, title=doc_id))  # fmt: skip
        start += len(paragraph) + 1
    document = Document(doc_id, text, title=doc_id, language=language, aliases=list(aliases))
    vectors = embedder.embed_passages([c.text for c in chunks])
    store.replace_document(document, chunks, vectors, f"hash:{text}")
    if aliases:
        store.set_aliases(doc_id, list(aliases))

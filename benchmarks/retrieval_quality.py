"""Document-level retrieval quality on the gold questions: recall@1/@5 and MRR of the
documents behind the passages a retriever returns, in rank order (each document once)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.retrieval import Retriever
from evals.gold import GoldItem
from evals.metrics import dedupe, recall_at, reciprocal_rank

PASSAGES = 10  # passages retrieved per question; documents are read off them in rank order
DEEP = 100  # passages searched for one known answering passage
# The example: an English question whose answer is one Arabic paragraph.
CROSS_LINGUAL_EXAMPLE = (
    "How many proposals did Ha Tinh receive through dialogue conferences?",
    "002_9dbad9a477df04d3",
    "18087",
)


def scored_items(items: Sequence[GoldItem]) -> list[GoldItem]:
    """The answerable questions that name their source documents."""
    return [item for item in items if item.answerable and item.sources]


def retrieval_query(item: GoldItem, with_history: bool) -> str:
    """The question, after the previous user turn for a follow-up ("And in Bac Ninh?"), as
    a condensed question would carry it; the product condenses with the LLM instead."""
    earlier = [turn["content"] for turn in item.history if turn.get("role") == "user"]
    return " ".join([*earlier[-1:], item.question]) if with_history else item.question


def document_ranking(retriever: Retriever, query: str) -> list[str]:
    return dedupe(passage.doc_id for passage in retriever.retrieve(query, PASSAGES))


def passage_rank(retriever: Retriever, query: str, doc_id: str, needle: str) -> int | None:
    """Rank (from 1) of the first passage of ``doc_id`` containing ``needle``."""
    for rank, passage in enumerate(retriever.retrieve(query, DEEP), start=1):
        if passage.doc_id.startswith(doc_id) and needle in passage.text:
            return rank
    return None


def quality(retriever: Retriever, items: Sequence[GoldItem], with_history: bool = True) -> dict:
    per_item = []
    for item in items:
        ranking = document_ranking(retriever, retrieval_query(item, with_history))
        per_item.append(
            (item.id, recall_at(ranking, item.sources, 1), recall_at(ranking, item.sources, 5),
             reciprocal_rank(ranking, item.sources))
        )  # fmt: skip
    return {
        "recall@1": _mean(r1 for _, r1, _, _ in per_item),
        "recall@5": _mean(r5 for _, _, r5, _ in per_item),
        "mrr": _mean(rr for _, _, _, rr in per_item),
        "questions": len(per_item),
        "first_document_wrong": [item_id for item_id, _, _, rr in per_item if rr < 1],
    }


def _mean(values) -> float:
    return round(float(np.mean(list(values))), 4)

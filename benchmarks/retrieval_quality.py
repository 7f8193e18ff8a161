"""Document-level retrieval quality on the gold questions: recall@1/@5 and MRR of the
documents behind the passages a retriever returns, in rank order (each document once).

Tuning protocol: the gold set is split once, by question id: odd numbers (q01, q03, ...) are
the dev split, even numbers the held-out split. A parameter chosen from numbers (such as
the setting ``retrieval.language_mean_share``) is chosen on dev only; every result is
reported on dev, on held-out and on all questions, and a choice counts as justified only by
its held-out numbers. Fixed by id, the split is the same in every run and for every lever."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.retrieval import Retriever
from evals.gold import SPLITS, GoldItem, split_of
from evals.metrics import dedupe, recall_at, reciprocal_rank
from evals.runner import search_query

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
    """The question as the evaluation searches it (a follow-up after the previous user turn),
    or the bare question."""
    return search_query(item) if with_history else item.question


def document_ranking(retriever: Retriever, query: str) -> list[str]:
    return dedupe(passage.doc_id for passage in retriever.retrieve(query, PASSAGES))


def passage_rank(retriever: Retriever, query: str, doc_id: str, needle: str) -> int | None:
    """Rank (from 1) of the first passage of ``doc_id`` containing ``needle``."""
    for rank, passage in enumerate(retriever.retrieve(query, DEEP), start=1):
        if passage.doc_id.startswith(doc_id) and needle in passage.text:
            return rank
    return None


def quality(retriever: Retriever, items: Sequence[GoldItem], with_history: bool = True) -> dict:
    """``summary`` of the dev split, the held-out split and all of ``items``."""
    scored = _per_item(retriever, items, with_history)
    split = {item.id: split_of(item) for item in items}
    return {
        **{name: summary([s for s in scored if split[s[0]] == name]) for name in SPLITS},
        "all": summary(scored),
    }


def _per_item(retriever: Retriever, items: Sequence[GoldItem], with_history: bool) -> list:
    per_item = []
    for item in items:
        ranking = document_ranking(retriever, retrieval_query(item, with_history))
        per_item.append(
            (item.id, recall_at(ranking, item.sources, 1), recall_at(ranking, item.sources, 5),
             reciprocal_rank(ranking, item.sources))
        )  # fmt: skip
    return per_item


def summary(per_item: Sequence[tuple[str, float, float, float]]) -> dict:
    return {
        "recall@1": _mean(r1 for _, r1, _, _ in per_item),
        "recall@5": _mean(r5 for _, _, r5, _ in per_item),
        "mrr": _mean(rr for _, _, _, rr in per_item),
        "questions": len(per_item),
        "first_document_wrong": [item_id for item_id, _, _, rr in per_item if rr < 1],
    }


def _mean(values) -> float:
    return round(float(np.mean(list(values))), 4)

"""How often the sentences an answer prompt sends hold every gold fact: the ceiling of what
any reader can answer, measured without the LLM, for several prompt sizes.

    .venv/bin/python -m benchmarks.prompt_coverage     # ~1 min; needs `assistant ingest`

For each answerable gold question (a follow-up after its previous user turn, the model-free
stand-in for condensing), the product retrieves ``answer.k`` passages and selects sentences as
for a real prompt (``Answerer.select_sentences``); the question counts as covered when the
text sent contains every ``must_include`` group (the evaluator's own matching). Writes
benchmarks/results/prompt_coverage.json: per setting, the covered share on the dev, held-out
and all questions, and the median characters sent.
"""

from __future__ import annotations

import json

import numpy as np

from assistant.service import Assistant
from assistant.settings import Settings
from benchmarks.run import GOLD, RESULTS_DIR, machine
from benchmarks.schema import MACHINE, List, Map, Record
from evals.gold import SPLITS, load_gold, split_of
from evals.metrics import facts_matched
from evals.runner import search_query

RESULT_SCHEMAS = {
    "prompt_coverage.json": Record(
        {
            "machine": MACHINE,
            "questions": int,
            "split": Map(str),
            "sizes": List(
                Record(
                    {
                        "k": int,
                        "max_sentences": int,
                        "passage_max_sentences": int,
                        "covered_all": float,
                        "characters_p50": int,
                    },
                    optional={f"covered_{name}": float for name in SPLITS},
                )
            ),
        }
    )
}
# (answer.k, answer.max_sentences, answer.passage_max_sentences); the default is among them.
PROMPT_SIZES = ((3, 3, 2), (3, 5, 2), (5, 5, 3), (5, 8, 3), (8, 8, 4))


def coverage(k: int, max_sentences: int, per_passage: int, items) -> dict:
    settings = Settings(
        answer={"k": k, "max_sentences": max_sentences, "passage_max_sentences": per_passage}
    )
    assistant = Assistant(settings)
    covered: dict[str, list[bool]] = {name: [] for name in SPLITS}
    characters = []
    for item in items:
        query = search_query(item)
        sent, _ = assistant.answerer.select_sentences(query, assistant.search(query, k))
        text = " ".join(span.text for passage in sent for span in passage.sentences)
        covered[split_of(item)].append(facts_matched(text, item.must_include))
        characters.append(len(text))
    every = [flag for flags in covered.values() for flag in flags]
    return {
        "k": k,
        "max_sentences": max_sentences,
        "passage_max_sentences": per_passage,
        **{f"covered_{name}": round(float(np.mean(flags)), 3) for name, flags in covered.items()},
        "covered_all": round(float(np.mean(every)), 3),
        "characters_p50": int(np.median(characters)),
    }


def main() -> None:
    items = [item for item in load_gold(GOLD) if item.answerable]
    rows = [coverage(*size, items) for size in PROMPT_SIZES]
    for row in rows:
        print(row)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / "prompt_coverage.json"
    payload = {"machine": machine(), "questions": len(items), "split": SPLITS, "sizes": rows}
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

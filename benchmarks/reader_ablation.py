"""Each reader alone and the checks off, from one evaluation run: the same run scored as
if the product had shown what one stage alone would have shown.

    .venv/bin/python -m benchmarks.reader_ablation RUN_DIR

Exact, not estimated, because every stage runs for every question and the product logs
what each said (each result's ``notes``): "Extractive reader: 'X' (kind, confidence c)"
and, for an answer not verified, "Not verified (problems): draft". Writes, beside
RUN_DIR, one run directory per variant, each a results.jsonl that ``benchmarks.answers``
summarises like any run:

* ``-llm-alone``: the model's draft shown as verified whenever the model answered;
* ``-llm-with-checks``: the draft shown when no check but the readers' agreement stopped
  it (the product of 13041c9 without its second reading, with this run's prompt);
* ``-extractive-alone``: the extractive reader's key fact shown as the answer whenever
  it was confident enough for the key fact card (``answer.key_fact_confidence``);
* ``-without-<check>``: each family of checks off alone (``CHECKS``): the draft shown when
  that family's problems were the only ones.

Citation figures of a changed answer are left out (None): its draft's citations were not
kept. A key fact is scored on the gold facts it can hold: a figure or a date on the
groups holding digits (its month is written in the source's language), a name on all.
A changed record names this module in ``scored_by``, so that ``benchmarks.answers`` keeps
these figures instead of scoring the record again as the product's. Timings are the run's.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from assistant.settings import AnswerSettings
from benchmarks.run import GOLD
from evals.gold import GoldItem, load_gold
from evals.metrics import facts_matched
from evals.normalize import strip_markers

NOT_VERIFIED = re.compile(r"^Not verified \((?P<problems>.*?)\): (?P<draft>.*)$", re.S)
EXTRACTIVE = re.compile(
    r"^Extractive reader: (?P<fact>'.*'|\".*\") "
    r"\((?P<kind>\w+), confidence (?P<confidence>[\d.]+)\)$",
    re.S,
)
# The problems each family of checks raises, by how they begin (``assistant.answering``).
CHECKS = {
    "agreement": ("the readers disagree", "the answer states no ", "no second reader"),
    "support": ("a sentence cites no passage", "a cited passage does not support"),
    "figures": ("numbers in no passage", "numbers not in the cited passage"),
    "places": ("the question names",),
    "dates": ("the question says",),
    "one-language": ("words of the source's language", "garbled words"),
}
AGREEMENT_PROBLEMS = CHECKS["agreement"]
CITATION_FIGURES = ("citation_precision", "citation_recall", "invalid_marker_rate", "token_f1")
VARIANTS = (
    "llm-alone",
    "llm-with-checks",
    "extractive-alone",
    *(f"without-{name}" for name in CHECKS if name != "agreement"),
)
SCORED_BY = "benchmarks.reader_ablation"


def stopped_draft(record: dict) -> tuple[list[str], str] | None:
    """(problems, draft) of the answer the checks stopped, if they stopped one."""
    for note in record.get("notes", []):
        found = NOT_VERIFIED.match(note)
        if found:
            return found["problems"].split("; "), found["draft"]
    return None


def key_fact(record: dict) -> tuple[str, str, float] | None:
    """(fact, kind, confidence) the extractive reader logged, if it read one."""
    for note in record.get("notes", []):
        found = EXTRACTIVE.match(note)
        if found:
            return found["fact"][1:-1], found["kind"], float(found["confidence"])
    return None


def shown(record: dict, item: GoldItem, text: str, right: bool) -> dict:
    """``record`` as if ``text`` had been shown as a verified answer, ``right`` or not."""
    metrics = dict(record["metrics"])
    metrics |= {figure: None for figure in CITATION_FIGURES}
    metrics |= {
        "fact_accuracy": float(right) if item.answerable else None,
        "confidently_wrong": float(not right),
        "unverified_rate": 0.0 if item.answerable else None,
        "unanswerable_declined": None if item.answerable else 0.0,
        "shown_verified": 1.0,
        "verified_right": float(right),
    }
    changed = {"answer": text, "verified": True, "refused": False, "scored_by": SCORED_BY}
    return record | changed | {"metrics": metrics}


def not_shown(record: dict, item: GoldItem) -> dict:
    """``record`` as if nothing had been shown as verified: a "not verified" reply."""
    metrics = dict(record["metrics"])
    metrics |= {figure: None for figure in CITATION_FIGURES}
    metrics |= {
        "fact_accuracy": 0.0 if item.answerable else None,
        "confidently_wrong": 0.0,
        "unverified_rate": 1.0 if item.answerable else None,
        "unanswerable_declined": None if item.answerable else 1.0,
        "shown_verified": 0.0,
        "verified_right": None,
    }
    changed = {"verified": False, "refused": False, "scored_by": SCORED_BY}
    return record | changed | {"metrics": metrics}


def fact_right(fact: str, item: GoldItem) -> bool:
    """Whether a key fact, as its source writes it, is the gold answer (module docstring)."""
    groups = item.must_include
    if any(char.isdigit() for char in fact):
        groups = [g for g in groups if any(char.isdigit() for alt in g for char in alt)]
    return item.answerable and bool(groups) and facts_matched(fact, groups)


def variants_of(record: dict, item: GoldItem, confidence: float) -> dict[str, dict]:
    stopped = stopped_draft(record)
    variants = {}
    if stopped is None:
        variants = {name: record for name in VARIANTS}
    else:
        problems, draft = stopped
        right = item.answerable and facts_matched(strip_markers(draft), item.must_include)
        llm_alone = shown(record, item, draft, right)
        variants["llm-alone"] = llm_alone
        for name, beginnings in CHECKS.items():
            only_these = all(problem.startswith(beginnings) for problem in problems)
            variant = "llm-with-checks" if name == "agreement" else f"without-{name}"
            variants[variant] = llm_alone if only_these else record
    read = key_fact(record)
    if read is not None and read[2] >= confidence:
        variants["extractive-alone"] = shown(record, item, read[0], fact_right(read[0], item))
    else:
        variants["extractive-alone"] = not_shown(record, item)
    return variants


def ablate(run: Path, confidence: float | None = None) -> dict[str, Path]:
    """Writes each variant of ``run`` beside it; returns their directories by name."""
    gold = {item.id: item for item in load_gold(GOLD)}
    threshold = AnswerSettings().key_fact_confidence if confidence is None else confidence
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = list({r["id"]: r for r in map(json.loads, lines)}.values())
    rows: dict[str, list[dict]] = {name: [] for name in VARIANTS}
    for record in records:
        for name, row in variants_of(record, gold[record["id"]], threshold).items():
            rows[name].append(row)
    written = {}
    for name, variant in rows.items():
        directory = run.with_name(f"{run.name}-{name}")
        directory.mkdir(exist_ok=True)
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in variant)
        (directory / "results.jsonl").write_text(text, encoding="utf-8")
        written[name] = directory
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="An `assistant eval` run directory.")
    for name, directory in ablate(parser.parse_args().run).items():
        print(f"{name}: {directory}")


if __name__ == "__main__":
    main()

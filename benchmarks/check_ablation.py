"""What the answer checks change, from one evaluation run: the same run scored as if the
second reading of figures (``answer.figure_check``) or every check after the model's
answer (``assistant.answering.checks`` and the second reading) were off.

    .venv/bin/python -m benchmarks.check_ablation RUN_DIR

Exact, not estimated, because the checks run last: an answer they stopped is logged with
the model's draft ("Not verified (problems): draft", in each result's ``notes``), and
without the checks that draft is what the user would have seen as verified. Writes
``RUN_DIR-without-figure-check/`` and ``RUN_DIR-without-checks/``, each a results.jsonl
that ``benchmarks.answers`` summarises like any run. Citation figures of a changed
answer are left out (None): its draft's citations were not kept.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from benchmarks.run import GOLD
from evals.gold import load_gold
from evals.metrics import facts_matched
from evals.normalize import strip_markers

NOT_VERIFIED = re.compile(r"^Not verified \((?P<problems>.*?)\): (?P<draft>.*)$", re.S)
SECOND_READING = "read again, the cited sentence gives"
CITATION_FIGURES = ("citation_precision", "citation_recall", "invalid_marker_rate", "token_f1")


def stopped_draft(record: dict) -> tuple[str, str] | None:
    """(problems, draft) of the answer the checks stopped, if they stopped one."""
    for note in record.get("notes", []):
        found = NOT_VERIFIED.match(note)
        if found:
            return found["problems"], found["draft"]
    return None


def shown_as_verified(record: dict, item, draft: str) -> dict:
    """``record`` as if ``draft`` had been shown as a verified answer."""
    right = item.answerable and facts_matched(strip_markers(draft), item.must_include)
    metrics = dict(record["metrics"])
    metrics |= {figure: None for figure in CITATION_FIGURES}
    metrics |= {
        "fact_accuracy": float(right) if item.answerable else None,
        "confidently_wrong": float(not right),
        "unverified_rate": 0.0 if item.answerable else None,
        "unanswerable_declined": None if item.answerable else 0.0,
    }
    return record | {"answer": draft, "verified": True, "metrics": metrics}


def ablate(run: Path) -> dict[str, Path]:
    gold = {item.id: item for item in load_gold(GOLD)}
    lines = (run / "results.jsonl").read_text(encoding="utf-8").splitlines()
    records = list({r["id"]: r for r in map(json.loads, lines)}.values())
    variants = {"without-figure-check": [], "without-checks": []}
    for record in records:
        stopped = stopped_draft(record)
        if stopped is None:
            for rows in variants.values():
                rows.append(record)
            continue
        problems, draft = stopped
        checks_off = shown_as_verified(record, gold[record["id"]], draft)
        by_second_reading = problems.startswith(SECOND_READING)
        variants["without-figure-check"].append(checks_off if by_second_reading else record)
        variants["without-checks"].append(checks_off)
    written = {}
    for name, rows in variants.items():
        directory = run.with_name(f"{run.name}-{name}")
        directory.mkdir(exist_ok=True)
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
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

"""Two evaluation runs side by side: the difference of every overall figure, and the
questions whose fact accuracy or refusal flipped between them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from evals.metrics import LOWER_IS_BETTER
from evals.report import METRIC_ORDER, format_figure, markdown_table
from evals.runner import METRICS_FILE, RESULTS_FILE, load_results

FLIP_FIELDS = ("fact_accuracy", "refused", "verified")


@dataclass
class MetricRow:
    name: str
    a: float | int | None
    b: float | int | None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def improved(self) -> bool | None:
        if not self.delta:
            return None
        return (self.delta < 0) if self.name in LOWER_IS_BETTER else (self.delta > 0)


@dataclass
class Flip:
    id: str
    question: str
    changes: dict[str, tuple[object, object]]  # field -> (in A, in B)


def compare_runs(dir_a: Path, dir_b: Path) -> tuple[list[MetricRow], list[Flip]]:
    overall_a = _overall(dir_a)
    overall_b = _overall(dir_b)
    rows = [
        MetricRow(name, overall_a.get(name), overall_b.get(name))
        for name in METRIC_ORDER
        if overall_a.get(name) is not None or overall_b.get(name) is not None
    ]
    results_a = load_results(dir_a / RESULTS_FILE)
    flips = []
    for id_, record_b in load_results(dir_b / RESULTS_FILE).items():
        record_a = results_a.get(id_)
        if record_a is None:
            continue
        values = {
            name: (_flip_value(record_a, name), _flip_value(record_b, name)) for name in FLIP_FIELDS
        }
        # None is "not known" (the naive pipeline cannot tell a refusal), not a change.
        changes = {name: (a, b) for name, (a, b) in values.items() if None not in (a, b) and a != b}
        if changes:
            flips.append(Flip(id_, record_b["question"], changes))
    return rows, flips


def _overall(run_dir: Path) -> dict:
    return json.loads((run_dir / METRICS_FILE).read_text(encoding="utf-8"))["overall"]


def _flip_value(record: dict, name: str) -> object:
    return record[name] if name in record else record["metrics"].get(name)


def format_delta(row: MetricRow) -> str:
    if row.delta is None:
        return "–"
    sign = "+" if row.delta > 0 else ""
    return sign + format_figure(row.name, row.delta)


def format_changes(flip: Flip) -> str:
    return "; ".join(f"{name}: {a} → {b}" for name, (a, b) in flip.changes.items())


def compare_markdown(dir_a: Path, dir_b: Path, rows: list[MetricRow], flips: list[Flip]) -> str:
    figures = (
        ["metric", "A", "B", "B − A"],
        [
            [r.name, format_figure(r.name, r.a), format_figure(r.name, r.b), format_delta(r)]
            for r in rows
        ],
    )
    flipped = (["id", "question", "change"], [[f.id, f.question, format_changes(f)] for f in flips])
    return "\n".join(
        [
            "# Comparison",
            "",
            f"A: `{dir_a}`  ",
            f"B: `{dir_b}`",
            "",
            markdown_table(figures),
            "",
            f"## Flipped questions ({len(flips)})",
            "",
            markdown_table(flipped) if flips else "None.",
            "",
        ]
    )


def print_comparison(console: Console, rows: list[MetricRow], flips: list[Flip]) -> None:
    figures = Table("metric", "A", "B", "B − A", title="B against A")
    for row in rows:
        style = {True: "green", False: "red", None: ""}[row.improved]
        figures.add_row(
            row.name,
            format_figure(row.name, row.a),
            format_figure(row.name, row.b),
            format_delta(row),
            style=style,
        )
    console.print(figures)
    flipped = Table("id", "question", "change", title=f"Flipped questions ({len(flips)})")
    for flip in flips:
        flipped.add_row(flip.id, flip.question, format_changes(flip))
    console.print(flipped)

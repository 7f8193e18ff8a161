"""report.md and report.html from metrics.json's figures and the results. The HTML embeds
its plots as base64 PNGs so it reads standalone; the Markdown links the same PNGs."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path

from matplotlib.figure import Figure

from evals.metrics import (
    ANSWER_METRICS,
    COUNTS,
    LATENCY_METRICS,
    LATENCY_STAGES,
    RATIO_METRICS,
    RETRIEVAL_METRICS,
    risk_coverage,
)

METRIC_ORDER = (*COUNTS, *RETRIEVAL_METRICS, *ANSWER_METRICS, *RATIO_METRICS, *LATENCY_METRICS)
PLOTS_DIR = "plots"
BAR_GROUP_WIDTH = 0.8  # of the unit space each metric gets

Table = tuple[list[str], list[list[str]]]  # header, rows


def format_figure(name: str, value: float | int | None) -> str:
    if value is None:
        return "–"
    if name in COUNTS:
        return str(value)
    if name in LATENCY_METRICS:
        return f"{value:.2f} s"
    return f"{value:.3f}"


def figures_table(columns: dict[str, dict]) -> Table:
    """One row per metric that has a value somewhere, one column per group."""
    names = [n for n in METRIC_ORDER if any(g.get(n) is not None for g in columns.values())]
    rows = [[name, *(format_figure(name, g.get(name)) for g in columns.values())] for name in names]
    return ["metric", *columns], rows


def stages_table(stages: dict[str, dict]) -> Table:
    """One row per answering stage, in the order the stages ran (``metrics.stage_times``)."""
    rows = [
        [stage, str(times["questions"]), f"{times['p50_s']:.2f} s", f"{times['mean_s']:.2f} s"]
        for stage, times in stages.items()
    ]
    return ["stage", "questions", "p50", "mean"], rows


def markdown_table(table: Table) -> str:
    header, rows = table
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(table: Table) -> str:
    header, rows = table
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def language_bars(by_language: dict[str, dict]) -> Figure | None:
    """Grouped bars: for each quality metric, one bar per question language."""
    names = [
        name
        for name in (*RETRIEVAL_METRICS, *ANSWER_METRICS, *RATIO_METRICS)
        if any(figures.get(name) is not None for figures in by_language.values())
    ]
    if not names:
        return None
    figure = Figure(figsize=(max(8, len(names) * 0.9), 4.5), layout="constrained")
    axes = figure.add_subplot()
    width = BAR_GROUP_WIDTH / len(by_language)
    for offset, (language, figures) in enumerate(by_language.items()):
        positions = [index + offset * width for index in range(len(names))]
        axes.bar(positions, [figures.get(name) or 0.0 for name in names], width, label=language)
    axes.set_xticks(
        [index + (BAR_GROUP_WIDTH - width) / 2 for index in range(len(names))],
        names,
        rotation=30,
        ha="right",
    )
    axes.set_ylim(0, 1)
    figure.legend(
        title="question language", loc="outside upper center", ncols=min(len(by_language), 10)
    )
    return figure


def latency_histogram(records: Sequence[dict]) -> Figure | None:
    series = {
        stage: [
            r["timings"][f"{stage}_s"]
            for r in records
            if r["timings"].get(f"{stage}_s") is not None
        ]
        for stage in LATENCY_STAGES
    }
    series = {stage: values for stage, values in series.items() if values}
    if not series:
        return None
    figure = Figure(figsize=(8, 4), layout="constrained")
    axes = figure.add_subplot()
    axes.hist(list(series.values()), bins=20, label=list(series))
    axes.set_xlabel("seconds")
    axes.set_ylabel("questions")
    axes.legend()
    return figure


def risk_coverage_plot(records: Sequence[dict]) -> Figure | None:
    """Risk (1 − precision of verified answers) against coverage as a threshold on the
    answers' confidence rises (``metrics.risk_coverage``), the product's own operating
    point (every verified answer shown) marked."""
    points = risk_coverage(records)
    if not points:
        return None
    _, coverage, risk = zip(*points, strict=True)
    figure = Figure(figsize=(6, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.plot(coverage, risk, marker=".", label="answers kept above a confidence threshold")
    shown = f"as run: every verified answer shown (coverage {coverage[0]:.2f}, risk {risk[0]:.2f})"
    axes.plot(coverage[0], risk[0], "o", markersize=10, label=shown)
    axes.set_xlabel("coverage (verified answers / answerable questions)")
    axes.set_ylabel("risk (1 − precision of verified answers)")
    axes.set_xlim(0, max(1.0, *coverage))
    axes.set_ylim(0, max(0.05, *risk) * 1.1)
    axes.legend()
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def write_report(out_dir: Path, metrics: dict, records: Sequence[dict]) -> None:
    sections = [
        ("Overall", figures_table({"all": metrics["overall"]})),
        ("By question language", figures_table(metrics["by_language"])),
        ("By question type", figures_table(metrics["by_type"])),
    ]
    if metrics.get("by_split"):
        sections.insert(1, ("By split of the gold set", figures_table(metrics["by_split"])))
    if metrics.get("stages"):
        sections.append(("Time per answering stage", stages_table(metrics["stages"])))
    plots = {
        "by_language.png": ("Metrics by question language", language_bars(metrics["by_language"])),
        "latency.png": ("Latency", latency_histogram(records)),
        "risk_coverage.png": ("Risk against coverage", risk_coverage_plot(records)),
    }
    images = {name: (title, png(fig)) for name, (title, fig) in plots.items() if fig is not None}
    (out_dir / PLOTS_DIR).mkdir(exist_ok=True)
    for name, (_, data) in images.items():
        (out_dir / PLOTS_DIR / name).write_bytes(data)

    markdown = ["# Evaluation report", ""]
    for title, table in sections:
        markdown += [f"## {title}", "", markdown_table(table), ""]
    for name, (title, _) in images.items():
        markdown += [f"## {title}", "", f"![{title}]({PLOTS_DIR}/{name})", ""]
    (out_dir / "report.md").write_text("\n".join(markdown), encoding="utf-8")

    body = ["<h1>Evaluation report</h1>"]
    body += [f"<h2>{title}</h2>{html_table(table)}" for title, table in sections]
    body += [
        f'<h2>{title}</h2><img alt="{title}" src="data:image/png;base64,'
        f'{base64.b64encode(data).decode()}">'
        for title, data in images.values()
    ]
    page = (
        '<!doctype html><html><head><meta charset="utf-8"><title>Evaluation report</title>'
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin-bottom:1.5em}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}"
        "th:first-child,td:first-child{text-align:left}img{max-width:100%}</style></head>"
        f"<body>{''.join(body)}</body></html>"
    )
    (out_dir / "report.html").write_text(page, encoding="utf-8")

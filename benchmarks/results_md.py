"""benchmarks/RESULTS.md, generated from the JSON files in benchmarks/results/ so that the
measurements a reader sees are the ones the benchmarks wrote, each with the machine (CPU
model and SIMD flags) it was measured on.

    .venv/bin/python -m benchmarks.results_md           # rewrite RESULTS.md
    .venv/bin/python -m benchmarks.results_md --check   # fail if it is out of date (CI)
"""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.run import RESULTS_DIR
from evals.gold import SPLITS
from evals.metrics import dedupe

RESULTS_MD = RESULTS_DIR.parent / "RESULTS.md"
SECTIONS = {
    "answers.json": "Answers: quality and first-token latency",
    "latency.json": "Time to the key fact and to the checked answer, beside a baseline",
    "reader.json": "The extractive reader alone",
    "retrieval.json": "Retrieval quality and latency",
    "ingest.json": "Ingest speed",
    "prompt_coverage.json": "What the answer prompt holds",
    "scale.json": "Scale",
    "load.json": "Load and soak",
    "ray_ingest.json": "Distributed ingest (Ray)",
}
LEFT_OUT = {"machine", "settings", "note", "split", "runs", "questions", "samples"}
MAX_DEPTH = 3


def flattened(value: object, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(dotted key, value) for every scalar of a JSON value, lists shown inline."""
    if isinstance(value, dict) and depth < MAX_DEPTH:
        rows = []
        for key, inner in value.items():
            if depth == 0 and key in LEFT_OUT:
                continue
            rows += flattened(inner, f"{prefix}{key}.", depth + 1)
        return rows
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value
    return [(prefix.rstrip("."), str(shown))]


def machine_line(machine: dict) -> str:
    flags = " ".join(machine.get("cpu_flags", []))
    return (
        f"Measured on: {machine.get('cpu_model', machine.get('processor', '?'))} "
        f"({flags or 'flags not recorded'}), {machine.get('cpu_cores', '?')} cores, "
        f"load {machine.get('load_average_1m_at_write', '?')} when written."
    )


def answers_table(payload: dict) -> list[str]:
    """One row per run and split of the gold set (``evals.gold.SPLITS``; a run that asked
    none of a split's questions, or was summarised before it existed, has no row for it),
    then each run's command and, when it was measured, its seconds per answering stage."""
    runs = payload["runs"]
    questions = payload.get("questions", "all")
    lines = []
    if questions != "all":
        lines += [
            f"On the {len(questions)} questions every run answered: {', '.join(questions)}.",
            "",
        ]
    figures = dedupe(figure for run in runs for split in SPLITS for figure in run.get(split, {}))
    figures = [figure for figure in figures if figure != "questions"]
    lines += ["| run | split | " + " | ".join(figures) + " |", "|---|---|" + "---|" * len(figures)]
    for run in runs:
        for split in (split for split in SPLITS if run.get(split, {}).get("questions")):
            cells = [_cell(run[split].get(figure)) for figure in figures]
            lines.append(f"| {run['label']} | {split} | " + " | ".join(cells) + " |")
    lines += ["", "Commands:", ""]
    lines += [f"- {run['label']}: `{run['command']}`" for run in runs]
    shown: dict[str, str] = {}  # a variant scored from another run's records has its times
    for run in runs:
        if run.get("stages"):
            key = json.dumps(run["stages"], sort_keys=True)
            if key in shown:
                lines += ["", f"Seconds per answering stage, {run['label']}: as {shown[key]}."]
                continue
            shown[key] = run["label"]
            lines += ["", f"Seconds per answering stage, {run['label']}:", ""]
            lines += ["| stage | questions | p50 | mean |", "|---|---|---|---|"]
            lines += [
                f"| {stage} | {t['questions']} | {_cell(t['p50_s'])} | {_cell(t['mean_s'])} |"
                for stage, t in run["stages"].items()
            ]
    return lines


def _cell(value: object) -> str:
    return "–" if value is None else str(value)


def scale_tables(payload: dict) -> list[str]:
    """scale.json: each key by size, the current code beside the baseline and their ratio;
    then the curve extrapolated from the sizes and the targets at the largest size. The
    per-size diagnostics (``details``) stay in the JSON."""
    keys, sizes = payload["keys"], payload["sizes"]
    baseline = payload.get("baseline_commit", "baseline")
    runs = payload.get("runs") or ([payload["run"]] if "run" in payload else [])
    lines = []
    for run in runs:
        ended = ""
        if run.get("stopped"):
            ended = f" (stopped: {run['stopped']})"
        elif run.get("finished") is False:
            ended = " (did not finish: killed outright, or still running when written)"
        lines += [f"- `{run.get('command')}`: {run.get('wall_s')} s wall time{ended}"]
    if runs:
        lines += [""]
    header, rule = ["figure"], ["---"]
    for size in sizes:
        header += [f"{size}: current", f"{size}: {baseline}", f"{size}: ratio"]
        rule += ["---"] * 3
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    for key in keys:
        cells = [key]
        for row in sizes.values():
            for part in ("current", "baseline", "ratio_to_baseline"):
                figures = row.get(part) or {}
                if "error" in figures:
                    value = (figures.get("partial") or {}).get(key)
                    cells.append("error" if value is None else f"{value} (before it failed)")
                else:
                    cells.append(_cell(figures.get(key)))
        lines.append("| " + " | ".join(cells) + " |")
    errors = [
        f"{size} ({part}: {_failure(row[part]['error'])})"
        for size, row in sizes.items()
        for part in ("current", "baseline")
        if "error" in (row.get(part) or {})
    ]
    if errors:
        lines += ["", "Did not finish (the log's end is in the JSON): " + "; ".join(errors) + "."]
    curve = payload.get("extrapolated_current") or {}
    if curve:
        at = next(iter(curve.values()))
        target_size = next(key for key in at if key.startswith("at_"))
        lines += ["", f"Current code fitted as a * chunks^b and extrapolated ({target_size}):", ""]
        lines += ["| figure | b | value |", "|---|---|---|"]
        lines += [f"| {k} | {v['exponent']} | {v[target_size]} |" for k, v in curve.items()]
    titles = {
        "targets_at_largest_size": "Targets at the largest size measured:",
        "targets_at_1000000_extrapolated": "Targets against the curve at 1,000,000 chunks:",
    }
    for field, title in titles.items():
        targets = payload.get(field) or {}
        if not targets:
            continue
        lines += ["", title, ""]
        lines += ["| figure | target | value | met |", "|---|---|---|---|"]
        lines += [
            f"| {k} | {v['target']} | {v['value']} | {'yes' if v['met'] else 'no'} |"
            for k, v in targets.items()
        ]
    return lines


def latency_table(payload: dict) -> list[str]:
    """Each side's p50s and how many of its answers were verified, then the ratios."""
    lines = [
        f"Questions: {len(payload['questions'])} of the {payload['split']} split, asked "
        f"alternately of this code and of {payload['baseline']} (load average "
        f"{payload['load_average_1m_before']} before the run).",
        "",
        "| side | questions | verified | key fact shown | key fact p50 s | answer p50 s | "
        "verified answer p50 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for side, row in payload["summary"].items():
        cells = [row[k] for k in ("questions", "verified", "key_fact_shown", "key_fact_p50_s",
                                  "answer_p50_s", "verified_answer_p50_s")]  # fmt: skip
        lines.append(f"| {side} | " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "| ratio (this code ÷ baseline) | value |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in payload["ratios"].items()]
    if payload.get("errors"):
        lines += ["", f"Errors: {json.dumps(payload['errors'], ensure_ascii=False)}"]
    return lines


def reader_tables(payload: dict) -> list[str]:
    """Top-1 and top-3 of the reader per split, with each of its mechanisms off, and the
    reliability of its calibrated confidence."""
    lines = [
        "Answerable questions the reader reads (a figure, a date or a name asked); right: its "
        "best candidate is the gold fact. Its time per question: "
        f"p50 {payload['reader_ms_p50']} ms, max {payload['reader_ms_max']} ms.",
        "",
        "| reader | " + " | ".join(f"{split} top-1 | {split} top-3" for split in SPLITS) + " |",
        "|---|" + "---|---|" * len(SPLITS),
    ]
    rows = {"all on (default)": payload["splits"], **payload.get("without", {})}
    for label, found in rows.items():
        cells = [c for split in SPLITS for c in (found[split]["top1"], found[split]["top3"])]
        lines.append(f"| {label} | " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "| split | confidence bin | questions | right |", "|---|---|---|---|"]
    for split in SPLITS:
        for row in payload["splits"][split]["reliability"]:
            if row["questions"]:
                low, high = row["bin"]
                lines.append(f"| {split} | {low}–{high} | {row['questions']} | {row['right']} |")
    return lines


def ray_ingest_table(payload: dict) -> list[str]:
    """One row per run of ``benchmarks.ray_ingest``: workers, whether one was killed, and
    what the ingest and its rerun did."""
    columns = [
        "workers", "killed_worker_after_s", "completed", "chunks", "failed", "ingest_s",
        "chunks_per_s", "cluster_start_s", "rerun_new", "rerun_repaired", "rerun_skipped",
    ]  # fmt: skip
    lines = [f"- `{payload['command']}`", ""]
    lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for run in payload["runs"]:
        lines.append("| " + " | ".join(_cell(run.get(column)) for column in columns) + " |")
    errors = [
        f"{run['workers']} workers: {run['error']}" for run in payload["runs"] if run["error"]
    ]
    if errors:
        lines += ["", "Errors: " + "; ".join(errors)]
    return lines


def _failure(error: dict | str) -> str:
    """How a scale worker ended, as ``benchmarks.scale.failure`` recorded it."""
    if isinstance(error, str):  # written before the tool recorded how
        return "error"
    how = error.get("signal") or (
        f"exit code {error['exit_code']}" if error.get("exit_code") is not None else ""
    )
    said = f"{error['reason']}{f', {how}' if how else ''}, after {error['elapsed_s']} s"
    return f"{said}, at: {error['step']}" if error.get("step") else said


def render() -> str:
    lines = [
        "# Measured results",
        "",
        "Generated by `python -m benchmarks.results_md` from `benchmarks/results/*.json`;",
        "do not edit by hand. Speeds are only comparable on the same CPU: each section says",
        "which one, and ratios are taken against a baseline measured in the same run.",
    ]
    for name, title in SECTIONS.items():
        path = RESULTS_DIR / name
        if not path.is_file():
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        lines += ["", f"## {title}", "", f"From `benchmarks/results/{name}`.", ""]
        if "machine" in payload:
            lines += [machine_line(payload["machine"]), ""]
        if payload.get("note"):
            lines += [payload["note"], ""]
        if name == "answers.json":
            lines += answers_table(payload)
            continue
        if name == "scale.json" and "sizes" in payload:
            lines += scale_tables(payload)
            continue
        if name == "latency.json":
            lines += latency_table(payload)
            continue
        if name == "reader.json":
            lines += reader_tables(payload)
            continue
        if name == "ray_ingest.json":
            lines += ray_ingest_table(payload)
            continue
        lines += ["| figure | value |", "|---|---|"]
        lines += [f"| {key} | {value} |" for key, value in flattened(payload)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="Fail if RESULTS.md is stale.")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not RESULTS_MD.is_file() or RESULTS_MD.read_text(encoding="utf-8") != text:
            sys.exit(f"{RESULTS_MD} is out of date: run python -m benchmarks.results_md")
        return
    RESULTS_MD.write_text(text, encoding="utf-8")
    print(f"wrote {RESULTS_MD}")


if __name__ == "__main__":
    main()

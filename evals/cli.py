"""`assistant eval` (run the gold set) and `assistant eval compare` (two runs side by
side). Plugged in through the ``assistant.commands`` entry point; the product never
imports this package."""

from __future__ import annotations

import importlib.util
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from evals.gold import SPLITS, GoldError, load_gold, split_of

if TYPE_CHECKING:
    from assistant.service import Assistant

DEFAULT_GOLD = Path(__file__).parent / "gold.jsonl"
EVAL_EXTRA_MODULES = ("matplotlib", "llama_index.llms.openai_like")
INTERRUPTED_EXIT_CODE = 130

eval_app = typer.Typer(
    help="Evaluate the product on a gold question set; compare two evaluation runs.",
    invoke_without_command=True,
    no_args_is_help=False,
)


Split = StrEnum("Split", {name: name for name in SPLITS})


class PipelineName(StrEnum):
    product = "product"
    naive = "naive"


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")


def require_eval_extra(console: Console) -> None:
    """Exit with the install command when the `eval` extra (report plots, the naive
    baseline) is not installed: the product runs without it, evaluations do not."""
    missing = [name for name in EVAL_EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        console.print(f"Evaluations need {', '.join(missing)}: pip install 'news-assistant[eval]'.")
        raise typer.Exit(1)


def make_assistant() -> Assistant:
    # Imported here: loading the product's backends must not slow every other command.
    from assistant.service import Assistant

    return Assistant()


@eval_app.callback()
def run(
    ctx: typer.Context,
    gold: Path = typer.Option(DEFAULT_GOLD, help="Gold questions (JSON Lines)."),
    out: Path | None = typer.Option(
        None, help="Run directory; rerunning into it resumes. Required unless comparing."
    ),
    limit: int | None = typer.Option(None, min=1, help="Only the first N questions."),
    lang: str | None = typer.Option(None, help="Only questions in this language (ISO 639-1)."),
    split: Split | None = typer.Option(
        None,
        help="Only one split of the gold set: dev (odd ids, for tuning), held_out (even ids) "
        "or frozen (the batch written before the answering pipeline; tunes nothing).",
    ),
    retrieval_only: bool = typer.Option(
        False, "--retrieval-only", help="Only search: retrieval figures."
    ),
    pipeline: PipelineName = typer.Option(
        PipelineName.product, help="product, or naive: stock LlamaIndex for comparison."
    ),
    concurrency: int = typer.Option(1, min=1, help="Questions run at once."),
    judge_url: str | None = typer.Option(
        None, help="OpenAI-compatible endpoint of an LLM judge; off when not given."
    ),
    judge_model: str | None = typer.Option(None, help="The judge's model name."),
    judge_api_key: str = typer.Option("not-needed", envvar="EVAL_JUDGE_API_KEY"),
) -> None:
    """Run the gold questions through the product (or the naive pipeline) and write
    results.jsonl, metrics.json, report.md and report.html to --out."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise typer.BadParameter("--out is required", param_hint="--out")
    if judge_url and not judge_model:
        raise typer.BadParameter("--judge-url needs --judge-model", param_hint="--judge-model")
    console = Console(stderr=True)
    try:
        items = load_gold(gold)
    except GoldError as error:
        for problem in error.problems:
            console.print(problem, style="red", markup=False, highlight=False, soft_wrap=True)
        console.print(f"{len(error.problems)} problem(s) in {gold}; nothing was run.")
        raise typer.Exit(1) from None
    items = [
        item
        for item in items
        if (lang is None or item.language == lang) and (split is None or split_of(item) == split)
    ][:limit]

    require_eval_extra(console)
    # Imported only when evaluating: they pull in matplotlib and the openai client.
    from evals.judge import Judge
    from evals.runner import ProductPipeline, RunOptionsMismatch, run_eval

    assistant = make_assistant()
    if assistant.store.count() == 0:
        # Every answer would be a refusal: a meaningless run that looks like a real one.
        console.print(
            f"The index in {assistant.settings.data_dir} is empty: run `assistant ingest` first."
        )
        raise typer.Exit(1)
    if pipeline is PipelineName.naive:
        from evals.naive import NaivePipeline

        chosen = NaivePipeline(assistant)
    else:
        chosen = ProductPipeline(assistant)
    options = {"pipeline": pipeline.value, "retrieval_only": retrieval_only}
    try:
        metrics, interrupted = run_eval(
            items,
            chosen,
            assistant.detector,
            out,
            options=options,
            retrieval_only=retrieval_only,
            concurrency=concurrency,
            judge=Judge(judge_url, judge_model, judge_api_key) if judge_url else None,
            console=console,
        )
    except RunOptionsMismatch as error:
        console.print(str(error), style="red", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    overall = metrics["overall"]
    console.print(f"{overall['questions']} questions, {overall['errors']} errors; see {out}")
    if interrupted:
        console.print("Interrupted: rerun the same command to finish.")
        raise typer.Exit(INTERRUPTED_EXIT_CODE)


@eval_app.command()
def compare(
    dir_a: Path = typer.Argument(..., exists=True, file_okay=False, help="The baseline run."),
    dir_b: Path = typer.Argument(..., exists=True, file_okay=False, help="The run compared."),
    out: Path | None = typer.Option(None, help="Markdown file; default DIR_B/compare.md."),
) -> None:
    """Per-metric difference B − A and the questions whose fact accuracy or refusal flipped."""
    from evals.compare import compare_markdown, compare_runs, print_comparison

    rows, flips = compare_runs(dir_a, dir_b)
    print_comparison(Console(), rows, flips)
    target = out or dir_b / "compare.md"
    target.write_text(compare_markdown(dir_a, dir_b, rows, flips), encoding="utf-8")
    Console(stderr=True).print(f"Written to {target}")

import pytest

from evals.metrics import summarize
from evals.report import figures_table, markdown_table, risk_coverage_plot, write_report


def record(id_, language, type_, fact, total_s):
    return {
        "id": id_,
        "question": f"{id_}?",
        "language": language,
        "type": type_,
        "metrics": {"recall@5": 1.0, "fact_accuracy": fact},
        "timings": {"retrieve_s": 0.2, "ttft_s": 0.5, "total_s": total_s},
    }


RECORDS = [
    record("a", "en", "number", 1.0, 1.0),
    record("b", "en", "name", 0.0, 2.0),
    record("c", "de", "number", 1.0, 3.0),
]


def test_figures_table_has_a_row_per_known_metric_and_a_column_per_group():
    header, rows = figures_table(
        {
            "en": {"questions": 2, "fact_accuracy": 0.5, "mrr": None},
            "de": {"questions": 1, "fact_accuracy": None, "mrr": None},
        }
    )
    assert header == ["metric", "en", "de"]
    assert rows == [["questions", "2", "1"], ["fact_accuracy", "0.500", "–"]]  # mrr: no value
    assert markdown_table((header, rows)).splitlines()[1] == "|---|---|---|"


def test_the_report_files_hold_the_tables_and_the_plots(tmp_path):
    write_report(tmp_path, summarize(RECORDS), RECORDS)
    markdown = (tmp_path / "report.md").read_text()
    assert "| metric | all |" in markdown
    assert "| fact_accuracy | 0.667 |" in markdown  # overall: 2 of 3
    assert "| metric | de | en |" in markdown  # by language
    assert "| fact_accuracy | 1.000 | 0.500 |" in markdown
    assert "| metric | name | number |" in markdown  # by type
    assert "| total_p50_s | 2.00 s |" in markdown
    assert "![Latency](plots/latency.png)" in markdown
    assert (tmp_path / "plots" / "by_language.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "plots" / "latency.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "report.html").read_text()
    assert page.count("<table>") == 3
    assert "<td>fact_accuracy</td><td>0.667</td>" in page
    assert page.count('src="data:image/png;base64,iVBOR') == 2  # standalone: PNGs inline


def product_record(id_, split, right, confidence, stages):
    """A verified answer of the product, with its key fact and stage times."""
    return {
        **record(id_, "en", "number", float(right), 4.0),
        "split": split,
        "answerable": True,
        "verified": True,
        "key_fact": {"text": "18,087", "kind": "count", "confidence": confidence},
        "metrics": {"fact_accuracy": float(right), "shown_verified": 1.0, "verified_right": right},
        "timings": {"retrieve_s": 0.2, "key_fact_s": 0.4, "ttft_s": 3.0, "total_s": 4.0}
        | {"stages": stages},
    }


PRODUCT = [
    product_record("q1", "dev", 1.0, 0.9, {"retrieve": 0.2, "llm_reader": 2.0}),
    product_record("q2", "held_out", 0.0, 0.3, {"retrieve": 0.4, "llm_reader": 4.0}),
    product_record("f1", "frozen", 1.0, 0.6, {"retrieve": 0.3}),
]


def test_the_report_has_the_new_figures_the_splits_the_stages_and_the_risk_coverage_plot(
    tmp_path,
):
    write_report(tmp_path, summarize(PRODUCT), PRODUCT)
    markdown = (tmp_path / "report.md").read_text()
    assert "| verified_precision | 0.667 |" in markdown  # 2 of 3 verified answers right
    assert "| coverage | 1.000 |" in markdown
    assert "| key_fact_p50_s | 0.40 s |" in markdown
    assert "| verified_answer_p50_s | 3.00 s |" in markdown
    assert "| metric | dev | held_out | frozen |" in markdown  # by split, in the set's order
    assert "| stage | questions | p50 | mean |" in markdown
    assert "| llm_reader | 2 | 3.00 s | 3.00 s |" in markdown
    assert "![Risk against coverage](plots/risk_coverage.png)" in markdown
    assert (tmp_path / "plots" / "risk_coverage.png").read_bytes().startswith(b"\x89PNG")
    page = (tmp_path / "report.html").read_text()
    assert page.count("<table>") == 5
    assert "<td>verified_precision</td><td>0.667</td>" in page
    assert page.count('src="data:image/png;base64,iVBOR') == 3


def test_the_risk_coverage_plot_marks_the_products_operating_point():
    axes = risk_coverage_plot(PRODUCT).axes[0]
    curve, product = axes.get_lines()
    assert list(curve.get_xdata()) == pytest.approx([1.0, 2 / 3, 1 / 3])  # at 0.3, 0.6, 0.9
    assert list(curve.get_ydata()) == pytest.approx([1 / 3, 0.0, 0.0])
    assert list(product.get_xdata()) == [1.0]
    assert list(product.get_ydata()) == pytest.approx([1 / 3])
    assert "coverage 1.00, risk 0.33" in product.get_label()
    assert risk_coverage_plot(RECORDS) is None  # no verified answer: nothing to plot

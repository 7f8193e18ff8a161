from evals.metrics import summarize
from evals.report import figures_table, markdown_table, write_report


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

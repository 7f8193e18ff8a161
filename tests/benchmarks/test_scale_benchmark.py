"""The scale benchmark's arithmetic (benchmarks.scale) and its rendering in RESULTS.md
(benchmarks.results_md): nothing here measures anything."""

from __future__ import annotations

import pytest

from benchmarks.results_md import scale_tables
from benchmarks.scale import KEYS, extrapolate, ratios, record, targets_met


def figures(chunks: int, **overrides) -> dict:
    values = {key: 1.0 for key in KEYS} | {"chunks": chunks, "articles": chunks // 8}
    # p95 grows as the square root of the corpus, start-up stays flat.
    values |= {"hybrid_p95_ms": 2.0 * chunks**0.5, "start_to_first_search_s": 4.0}
    return values | overrides


def worker_error(reason: str, log: str) -> dict:
    """A worker's end as ``benchmarks.scale.failure`` records it."""
    steps = [line for line in log.splitlines() if line.startswith("[")]
    return {
        "error": {
            "reason": reason,
            "exit_code": None,
            "signal": "SIGKILL",
            "elapsed_s": 12.5,
            "timeout_s": 60,
            "step": steps[-1] if steps else None,
            "log": log,
        }
    }


def test_the_curve_is_a_power_law_fitted_in_log_log():
    sizes = {str(n): {"current": figures(n)} for n in (10_000, 30_000, 100_000)}
    curve = extrapolate(sizes)
    assert curve["hybrid_p95_ms"]["exponent"] == pytest.approx(0.5, abs=1e-3)
    assert curve["hybrid_p95_ms"]["at_1000000"] == pytest.approx(2000.0, rel=1e-3)
    assert curve["start_to_first_search_s"]["exponent"] == pytest.approx(0.0, abs=1e-6)


def test_a_failed_size_is_left_out_of_the_curve_and_one_size_gives_none():
    sizes = {"10000": {"current": figures(10_000)}, "30000": {"current": {"error": "boom"}}}
    assert extrapolate(sizes) == {}


def test_targets_say_met_or_not_with_the_figure():
    met = targets_met(figures(100_000, hybrid_p95_ms=250.0, gold_recall_at_5=0.95))
    assert met["hybrid_p95_ms"] == {"value": 250.0, "target": "<= 200", "met": False}
    assert met["gold_recall_at_5"]["met"] is True
    assert met["store_write_chunks_per_s"]["met"] is False  # 1.0 < 1000


def test_ratios_divide_current_by_baseline_and_skip_a_zero_baseline():
    current = figures(10_000, hybrid_p50_ms=50.0)
    baseline = figures(10_000, hybrid_p50_ms=100.0, rss_mb_start=0)
    result = ratios(current, baseline)
    assert result["hybrid_p50_ms"] == 0.5 and result["rss_mb_start"] is None


def test_results_md_shows_each_key_by_size_with_baseline_ratio_and_targets():
    sizes = {
        "10000": {
            "current": figures(10_000),
            "baseline": figures(10_000, hybrid_p95_ms=400.0),
            "ratio_to_baseline": {"hybrid_p95_ms": 0.5},
        },
        "30000": {"current": figures(30_000)},
        "100000": {"current": worker_error("signal", "[10:00:00] adding 1,000 articles\n")},
    }
    runs = [{"command": "python -m benchmarks.scale", "wall_s": 9, "finished": True}]
    text = "\n".join(scale_tables(record(sizes, "2abc3c2", {}, runs)))
    assert "- `python -m benchmarks.scale`: 9 s wall time" in text
    assert "| figure | 10000: current | 10000: 2abc3c2 | 10000: ratio | 30000: current" in text
    row = next(line for line in text.splitlines() if line.startswith("| hybrid_p95_ms | 200"))
    assert "| 400.0 | 0.5 |" in row and row.endswith("| error | – | – |")
    assert (
        "Did not finish (the log's end is in the JSON): 100000 (current: signal, SIGKILL, "
        "after 12.5 s, at: [10:00:00] adding 1,000 articles)." in text
    )
    assert "Targets against the curve at 1,000,000 chunks:" in text


def test_a_baseline_stopped_after_writing_the_archive_keeps_its_store_write():
    log = (
        "[09:44:33] filling 10000 chunks\n"
        '[09:57:00] filled: {"articles": 1347, "chunks": 10003, "generate_s": 20.0, '
        '"write_s": 500.15}; ingesting the bundled corpus\n'
        "[09:57:10] adding 1,000 articles\n"
    )
    sizes = {"10000": {"current": figures(10_000, store_write_chunks_per_s=200.06)}}
    sizes["10000"]["baseline"] = worker_error("timeout", log)
    row = record(sizes, "2abc3c2", {}, [])["sizes"]["10000"]
    assert row["baseline"]["partial"]["store_write_chunks_per_s"] == 20.0
    assert row["ratio_to_baseline"] == {"store_write_chunks_per_s": 10.003}
    text = "\n".join(scale_tables(record(sizes, "2abc3c2", {}, [])))
    assert "| 20.0 (before it failed) | 10.003 |" in text


def test_a_current_run_stopped_after_writing_the_archive_shows_its_store_write_only():
    log = '[10:20:00] filled: {"articles": 10, "chunks": 100, "generate_s": 1, "write_s": 2.0}; x\n'
    sizes = {
        "10000": {"current": figures(10_000)},
        "100000": {"current": worker_error("stopped", log)},
    }
    payload = record(sizes, "2abc3c2", {}, [])
    assert payload["sizes"]["100000"]["current"]["partial"]["store_write_chunks_per_s"] == 50.0
    assert payload["extrapolated_current"] == {}  # one complete size: no curve
    text = "\n".join(scale_tables(payload))
    assert "| 50.0 (before it failed) |" in text

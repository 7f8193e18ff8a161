"""The calibration of the extractive reader's confidence: a logistic curve fitted by
Newton's method, and the reliability table that checks it."""

from __future__ import annotations

import numpy as np

from benchmarks.reader_calibration import fit, reliability


def test_the_fit_recovers_a_known_curve():
    rng = np.random.default_rng(0)
    leads = rng.uniform(-0.05, 0.1, 4000)
    right = rng.uniform(0, 1, leads.size) < 1 / (1 + np.exp(-(40 * leads - 1)))
    slope, intercept = fit(list(leads), list(right))
    assert abs(slope - 40) < 6 and abs(intercept + 1) < 0.3


def test_reliability_puts_each_reading_in_its_confidence_bin():
    rows = [{"confidence": c, "right": r} for c, r in [(0.1, False), (0.55, True), (0.58, False)]]
    table = {tuple(row["bin"]): row for row in reliability(rows)}
    assert table[(0.0, 0.2)]["questions"] == 1 and table[(0.0, 0.2)]["right"] == 0.0
    assert table[(0.4, 0.6)]["questions"] == 2 and table[(0.4, 0.6)]["right"] == 0.5
    assert table[(0.8, 1.0)]["questions"] == 0 and table[(0.8, 1.0)]["right"] is None

"""Where the repository and the tests' data files are, in one place: test modules sit at
different depths under tests/, so none of them works these out from its own ``__file__``."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # tests/support/paths.py -> the repository
TEST_DATA = PROJECT_ROOT / "tests" / "data"

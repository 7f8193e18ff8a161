"""Benchmarks. A regular package: pysbd installs an unrelated top-level `benchmarks` package
that would otherwise shadow this directory."""

"""The shape of every results file, declared by the benchmark that writes it, and the check
that each file under benchmarks/results/ has exactly that shape: the keys its writer
writes (no other, none missing but those marked optional) with the types it writes. A
value typed into a file by hand, a key its writer never had or a figure pasted as text
fails it.

    .venv/bin/python -m benchmarks.schema     # `make lint` runs it; exit 1 naming each problem

Each writer module holds ``RESULT_SCHEMAS``: file name -> schema. A schema is a Python type
(``int``, ``float``: an int is a float too, as JSON does not tell them apart; ``str``,
``bool``), ``None`` (null), a ``Record`` (exact keys), a ``Map`` (any keys, one value
schema), a ``List``, ``Either`` of several, or ``ANY`` where the writer copies in
something it does not shape itself (the settings it ran with)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Which module writes each file (its RESULT_SCHEMAS says how).
WRITERS = {
    "answers.json": "benchmarks.answers",
    "retrieval.json": "benchmarks.run",
    "ingest.json": "benchmarks.run",
    "latency.json": "benchmarks.latency",
    "load.json": "benchmarks.load",
    "prompt_coverage.json": "benchmarks.prompt_coverage",
    "scale.json": "benchmarks.scale",
    "ray_ingest.json": "benchmarks.ray_ingest",
    "reader.json": "benchmarks.reader_calibration",
}


@dataclass(frozen=True)
class Record:
    """A JSON object with exactly ``keys`` (each with its schema), and any of ``optional``."""

    keys: dict[str, Any]
    optional: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Map:
    """A JSON object of any keys, every value of one schema."""

    values: Any


@dataclass(frozen=True)
class List:
    """A JSON array, every item of one schema."""

    items: Any


@dataclass(frozen=True)
class Either:
    """One of several schemas."""

    options: tuple


ANY = object()
NUMBER = Either((int, float))


def nullable(schema: Any) -> Either:
    """``schema`` or null: what a writer writes when it could not measure the value (with
    its reason beside it)."""
    return Either((schema, None))


def problems(value: Any, schema: Any, where: str = "$") -> list[str]:
    """What in ``value`` does not fit ``schema``, one line each, with its JSON path."""
    if schema is ANY:
        return []
    if schema is None:
        return [] if value is None else [f"{where}: {_kind(value)}, expected null"]
    if isinstance(schema, Either):
        found = [problems(value, option, where) for option in schema.options]
        if any(not found_here for found_here in found):
            return []
        return (
            min(found, key=len)
            if isinstance(value, dict | list)
            else [f"{where}: {_kind(value)}, expected {' or '.join(map(_name, schema.options))}"]
        )
    if isinstance(schema, Record):
        if not isinstance(value, dict):
            return [f"{where}: {_kind(value)}, expected an object"]
        found = []
        for key in sorted(value.keys() - schema.keys.keys() - schema.optional.keys()):
            found.append(f"{where}.{key}: a key its writer does not write")
        for key in sorted(schema.keys.keys() - value.keys()):
            found.append(f"{where}.{key}: missing")
        for key, inner in value.items():
            inner_schema = schema.keys.get(key, schema.optional.get(key, ANY))
            found += problems(inner, inner_schema, f"{where}.{key}")
        return found
    if isinstance(schema, Map):
        if not isinstance(value, dict):
            return [f"{where}: {_kind(value)}, expected an object"]
        return [
            p
            for key, inner in value.items()
            for p in problems(inner, schema.values, f"{where}.{key}")
        ]
    if isinstance(schema, List):
        if not isinstance(value, list):
            return [f"{where}: {_kind(value)}, expected an array"]
        return [
            p
            for i, inner in enumerate(value)
            for p in problems(inner, schema.items, f"{where}[{i}]")
        ]
    if schema is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif schema is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(schema, type):
        ok = isinstance(value, schema)
    else:
        raise TypeError(f"{where}: {schema!r} is not a schema")
    return [] if ok else [f"{where}: {_kind(value)}, expected {_name(schema)}"]


def _kind(value: Any) -> str:
    return "null" if value is None else f"{type(value).__name__} {json.dumps(value)[:40]}"


def _name(schema: Any) -> str:
    if schema is None:
        return "null"
    if isinstance(schema, type):
        return schema.__name__
    return type(schema).__name__


# The machine a figure was measured on (``benchmarks.run.machine``). Files measured before
# it recorded the CPU (retrieval.json, ingest.json and prompt_coverage.json as committed)
# lack its model and flags: absent, not typed in.
MACHINE = Record(
    {
        "cpu_cores": int,
        "physical_cores": int,
        "memory_gb": float,
        "processor": str,
        "python": str,
        "load_average_1m_at_write": float,
    },
    optional={"cpu_model": str, "cpu_flags": List(str)},
)


def schema_of(name: str) -> Any:
    """The schema that ``name``'s writer declares."""
    if name not in WRITERS:
        raise KeyError(
            f"benchmarks/results/{name}: no benchmark writes this file; add its writer to "
            "benchmarks.schema.WRITERS, or remove the file"
        )
    return importlib.import_module(WRITERS[name]).RESULT_SCHEMAS[name]


def check(results_dir: Path = RESULTS_DIR) -> list[str]:
    """Every problem of every results file, each line naming the file."""
    found = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            schema = schema_of(path.name)
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (KeyError, ValueError) as error:
            found.append(str(error).strip("'\""))
            continue
        found += [f"benchmarks/results/{path.name}: {p}" for p in problems(payload, schema)]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    # Run as a script this module is __main__; the writers' schemas are made of the classes
    # of benchmarks.schema, the same file imported under its own name.
    from benchmarks.schema import check as check_imported

    found = check_imported(args.results_dir)
    for line in found:
        print(line, file=sys.stderr)
    if found:
        sys.exit(f"{len(found)} problems: each results file must be what its writer wrote")


if __name__ == "__main__":
    main()

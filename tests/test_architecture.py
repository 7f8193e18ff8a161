"""The shape of the code: imports point one way (evals -> assistant -> ingest), no package
imports itself in a circle, and ingest owns only its own settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from assistant import settings as product_settings
from ingest import settings as ingest_settings
from tests.support.paths import PROJECT_ROOT

PACKAGES = ("ingest", "assistant", "evals")
LAYER = {"ingest": 0, "assistant": 1, "evals": 2}  # a package imports only lower ones


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The product modules ``path`` imports, at any level (TYPE_CHECKING ones too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports_of(path, set(found)) - {name} for name, path in found.items()}


def test_imports_point_one_way(graph):
    upward = [
        (module, imported)
        for module, imports in graph.items()
        for imported in imports
        if LAYER[imported.split(".")[0]] > LAYER[module.split(".")[0]]
    ]
    assert not upward


def test_no_module_imports_tests_or_benchmarks():
    for path in modules().values():
        source = path.read_text(encoding="utf-8")
        assert "from tests" not in source and "import benchmarks" not in source, path


def test_no_test_module_imports_another():
    """Shared helpers live in tests/support and the helper modules beside it: a test module
    imported by another (or by a script a test runs) ties the two modules' places together.
    The text is searched, not only the import statements, so that scripts in strings count."""
    test_module = re.compile(r"\btests(?:\.\w+)*\.test_\w+")
    found = {
        str(path.relative_to(PROJECT_ROOT)): test_module.findall(path.read_text(encoding="utf-8"))
        for path in sorted((PROJECT_ROOT / "tests").rglob("*.py"))
    }
    assert {path: names for path, names in found.items() if names} == {}


def test_there_is_no_import_cycle(graph):
    # Tarjan's strongly connected components; any with two or more modules is a cycle.
    index, low, on_stack, stack, cycles = {}, {}, set(), [], []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph[module]:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert cycles == []


def test_ingest_defines_no_product_settings():
    ingest_classes = {name for name in vars(ingest_settings) if name.endswith("Settings")}
    product_only = {"LLMSettings", "AnswerSettings", "ServerSettings", "RetrievalSettings"}
    assert not ingest_classes & product_only
    assert product_only <= set(vars(product_settings))


def test_importing_the_product_changes_no_environment():
    import os
    import subprocess
    import sys

    script = (
        "import os; before = dict(os.environ); "
        "import assistant.service, assistant.cli, assistant.settings, ingest.embedding; "
        "import assistant.llama_index; "
        "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "ORT_"))}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr

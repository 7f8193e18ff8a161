"""The shape of the web layer (``assistant.server``): HTML comes only from the autoescaped
templates in prompts/html/ (Markdown from prompts/markdown/, its text escaped), the
templates ship as package data, and every public name says what it is."""

from __future__ import annotations

import ast
import re
import tomllib

import pytest

from assistant.server import templates
from tests.support.paths import PROJECT_ROOT

SERVER = PROJECT_ROOT / "assistant" / "server"
MODULES = sorted(SERVER.rglob("*.py"))
HTML_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9-]*(\s|>|/>)")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_html_is_built_in_python(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    markup = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and HTML_TAG.search(node.value)
    ]
    assert not markup, f"HTML in Python; put it in a template in prompts/html/: {markup}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_every_public_function_and_class_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    undocumented = [
        node.name
        for parent in [tree, *(n for n in tree.body if isinstance(n, ast.ClassDef))]
        for node in parent.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
        and not ast.get_docstring(node)
    ]
    assert not undocumented


def test_templates_are_autoescaped_and_shipped_as_package_data():
    environment = templates.environment()
    names = sorted(p.name for p in (PROJECT_ROOT / "prompts" / "html").glob("*.html"))
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert names
    package_data = pyproject["tool"]["setuptools"]["package-data"]
    assert "html/*.html" in package_data["prompts"]
    assert "ui/*.json" in package_data["prompts"]  # the chat's string catalogues
    assert "static/swagger-ui/*" in package_data["assistant"]  # /docs
    assert environment.autoescape is True
    for name in names:
        environment.get_template(name)  # every template parses
    rendered = environment.from_string("{{ value }}").render(value="<script>x</script>")
    assert rendered == "&lt;script&gt;x&lt;/script&gt;"


def test_markdown_templates_escape_markup_and_ship_as_package_data():
    environment = templates.environment("markdown")
    names = sorted(p.name for p in (PROJECT_ROOT / "prompts" / "markdown").glob("*.md"))
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    assert names
    assert "markdown/*.md" in pyproject["tool"]["setuptools"]["package-data"]["prompts"]
    for name in names:
        environment.get_template(name)  # every template parses
    rendered = environment.from_string("{{ value | md }}").render(value="<b>*x*</b> & _y_ \\")
    assert rendered == r"\<b\>\*x\*\</b\> \& \_y\_ \\"

"""HTML from templates. Every page and fragment the web layer renders comes from an
autoescaped Jinja2 template in ``prompts/html/`` (package data, read with
``importlib.resources``): text from the corpus or the model is escaped wherever it lands,
and no HTML is assembled in Python. The chat's CSS and JavaScript are files in
``assistant/static/``."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

STATIC_DIR = Path(str(resources.files("assistant") / "static"))


def _template_source(name: str) -> str | None:
    """The text of ``prompts/html/<name>``, None when there is no such file."""
    path = resources.files("prompts") / "html" / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


@cache
def environment() -> jinja2.Environment:
    """The one Jinja2 environment: autoescaping on for every template, and an undefined
    variable is an error rather than an empty string."""
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, **context: object) -> str:
    """The template ``prompts/html/<name>`` rendered with ``context``, autoescaped."""
    return environment().get_template(name).render(**context)


def static_text(name: str) -> str:
    """A file of ``assistant/static/`` (the product's own CSS or JavaScript)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def trusted_css(name: str) -> Markup:
    """A stylesheet of ``assistant/static/``, marked safe to inline in a ``<style>``
    element: it is the product's own file, never corpus or user text."""
    return Markup(static_text(name))

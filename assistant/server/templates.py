"""HTML from templates. Every page and fragment the web layer renders comes from an
autoescaped Jinja2 template in ``prompts/html/`` (package data, read with
``importlib.resources``): text from the corpus or the model is escaped wherever it lands,
and no HTML is assembled in Python. The files the chat hands out to keep (a conversation in
Markdown) come from templates in ``prompts/markdown/``. The chat's CSS and JavaScript are
files in ``assistant/static/``."""

from __future__ import annotations

import re
from functools import cache, partial
from importlib import resources
from pathlib import Path

import jinja2
from markupsafe import Markup

STATIC_DIR = Path(str(resources.files("assistant") / "static"))
# What a Markdown reader would take for markup or HTML in text, and the "]" that closes a
# link's or an image's text: escaped with a backslash, so that an article's "<script>" or
# "![](http://tracker/p.png)" stays text wherever the file is opened, while an answer's
# "[1]" (no link without a "(", "[" or ":" after it) stays as it reads.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_<>&]|\](?=[(\[:])")


def _template_source(folder: str, name: str) -> str | None:
    """The text of ``prompts/<folder>/<name>``, None when there is no such file."""
    path = resources.files("prompts") / folder / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def markdown_text(text: str) -> str:
    """``text`` for a Markdown file: read as text, not as markup."""
    return MARKDOWN_SPECIAL.sub(lambda special: "\\" + special.group(), text)


@cache
def environment(folder: str = "html") -> jinja2.Environment:
    """The Jinja2 environment of ``prompts/<folder>``: an undefined variable is an error
    rather than an empty string. HTML is autoescaped; Markdown is not HTML, and its
    templates escape text with the ``md`` filter (``markdown_text``)."""
    markdown = folder == "markdown"
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(partial(_template_source, folder)),
        autoescape=not markdown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=markdown,
    )
    if markdown:
        env.filters["md"] = markdown_text
    return env


def render(name: str, **context: object) -> str:
    """The template ``prompts/html/<name>`` rendered with ``context``, autoescaped."""
    return environment().get_template(name).render(**context)


def render_markdown(name: str, **context: object) -> str:
    """The template ``prompts/markdown/<name>`` rendered with ``context``."""
    return environment("markdown").get_template(name).render(**context)


def static_text(name: str) -> str:
    """A file of ``assistant/static/`` (the product's own CSS or JavaScript)."""
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def trusted_css(name: str) -> Markup:
    """A stylesheet of ``assistant/static/``, marked safe to inline in a ``<style>``
    element: it is the product's own file, never corpus or user text."""
    return Markup(static_text(name))

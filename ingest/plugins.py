"""The one registry of swappable parts: embedders, stores, language detectors, readers,
retrievers and LLMs.

Every backend, the product's own included, is registered as a Python entry point in the
group of its kind (``pyproject.toml``: ``[project.entry-points."news_assistant.embedders"]``
and so on), so a third-party package adds one by declaring an entry point, with no edit
to this product. A setting names the backend to use (``embedding.backend``,
``retrieval.mode``...); a name no entry point declares is taken as a dotted path to a
factory (``package.module:make_thing``), as txtai does.

What an entry point loads depends on its kind: a factory taking the settings (and, for a
retriever, the parts it reads) for the kinds chosen by a setting; for readers, a ``Reader``
(or a class making one without arguments), all of them in use at once, each for the file
types it declares (``ingest.readers``).
The registry lives in ``ingest``, the lowest layer, so that ingest's own parts register
here too; ``assistant`` adds its kinds' groups.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from ingest.errors import PluginError

GROUPS = {
    "embedder": "news_assistant.embedders",
    "store": "news_assistant.stores",
    "lexical": "news_assistant.lexical_indexes",
    "language_detector": "news_assistant.language_detectors",
    "reader": "news_assistant.readers",
    "retriever": "news_assistant.retrievers",
    "llm": "news_assistant.llms",
}


@cache
def registered(kind: str) -> dict[str, EntryPoint]:
    """Every backend of ``kind`` the installed packages declare, by name (not loaded: a
    broken plugin fails only when chosen)."""
    try:
        group = GROUPS[kind]
    except KeyError:
        raise PluginError(f"no kind of part named {kind!r}; kinds: {', '.join(GROUPS)}") from None
    return {entry_point.name: entry_point for entry_point in entry_points(group=group)}


def backend(kind: str, name: str) -> Any:
    """The registered ``kind`` called ``name``, or the object a dotted path names."""
    known = registered(kind)
    if name in known:
        entry_point = known[name]
        try:
            return entry_point.load()
        except Exception as error:
            raise PluginError(
                f"the {kind} {name!r} ({entry_point.value}, entry point group "
                f"{GROUPS[kind]}) cannot be loaded: {error}. Reinstall or remove its package."
            ) from error
    if "." in name or ":" in name:
        module, _, attribute = name.partition(":") if ":" in name else name.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attribute)
        except (ImportError, AttributeError) as error:
            raise PluginError(f"the {kind} {name!r} cannot be imported: {error}") from error
    choices = ", ".join(sorted(known)) or "none installed"
    raise PluginError(
        f"no {kind} named {name!r}. Registered: {choices}; or give a dotted path to a "
        "factory (package.module:make_thing)."
    )


def create(kind: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """The ``kind`` backend called ``name``, made by its factory from ``args``."""
    return backend(kind, name)(*args, **kwargs)


def refresh() -> None:
    """Forget the loaded entry points (after installing a plugin in a running process)."""
    registered.cache_clear()

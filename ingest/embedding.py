"""Sentence embedders behind ``make_embedder``: sentence-transformers on PyTorch, or the
same model exported once to ONNX and run by ONNX Runtime (fp32 or per-channel int8).
The ONNX backends need neither torch nor transformers after the export, which keeps a
single query cheap.

The int8 model quantizes weights *and* activations as unsigned 8-bit (U8U8). ONNX Runtime's
usual U8S8 scheme multiplies with VPMADDUBSW on CPUs without VNNI (AVX2-only, AVX-512
without VNNI), whose 16-bit pair sums saturate, so a vector depended on the CPU: on an
AVX2-only EPYC the issue's Arabic 18,087 passage fell from rank 3 to 13. The U8U8 kernels
widen to 16 bits before multiplying and never saturate, so their integer results are exact
on every CPU (x86 with or without VNNI, ARM), and only float rounding of the non-integer
layers differs between machines."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest import offline, plugins
from ingest.e5_convert import E5_MODEL_NAME, build_directory_once, ensure_e5_model
from ingest.errors import EmbeddingModelError
from ingest.interfaces import Embedder
from ingest.settings import EmbeddingSettings, IngestSettings

ONNX_FP32_FILE = "model.onnx"
ONNX_INT8_FILE = "model-int8-u8u8.onnx"
# Part of the int8 embedder's name, and so of every stored document's content hash: vectors
# of the earlier, CPU-dependent U8S8 model are re-embedded on the next ingest.
INT8_SCHEME = "u8u8"
ONNX_META_FILE = "embedder.json"
# Measured on the bundled corpus (2 cores): ONNX runs one text per call fastest (43 vs 35
# chunks/s at 16, as padding costs more than batching saves), and dynamic int8 then derives
# its activation scales from that text alone; sentence-transformers' own default for torch;
# for a remote server (ingest.openai_embedding), text-embeddings-inference's default limit
# of texts per request.
DEFAULT_BATCH_SIZES = {"onnx-int8": 1, "onnx": 1, "torch": 32, "openai": 32}

logger = logging.getLogger(__name__)


def make_embedder(settings: IngestSettings) -> Embedder:
    """The embedder ``embedding.backend`` names (``ingest.plugins``)."""
    return plugins.create("embedder", settings.embedding.backend, settings)


def make_onnx_int8(settings: IngestSettings) -> OnnxEmbedder:
    """The ``onnx-int8`` embedder: the model quantized U8U8, run by ONNX Runtime."""
    export_dir = ensure_onnx_export(model_source(settings), settings.models_dir)
    name = f"{embedder_name(settings)}-{INT8_SCHEME}"
    return OnnxEmbedder(export_dir, ensure_int8_model(export_dir), name, settings.embedding)


def make_onnx(settings: IngestSettings) -> OnnxEmbedder:
    """The ``onnx`` embedder: the model in fp32, run by ONNX Runtime."""
    export_dir = ensure_onnx_export(model_source(settings), settings.models_dir)
    model_file = export_dir / ONNX_FP32_FILE
    return OnnxEmbedder(export_dir, model_file, embedder_name(settings), settings.embedding)


def make_torch(settings: IngestSettings) -> TorchEmbedder:
    """The ``torch`` embedder: sentence-transformers on PyTorch fp32."""
    config = settings.embedding
    model = load_sentence_transformer(model_source(settings), config.threads)
    return TorchEmbedder(model, embedder_name(settings), config)


def embedder_name(settings: IngestSettings) -> str:
    """Part of every stored document's content hash: another model or backend re-embeds."""
    return f"{settings.embedding.model}@{settings.embedding.backend}"


def model_source(settings: IngestSettings) -> str:
    """What sentence-transformers loads: the converted e5 directory, or the configured
    name (a local directory or a hub name)."""
    if settings.embedding.model == E5_MODEL_NAME:
        return str(ensure_e5_model(settings.models_dir))
    return settings.embedding.model


def load_sentence_transformer(source: str, threads: int | None = None, **model_kwargs):
    import torch
    from sentence_transformers import SentenceTransformer

    if threads:
        torch.set_num_threads(threads)
    offline.apply()
    try:
        # Told outright, as the hub library read its offline variable when it was imported,
        # perhaps before apply(): else an unknown name retries the network for a minute.
        return SentenceTransformer(
            source, device="cpu", local_files_only=offline.hub_offline(), model_kwargs=model_kwargs
        )
    except OSError as error:
        raise EmbeddingModelError(
            f"embedding.model: cannot load {source!r} ({error}). Set it to "
            f"'{E5_MODEL_NAME}' (bundled) or to a local sentence-transformers directory; "
            "a hub name only works if the model is already in the Hugging Face cache."
        ) from error


def batch_size(config: EmbeddingSettings) -> int:
    """Texts per inference call: the setting, else the backend's best (one text)."""
    return config.batch_size or DEFAULT_BATCH_SIZES.get(config.backend, 1)


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class TorchEmbedder:
    def __init__(self, model, name: str, config: EmbeddingSettings):
        self.model, self.name, self.config = model, name, config
        self.dimension = model.get_embedding_dimension()

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        vectors = self.model.encode(  # sorts by length itself
            [prefix + text for text in texts],
            batch_size=batch_size(self.config),
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.config.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.config.query_prefix)


class OnnxEmbedder:
    def __init__(self, export_dir: Path, model_file: Path, name: str, config: EmbeddingSettings):
        offline.apply()  # ONNX Runtime reads its telemetry opt-out when it initialises
        import onnxruntime
        from tokenizers import Tokenizer

        meta = json.loads((export_dir / ONNX_META_FILE).read_text(encoding="utf-8"))
        self.name, self.config, self.dimension = name, config, meta["dimension"]
        self.pad_id = meta["pad_token_id"]
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.no_padding()  # padded per batch, after sorting by length
        self.tokenizer.enable_truncation(meta["max_seq_length"])
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = config.threads or 0  # 0 = ONNX Runtime's default
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(model_file), options, providers=["CPUExecutionProvider"]
        )

    def _embed(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        encodings = self.tokenizer.encode_batch([prefix + text for text in texts])
        vectors = np.zeros((len(texts), self.dimension), np.float32)
        # Batches of similar length waste little compute on padding.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        size = batch_size(self.config)
        for start in range(0, len(order), size):
            rows = order[start : start + size]
            width = max(len(encodings[i].ids) for i in rows)
            input_ids = np.full((len(rows), width), self.pad_id, np.int64)
            attention_mask = np.zeros((len(rows), width), np.int64)
            for row, i in enumerate(rows):
                ids = encodings[i].ids
                input_ids[row, : len(ids)] = ids
                attention_mask[row, : len(ids)] = 1
            (vectors[rows],) = self.session.run(
                None, {"input_ids": input_ids, "attention_mask": attention_mask}
            )
        return l2_normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.config.passage_prefix)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts, self.config.query_prefix)


def export_dir_for(source: str, models_dir: Path) -> Path:
    """Where a model's ONNX export is cached. The name carries a hash of the model's
    identity (a local directory's path and file times), so a changed model is re-exported."""
    path = Path(source)
    identity = source
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
        identity = str(path.resolve()) + "".join(f"{p.name}:{p.stat().st_mtime_ns}" for p in files)
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", path.name if path.is_dir() else source)[-60:]
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return Path(models_dir) / "onnx" / f"{readable}-{digest}"


def ensure_onnx_export(source: str, models_dir: Path) -> Path:
    """The fp32 ONNX export of a sentence-transformers model (graph fused by ONNX
    Runtime's transformer optimizer), its tokenizer and metadata, exported on first use."""
    target = export_dir_for(source, models_dir)
    if not target.is_dir():
        logger.info("Exporting %s to ONNX into %s (once; about a minute)", source, target)
    return build_directory_once(target, lambda out_dir: export_onnx(source, out_dir))


def export_onnx(source: str, out_dir: Path) -> None:
    import torch
    from onnxruntime.transformers.optimizer import optimize_model

    # Eager attention traces into the MatMul/Softmax pattern the optimizer fuses.
    model = load_sentence_transformer(source, attn_implementation="eager").eval()

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            features = {"input_ids": input_ids, "attention_mask": attention_mask}
            return self.model(features)["sentence_embedding"]

    sample = model.tokenizer(
        ["passage: a", "passage: two words"], padding=True, return_tensors="pt"
    )
    raw_file = out_dir / "unfused.onnx"
    dynamic = {0: "batch", 1: "tokens"}
    with torch.inference_mode():
        torch.onnx.export(
            SentenceEmbedding(),
            (sample["input_ids"], sample["attention_mask"]),
            str(raw_file),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": dynamic,
                "attention_mask": dynamic,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,  # the dynamo exporter needs onnxscript
        )
    config = model[0].auto_model.config
    optimize_model(
        str(raw_file),
        model_type="bert",
        num_heads=config.num_attention_heads,
        hidden_size=config.hidden_size,
    ).save_model_to_file(str(out_dir / ONNX_FP32_FILE))
    raw_file.unlink()
    model.tokenizer.backend_tokenizer.save(str(out_dir / "tokenizer.json"))
    meta = {
        "source": source,
        "dimension": model.get_embedding_dimension(),
        "max_seq_length": model.max_seq_length,
        "pad_token_id": model.tokenizer.pad_token_id or 0,
    }
    (out_dir / ONNX_META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")


def ensure_int8_model(export_dir: Path) -> Path:
    """Dynamic U8U8 quantization of the fused fp32 export, per output channel: cosine to
    fp32 ≥ 0.993 on every bundled chunk, and the same on every CPU (see the module
    docstring; reduce_range, the other remedy, kept U8S8 exact but cost too much precision:
    the 18,087 passage fell to rank 14). Written to a temporary file, then renamed."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target = export_dir / ONNX_INT8_FILE
    if target.is_file():
        return target
    logger.info("Quantizing %s to int8 (once)", export_dir)
    handle, partial = tempfile.mkstemp(prefix=f".{ONNX_INT8_FILE}.", dir=export_dir)
    os.close(handle)
    try:
        quantize_dynamic(
            export_dir / ONNX_FP32_FILE,
            partial,
            per_channel=True,
            weight_type=QuantType.QUInt8,  # with uint8 activations: U8U8, exact on every CPU
            # The fused graph's contrib ops lack type information the quantizer needs.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.chmod(partial, 0o644)  # mkstemp's 0600 would hide a shared cache from other users
        os.replace(partial, target)
    finally:
        Path(partial).unlink(missing_ok=True)
    return target

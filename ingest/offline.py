"""Keeping the libraries the product uses off the network.

The product runs offline: no library may try to reach a model hub or send telemetry.
Each opts out through an environment variable that it reads when it starts, so these are
set by the entry points (the CLI, the server) before anything else is imported, and by the
ONNX embedder before ONNX Runtime loads, for code that uses the Python API directly.
Importing a module of this product changes no environment; calling ``apply`` does.
``setdefault`` leaves a variable the user set alone, so a user who has a hub can opt in.
"""

from __future__ import annotations

import os

OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",  # chromadb's posthog telemetry
    # ONNX Runtime 1.29+ sends telemetry on Linux; only this variable, set before it
    # initialises, stops it (onnxruntime.disable_telemetry_events() does not).
    "ORT_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def apply() -> None:
    """Set every opt-out not already set."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


def hub_offline() -> bool:
    """Whether models may come only from local files: ``HF_HUB_OFFLINE`` as ``apply`` sets
    it, unless the user turned it off to let a model hub be reached."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}

"""The product over HTTP, in one FastAPI application (``create_app``).

- ``app``: the factory, which only assembles the parts below.
- ``routers/``: ``ask`` (/api/ask, /api/health), ``openai`` (/v1), ``documents``
  (/api/documents), ``pages`` (article pages, embed demo, API docs, gradio.js) and
  ``fallback`` (JSON errors for unknown API paths).
- ``chat/``: the Gradio chat mounted at the root, a module per part (its state, view,
  sources panel, example questions, answering events, ratings, translations, layout).
- ``middleware``, ``errors``, ``schemas``, ``dependencies``, ``sse``, ``urls``.
- ``templates``: every page and fragment comes from an autoescaped Jinja2 template in
  ``prompts/html/``.
"""

from assistant.server.app import create_app

__all__ = ["create_app"]

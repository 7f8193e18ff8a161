"""Answering a question, as a pipeline of small typed stages (``pipeline``)."""

from assistant.answering.pipeline import Answerer

__all__ = ["Answerer"]

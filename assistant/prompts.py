"""The prompt templates (prompts/*.txt, str.format placeholders), which users edit without
touching code. A file in ``settings.answer.prompts_dir`` replaces the bundled file of the
same name; the others stay bundled.

Fixed text comes first and the question's material last: llama.cpp reuses its cache for
the longest unchanged prefix of a prompt, so the system prompt and the instructions are
processed once and each question pays only for its passages and its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from assistant.citations import PromptPassage, without_markers
from assistant.languages import DEFAULT_LANGUAGE, language_name, normalize_language
from ingest.settings import BUNDLED_PROMPTS

# What the model is told to write when the passages hold no answer.
NO_ANSWER_TOKEN = "NO_ANSWER"
# Follow-up condensing reads only the end of the conversation, each turn cut short:
# every prompt token costs time to first token.
HISTORY_TURNS = 4
HISTORY_TURN_CHARS = 300


class PromptError(Exception):
    """A template is missing or does not fit its placeholders."""


class Prompts:
    def __init__(self, prompts_dir: Path | None = None):
        self.directories = [d for d in (prompts_dir, BUNDLED_PROMPTS) if d is not None]
        self.system = self._read("system.txt").strip()
        self.answer = self._read("answer.txt").strip()
        self.condense = self._read("condense.txt").strip()

    def _find(self, name: str) -> Path | None:
        return next((d / name for d in self.directories if (d / name).is_file()), None)

    def _read(self, name: str) -> str:
        path = self._find(name)
        if path is None:
            raise PromptError(
                f"No prompt template {name} in {', '.join(map(str, self.directories))}"
            )
        return path.read_text(encoding="utf-8")

    def _fill(self, template: str, name: str, **values: str) -> str:
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError) as error:
            raise PromptError(
                f"Prompt template {name} does not fit its placeholders "
                f"({', '.join('{' + v + '}' for v in values)}): {error!r}. "
                "Write literal braces as {{ and }}."
            ) from error

    def no_answer(self, language: str) -> str:
        """The no-answer message in ``language``, or in English when there is none."""
        path = self._find(f"no_answer/{normalize_language(language)}.txt")
        path = path or self._find(f"no_answer/{DEFAULT_LANGUAGE}.txt")
        if path is None:
            raise PromptError("No no_answer/en.txt prompt template")
        return path.read_text(encoding="utf-8").strip()

    def answer_start(self, language: str) -> str:
        """How an answer in ``language`` begins ("According to the passages,"), or "" when
        no template exists for it. The model continues it: a small model then stays in the
        language and writes a sentence rather than a bare "13 [1]"."""
        path = self._find(f"answer_start/{normalize_language(language)}.txt")
        return path.read_text(encoding="utf-8").strip() if path else ""

    def answer_messages(
        self, question: str, passages: Sequence[PromptPassage], language: str, start: str = ""
    ) -> list[dict]:
        """The answer prompt; ``start``, when given, is the beginning of the model's own
        reply, for an endpoint that continues it."""
        user = self._fill(
            self.answer,
            "answer.txt",
            passages=format_passages(passages),
            question=question.strip(),
            language=language_name(language),
            no_answer=NO_ANSWER_TOKEN,
        )
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        if start:
            messages.append({"role": "assistant", "content": start})
        return messages

    def condense_messages(self, question: str, history: Sequence[dict]) -> list[dict]:
        user = self._fill(
            self.condense,
            "condense.txt",
            history=format_history(history),
            question=question.strip(),
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def format_passages(passages: Sequence[PromptPassage]) -> str:
    """Each passage as "[n] sentence sentence". No titles: they cost tokens, and the
    sentences chosen are the ones that answer."""
    return "\n\n".join(
        f"[{p.number}] " + " ".join(span.text.strip() for span in p.sentences) for p in passages
    )


def format_history(history: Sequence[dict]) -> str:
    lines = []
    for turn in history[-HISTORY_TURNS:]:
        speaker = "User" if turn.get("role") == "user" else "Assistant"
        content = " ".join(without_markers(str(turn.get("content", ""))).split())
        if len(content) > HISTORY_TURN_CHARS:
            content = content[:HISTORY_TURN_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"{speaker}: {content}")
    return "\n".join(lines)

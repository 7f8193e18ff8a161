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

from assistant.answering.citations import without_markers
from assistant.answering.evidence import Evidence
from assistant.languages import DEFAULT_LANGUAGE, language_name, normalize_language
from assistant.settings import bundled_prompts
from ingest.tokens import fold

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
        self.directories = [d for d in (prompts_dir, bundled_prompts()) if d is not None]
        self.system = self._read("system.txt").strip()
        self.answer = self._read("answer.txt").strip()
        self.condense = self._read("condense.txt").strip()
        self.translate_terms = self._read("translate_terms.txt").strip()
        self.translate_sentence = self._read("translate_sentence.txt").strip()
        self.choose = self._read("choose.txt").strip()

    def _find(self, name: str) -> Path | None:
        return next((d / name for d in self.directories if (d / name).is_file()), None)

    def folder(self, name: str) -> Path:
        """The folder ``name`` of lists (question words, number words): the one in
        ``prompts_dir`` when it has it, else the bundled one."""
        return next((d / name for d in self.directories if (d / name).is_dir()), Path(name))

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

    def _localized(self, folder: str, language: str) -> str:
        """``folder/<language>.txt``, or the English one when there is none."""
        path = self._find(f"{folder}/{normalize_language(language)}.txt")
        path = path or self._find(f"{folder}/{DEFAULT_LANGUAGE}.txt")
        if path is None:
            raise PromptError(f"No {folder}/{DEFAULT_LANGUAGE}.txt prompt template")
        return path.read_text(encoding="utf-8").strip()

    def no_answer(self, language: str) -> str:
        """The no-answer message in ``language``, or in English when there is none."""
        return self._localized("no_answer", language)

    def not_verified(self, language: str) -> str:
        """What a "not verified" reply says before quoting the closest evidence."""
        return self._localized("not_verified", language)

    def refusal_cues(self, language: str) -> list[str]:
        """Folded phrases with which a model says the passages hold no answer: the asker's
        language's and English ones (small models fall back to English)."""
        cues = []
        for code in dict.fromkeys((normalize_language(language), DEFAULT_LANGUAGE)):
            path = self._find(f"refusal_cues/{code}.txt")
            lines = path.read_text(encoding="utf-8").splitlines() if path else []
            cues += [fold(line.strip()) for line in lines if line.strip() and line[0] != "#"]
        return cues

    def is_refusal(self, answer: str, language: str) -> bool:
        """Whether the model phrased a refusal itself ("Den Texten zufolge gibt es keine
        Informationen über ..."), in the asker's language or English."""
        folded = fold(without_markers(answer))
        return any(cue in folded for cue in self.refusal_cues(language))

    def answer_start(self, language: str) -> str:
        """How an answer in ``language`` begins ("According to the passages,"), or "" when
        no template exists for it. The model continues it: a small model then stays in the
        language and writes a sentence rather than a bare "13 [1]"."""
        path = self._find(f"answer_start/{normalize_language(language)}.txt")
        return path.read_text(encoding="utf-8").strip() if path else ""

    def answer_messages(
        self,
        question: str,
        evidence: Evidence,
        language: str,
        start: str = "",
        earlier: str = "",
    ) -> list[dict]:
        """The answer prompt; ``start``, when given, is the beginning of the model's own
        reply, for an endpoint that continues it; ``earlier``, the question a follow-up
        follows."""
        user = self._fill(
            self.answer,
            "answer.txt",
            passages=format_passages(evidence),
            earlier=f"(It follows the question: {earlier.strip()})\n" if earlier else "",
            question=question.strip(),
            language=language_name(language),
            no_answer=NO_ANSWER_TOKEN,
        )
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": user}]
        if start:
            messages.append({"role": "assistant", "content": start})
        return messages

    def translation_messages(
        self, terms: Sequence[str], source_language: str, language: str
    ) -> list[dict]:
        """A prompt asking for ``terms`` in ``language``, one per line."""
        user = self._fill(
            self.translate_terms,
            "translate_terms.txt",
            terms="\n".join(terms),
            source_language=language_name(source_language),
            language=language_name(language),
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]

    def sentence_translation_messages(
        self, sentence: str, source_language: str, language: str
    ) -> list[dict]:
        """A prompt asking for a cited ``sentence`` in ``language``, shown to the asker as
        a machine translation (``assistant.translation``)."""
        user = self._fill(
            self.translate_sentence,
            "translate_sentence.txt",
            sentence=" ".join(sentence.split()),
            source_language=language_name(source_language),
            language=language_name(language),
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]

    def choose_messages(
        self, question: str, first: tuple[str, str], second: tuple[str, str]
    ) -> list[dict]:
        """A prompt asking which of two answers, each (answer, its sentence), answers
        ``question``: "A" or "B"."""
        user = self._fill(
            self.choose,
            "choose.txt",
            question=question.strip(),
            first=first[0],
            first_sentence=first[1],
            second=second[0],
            second_sentence=second[1],
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]

    def condense_messages(self, question: str, history: Sequence[dict]) -> list[dict]:
        user = self._fill(
            self.condense,
            "condense.txt",
            history=format_history(history),
            question=question.strip(),
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]


def format_passages(evidence: Evidence) -> str:
    """Each document's header line, then its passages as "[n] sentence sentence"; a
    sentence keeps the article it belongs to, so one province's figure is not read as
    another's."""
    lines, current = [], None
    for passage in evidence.passages:
        doc = passage.passage.doc_id
        if doc != current:
            if lines:
                lines.append("")
            lines.append(f"Article: {evidence.headers.get(doc, '')}".rstrip())
            current = doc
        lines.append(f"[{passage.number}] " + " ".join(s.text.strip() for s in passage.sentences))
    return "\n".join(lines)


def format_history(history: Sequence[dict]) -> str:
    lines = []
    for turn in history[-HISTORY_TURNS:]:
        speaker = "User" if turn.get("role") == "user" else "Assistant"
        content = " ".join(without_markers(str(turn.get("content", ""))).split())
        if len(content) > HISTORY_TURN_CHARS:
            content = content[:HISTORY_TURN_CHARS].rsplit(" ", 1)[0] + " …"
        lines.append(f"{speaker}: {content}")
    return "\n".join(lines)

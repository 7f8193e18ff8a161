"""An optional LLM judge: any OpenAI-compatible endpoint grades an answer against the gold
answer and names the cited passages that support it. Off unless --judge-url is given."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from openai import OpenAI, OpenAIError

from assistant.settings import bundled_prompts
from evals.gold import GoldItem

JSON_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


@dataclass(frozen=True)
class JudgeVerdict:
    correct: bool
    supporting: frozenset[int]  # citation markers whose passage supports the answer


class Judge:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "not-needed",
        template: Path = bundled_prompts() / "judge.txt",
    ):
        self.client = OpenAI(base_url=base_url, api_key=api_key)
        self.model = model
        self.template = template.read_text(encoding="utf-8")

    def judge(self, item: GoldItem, answer: str, cited: dict[int, str]) -> JudgeVerdict | None:
        """``cited``: passage text by citation marker. None when the judge fails or its
        reply is unreadable: a missing verdict must not count as a wrong answer."""
        prompt = self.template.format(
            question=item.question,
            reference=item.answer or "(none)",
            answerability="" if item.answerable else "The corpus does not answer this question.",
            passages="\n".join(f"[{marker}] {text}" for marker, text in sorted(cited.items()))
            or "(none)",
            answer=answer,
        )
        try:
            reply = self.client.chat.completions.create(
                model=self.model,
                messages=[{"role": "user", "content": prompt}],
                temperature=0,
            )
        except OpenAIError:
            return None
        return parse_verdict(reply.choices[0].message.content or "")


def parse_verdict(reply: str) -> JudgeVerdict | None:
    found = JSON_OBJECT.search(reply)
    try:
        verdict = json.loads(found[0]) if found else None
    except json.JSONDecodeError:
        return None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("correct"), bool):
        return None
    supporting = verdict.get("supporting", [])
    if not isinstance(supporting, list) or not all(isinstance(n, int) for n in supporting):
        return None
    return JudgeVerdict(verdict["correct"], frozenset(supporting))

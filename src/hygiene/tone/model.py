"""The shapes a tone check returns: shared by the scorer, the appeal checks and the CLI.

Kept free of heavy imports: ``hygiene tone`` must start in well under 150 ms.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from hygiene.language import Language as Language  # re-exported: the tone API names it

#: A sentence: up to and with its closing marks (a line break ends one too). One definition
#: for the scorer and the appeal checks.
SENTENCE: dict[str, re.Pattern[str]] = {
    "ja": re.compile(r"[^。！？!?\n]+[。！？!?]*"),
    "en": re.compile(r"[^.!?\n]+[.!?]*"),
}

Verdict = Literal["ok", "review", "block"]
Kind = Literal["reply", "appeal"]

#: finding kinds that harm a message (they carry a suggested rewording)
HARM_KINDS = (
    "insult",
    "threat",
    "demand",
    "complaint",
    "accusing_question",
    "emotional_typography",
    "plain_form",
)
#: finding kinds that count in the message's favour (reported, never harmful)
POLITE_KINDS = ("greeting", "self_identification", "gratitude", "apology", "cushion", "closing", "polite_form")
#: finding kinds produced by the appeal (plan of action) structure checks
APPEAL_KINDS = (
    "appeal_missing_summary",
    "appeal_missing_points",
    "appeal_missing_root_cause",
    "appeal_missing_actions_taken",
    "appeal_missing_prevention",
    "appeal_missing_evidence",
    "appeal_apology_only",
    "appeal_questions_decision",
    "appeal_asks_why",
    "appeal_money_complaint",
    "appeal_length",
    "appeal_demand",
    "appeal_long_sentence",
)


@dataclass(frozen=True)
class Finding:
    """One passage worth the writer's attention. ``start``/``end`` are character offsets into
    the checked text (``text[start:end] == self.text``); ``line``/``column`` are 1-based."""

    kind: str
    start: int
    end: int
    text: str
    message: str
    suggestion: str | None = None
    line: int = 1
    column: int = 1
    #: how much this finding weighs in the score (0 for purely informative ones)
    weight: float = 0.0
    #: what produced it: a lexicon line ("en.tsv:12"), a rule ("rule:plain_form") or the
    #: learned layer ("learned:en")
    entry: str | None = None
    #: the points it adds to the score when not a harm's ``-weight`` (a courtesy's entry
    #: weight, the learned wording's points)
    credit: float | None = None

    @property
    def harmful(self) -> bool:
        return self.kind in HARM_KINDS or self.kind in APPEAL_KINDS

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "message": self.message,
            "suggestion": self.suggestion,
            "weight": self.signed_weight,
            "entry": self.entry,
        }

    @property
    def signed_weight(self) -> float:
        """How the finding moves the score: negative for a harm, positive for a courtesy
        (each entry's own weight, before repeats of a kind count less), 0 for advice."""
        value = self.credit if self.credit is not None else -self.weight
        return float(value) + 0.0  # no -0.0


@dataclass
class ToneResult:
    #: 0-100, 100 courteous and businesslike
    score: int
    verdict: Verdict
    language: Language
    kind: Kind
    #: 0..1 strength of politeness markers
    politeness: float
    #: 0..1 strength of harms
    aggression: float
    findings: list[Finding] = field(default_factory=list)
    #: characters after the checked part (0: the whole text was checked; see engine.MAX_CHARS)
    unchecked_chars: int = 0

    @property
    def exit_code(self) -> int:
        return {"ok": 0, "review": 3, "block": 4}[self.verdict]

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "verdict": self.verdict,
            "language": self.language,
            "kind": self.kind,
            "politeness": round(self.politeness, 3),
            "aggression": round(self.aggression, 3),
            "findings": [f.as_json() for f in self.findings],
            "unchecked_chars": self.unchecked_chars,
        }


#: the last text's line-start offsets: a draft's findings all ask about the same text, so it
#: is indexed once (``count``/``rfind`` per finding was quadratic in a draft full of them)
_indexed: tuple[str, list[int]] = ("", [0])
_NEWLINE = re.compile("\n")


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    global _indexed
    indexed, starts = _indexed  # one read: safe if another thread swaps the index meanwhile
    if indexed is not text:
        starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]
        _indexed = (text, starts)
    line = bisect.bisect_right(starts, offset)  # lines starting at or before the offset
    return line, offset - starts[line - 1] + 1

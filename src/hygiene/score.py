"""The hygiene score, 0-100: how your record would look to someone counting it, weighted
toward recent weeks. Pure functions of counts (computed in SQL by
:mod:`hygiene.store.figures`); documented in the README ("Your record: report and score").

Over the last ``WEEKS`` weeks (week 0: the last 7 days), every message needing a reply whose
fate is known gets a value by the deadlines of its category (and the deadline it states):

=======================================  =====
answered by its due time                  1.0
answered after due, by critical           0.5
answered after its critical time          0.25
unanswered, past due                      0.1
unanswered, past critical                 0.0
=======================================  =====

(unanswered and not due yet: not counted). Each sent reply (auto-replies left out) gets its
tone score / 100, at most 0.5 with a ``review`` verdict and 0 with ``block``. A message or
reply of week k weighs ``DECAY ** k``.

    response = Σ weight·value / Σ weight          (messages)
    tone     = Σ weight·value / Σ weight          (sent replies)
    score    = round(100 · (0.8 · response + 0.2 · tone))

With no scored reply the score is round(100 · response); with no counted message, round(100 ·
tone); with neither, None (nothing to judge yet).

Why these hold (and the property tests check): answering a waiting message only raises its
value (0.1 → 0.5 or 0.25, 0.0 → 0.25), so it never lowers the score; a new message past
critical adds the lowest value (0), so it never raises it; every value lies in 0..1, so the
score lies in 0..100.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hygiene.outcomes import (
    AFTER_CRITICAL,
    AFTER_DUE,
    WAITING_CRITICAL,
    WAITING_LATE,
    WITHIN,
)

WEEKS = 12
DECAY = 0.8
RESPONSE_WEIGHT = 0.8
TONE_WEIGHT = 0.2
#: a reply's tone value is its score / 100, capped by its verdict
REVIEW_CAP = 50.0
BLOCK_CAP = 0.0
VALUES: dict[str, float] = {
    WITHIN: 1.0,
    AFTER_DUE: 0.5,
    AFTER_CRITICAL: 0.25,
    WAITING_LATE: 0.1,
    WAITING_CRITICAL: 0.0,
}


def week_weight(week: int) -> float:
    return float(DECAY**week)


@dataclass
class ScoreInput:
    """What the score is computed from, for one account or all of them."""

    #: (week, deadline class) → messages
    messages: dict[tuple[int, str], int] = field(default_factory=dict)
    #: week → (scored replies, sum of their tone values on the 0-100 scale)
    tone: dict[int, tuple[int, float]] = field(default_factory=dict)

    def add_messages(self, week: int, klass: str, count: int) -> None:
        if 0 <= week < WEEKS and klass in VALUES:
            self.messages[(week, klass)] = self.messages.get((week, klass), 0) + count

    def add_tone(self, week: int, scored: int, value_sum: float) -> None:
        if 0 <= week < WEEKS and scored:
            n, total = self.tone.get(week, (0, 0.0))
            self.tone[week] = (n + scored, total + value_sum)

    def moved(self, week: int, old: str | None, new: str) -> ScoreInput:
        """A copy with one message of ``week`` moved from class ``old`` (None: not counted
        yet) to ``new``: what answering it would do."""
        out = ScoreInput(dict(self.messages), dict(self.tone))
        if old is not None and out.messages.get((week, old), 0) > 0:
            out.messages[(week, old)] -= 1
        out.add_messages(week, new, 1)
        return out


@dataclass(frozen=True)
class ScoreParts:
    """The score and what moves it."""

    #: 0-100, None when there is nothing to judge yet
    score: int | None
    #: the unrounded score (for "answering #12 lifts it by N")
    exact: float | None
    #: 0-1 weighted share of the response values; None with no counted message
    response: float | None
    #: 0-1 weighted tone value of the sent replies; None with none scored
    tone: float | None
    #: counted messages per deadline class (within, after_due, after_critical, waiting_late,
    #: waiting_critical), all weeks together
    classes: Mapping[str, int]
    #: scored sent replies
    scored_replies: int


def score_of(data: ScoreInput) -> ScoreParts:
    weight = value = 0.0
    classes = dict.fromkeys(VALUES, 0)
    for (week, klass), count in data.messages.items():
        if count <= 0:
            continue
        w = week_weight(week) * count
        weight += w
        value += w * VALUES[klass]
        classes[klass] += count
    response = value / weight if weight else None
    t_weight = t_value = 0.0
    scored = 0
    for week, (n, total) in data.tone.items():
        t_weight += week_weight(week) * n
        t_value += week_weight(week) * total / 100.0
        scored += n
    tone = min(1.0, max(0.0, t_value / t_weight)) if t_weight else None
    if response is not None and tone is not None:
        exact: float | None = 100.0 * (RESPONSE_WEIGHT * response + TONE_WEIGHT * tone)
    elif response is not None:
        exact = 100.0 * response
    elif tone is not None:
        exact = 100.0 * tone
    else:
        exact = None
    score = None if exact is None else max(0, min(100, round(exact)))
    return ScoreParts(score, exact, response, tone, classes, scored)


#: what answering a waiting message now makes of it, by its state in ``check``
ANSWER_NOW: dict[str, tuple[str | None, str]] = {
    "pending": (None, WITHIN),
    "due_soon": (None, WITHIN),
    "late": (WAITING_LATE, AFTER_DUE),
    "critical": (WAITING_CRITICAL, AFTER_CRITICAL),
}


def lift(data: ScoreInput, week: int, state: str) -> float:
    """How much the exact score rises if a waiting message of ``week`` in ``state`` is
    answered now (0 outside the scored weeks)."""
    old, new = ANSWER_NOW[state]
    before = score_of(data).exact
    after = score_of(data.moved(week, old, new)).exact
    if before is None or after is None:
        return 0.0
    return after - before


def merged(inputs: Iterable[ScoreInput]) -> ScoreInput:
    out = ScoreInput()
    for data in inputs:
        for (week, klass), n in data.messages.items():
            out.add_messages(week, klass, n)
        for week, (n, total) in data.tone.items():
            out.add_tone(week, n, total)
    return out


__all__ = [
    "ANSWER_NOW", "DECAY", "ScoreInput", "ScoreParts", "VALUES", "WEEKS",
    "lift", "merged", "score_of", "week_weight",
]

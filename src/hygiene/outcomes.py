"""The vocabulary of the figures: how a message needing a reply is classed on Amazon's 24-hour
clock and against its deadlines, and the plain cells the store aggregates them into. Neutral
ground: the store's queries (hygiene.store.figures), the score (hygiene.score), the figures
(hygiene.figures) and their views share it without importing one another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Amazon's clock: a reply within 24 hours is on time, whatever the configured deadlines say.
AMAZON_SECONDS = 24 * 3600

# Amazon's classes (24 h clock)
ON_TIME = "on_time"
LATE = "late"
NO_RESPONSE = "no_response"
YOUNG = "young"  # unanswered and still inside its first 24 h: not counted

# Deadline classes (each category's configured deadlines and the message's stated one)
WITHIN = "within"
AFTER_DUE = "after_due"
AFTER_CRITICAL = "after_critical"
WAITING = "waiting"  # unanswered, not due yet
WAITING_LATE = "waiting_late"  # unanswered past due
WAITING_CRITICAL = "waiting_critical"  # unanswered past critical


@dataclass(frozen=True)
class Period:
    """The messages received in (start, end]."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class CategoryHours:
    """A category's configured deadlines in seconds after receipt (before a stated one)."""

    due_seconds: int
    critical_seconds: int


@dataclass(frozen=True)
class Cell:
    """Messages needing a reply sharing account, category, bucket and classes."""

    account: str
    category: str
    #: index of the period in ``buckets`` (0: the newest)
    bucket: int
    amazon: str
    deadline: str
    count: int
    #: sum of response seconds of those answered by ``now`` (0 if none)
    seconds: int


@dataclass(frozen=True)
class ToneCell:
    """The seller's sent mail (auto-replies left out) of one account and bucket."""

    account: str
    bucket: int
    sent: int
    scored: int
    score_sum: float
    #: sum of each reply's tone value for the hygiene score (see hygiene.score)
    value_sum: float
    review: int
    block: int

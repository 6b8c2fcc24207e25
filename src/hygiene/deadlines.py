"""Deadlines: when a message needing a reply is due, when it turns critical, and its state.

Each category has two deadlines counted from ``received_at`` (config ``[deadlines.<category>]``,
defaults 24 h due and 48 h critical). A message may state a deadline of its own ("72時間以内",
"within 24 hours", "by November 30, 2026", "2026年11月30日までに"); each of the two deadlines
becomes the stated one where that is earlier. Relative spans are read by the patterns below;
absolute dates by dateparser, imported only when a text holds something date-like (it is slow
to load).

The stated deadline is a fact about the text, so reply matching reads it once per message and
stores it (``messages.stated_deadline_at`` / ``stated_deadline_text``); the due and critical
times are computed from the config when ``check`` runs, so a config change applies at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hygiene.config import Config

PENDING = "pending"
DUE_SOON = "due_soon"
LATE = "late"
CRITICAL = "critical"
#: the states that put a message on the check list, least urgent first
OPEN_STATES = (PENDING, DUE_SOON, LATE, CRITICAL)
REPLIED = "replied"
DISMISSED = "dismissed"
NO_REPLY_NEEDED = "no_reply_needed"

#: how much text is searched for a stated deadline (it is near the top of real notices)
SCAN_CHARS = 20_000

_UNIT_HOURS = {"時間": 1.0, "hour": 1.0, "hr": 1.0, "日": 24.0, "day": 24.0, "週間": 168.0, "week": 168.0}

_JA_SPAN = re.compile(r"(\d{1,4})\s*(時間|営業日|日|週間)\s*(?:以内|以内に|内に)")
_EN_SPAN = re.compile(
    r"\bwithin\s+(?:the\s+next\s+)?(\d{1,4})\s*(business\s+days?|working\s+days?|hours?|hrs?|days?|weeks?)\b",
    re.IGNORECASE,
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_EN_DATE = re.compile(
    r"\b(by|no\s+later\s+than|not\s+later\s+than|before|until|on\s+or\s+before)\s+"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"({_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?"
    r"|\d{4}-\d{1,2}-\d{1,2})\b",
    re.IGNORECASE,
)
_JA_DATE = re.compile(
    r"((?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}/\d{1,2}/\d{1,2})"
    r"\s*(?:\([^)]{1,3}\)\s*)?(?:\d{1,2}\s*[:時]\s*(?:\d{2}\s*分?)?\s*)?(?:まで|迄)"
)


@dataclass(frozen=True)
class StatedDeadline:
    at: datetime
    #: the words it was read from, e.g. "72時間以内" or "by November 30, 2026"
    text: str


@dataclass(frozen=True)
class Deadlines:
    due_at: datetime
    critical_at: datetime
    #: where they came from, e.g. "default 24 h / 48 h (buyer)" or "stated: 12時間以内"
    source: str


def _fold(text: str) -> str:
    # Full-width digits and letters ("７２時間", "ＷＩＴＨＩＮ") read like their ASCII forms.
    return unicodedata.normalize("NFKC", text)


def _without_quotes(text: str) -> str:
    # A deadline quoted from an earlier message ("> 72時間以内に…") is not this message's.
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def _add_business_days(start: datetime, days: int, tz: tzinfo) -> datetime:
    local = start.astimezone(tz)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local.astimezone(UTC)


def _relative(text: str, received_at: datetime, tz: tzinfo) -> list[StatedDeadline]:
    found: list[StatedDeadline] = []
    # Substring guards first: most mail states no deadline, and the patterns are costly.
    for m in _JA_SPAN.finditer(text) if "以内" in text or "内に" in text else ():
        n, unit = int(m.group(1)), m.group(2)
        if n == 0:
            continue
        if unit == "営業日":
            at = _add_business_days(received_at, n, tz)
        else:
            at = received_at + timedelta(hours=n * _UNIT_HOURS[unit])
        found.append(StatedDeadline(at, m.group(0)))
    for m in _EN_SPAN.finditer(text) if "within" in text.lower() else ():
        n, unit = int(m.group(1)), m.group(2).lower()
        if n == 0:
            continue
        if unit.startswith(("business", "working")):
            at = _add_business_days(received_at, n, tz)
        else:
            hours = next(v for k, v in _UNIT_HOURS.items() if unit.startswith(k))
            at = received_at + timedelta(hours=n * hours)
        found.append(StatedDeadline(at, m.group(0)))
    return found


def _parse_date(text: str, received_at: datetime, languages: list[str]) -> date | None:
    import dateparser  # slow to load: only for texts that hold a date-like deadline

    parsed = dateparser.parse(
        text,
        languages=languages,
        settings={
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": received_at.replace(tzinfo=None),
            "REQUIRE_PARTS": ["day", "month"],
        },
    )
    return parsed.date() if parsed is not None else None


def _ja_date(text: str, received: date) -> date | None:
    # Numeric Japanese dates are exact: read them directly (dateparser misses "11月25日").
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    year, month, day = numbers if len(numbers) == 3 else (received.year, *numbers)
    try:
        found = date(year, month, day)
    except ValueError:
        return None
    if len(numbers) == 2 and found < received:
        try:
            found = date(year + 1, month, day)  # "1月10日まで" written in December
        except ValueError:
            return None
    return found


def _absolute(text: str, received_at: datetime, tz: tzinfo) -> list[StatedDeadline]:
    found: list[StatedDeadline] = []
    lowered = text.lower()
    english = any(word in lowered for word in ("by", "before", "until", "later than"))
    for m in _EN_DATE.finditer(text) if english else ():
        day = _parse_date(m.group(2), received_at, ["en"])
        if day is None:
            continue
        # "before <day>" ends when that day starts; "by/until <day>" at its end.
        end = time(0, 0) if m.group(1).lower() == "before" else time(23, 59, 59)
        found.append(StatedDeadline(datetime.combine(day, end, tz).astimezone(UTC), m.group(0)))
    for m in _JA_DATE.finditer(text) if "まで" in text or "迄" in text else ():
        day = _ja_date(m.group(1), received_at.astimezone(tz).date())
        if day is None:
            continue
        found.append(StatedDeadline(datetime.combine(day, time(23, 59, 59), tz).astimezone(UTC), m.group(0)))
    return found


def stated_deadline(text: str, received_at: datetime, tz: tzinfo | None = None) -> StatedDeadline | None:
    """The earliest deadline ``text`` states, relative to ``received_at``; None if none.

    ``tz`` is the zone an absolute date without a time ends in (default: the local zone).
    Deadlines already past when the message arrived are ignored (they quote history).
    """
    if not text:
        return None
    zone = tz or datetime.now().astimezone().tzinfo or UTC
    folded = _fold(_without_quotes(text[:SCAN_CHARS]))
    found = _relative(folded, received_at, zone) + _absolute(folded, received_at, zone)
    found = [d for d in found if d.at > received_at]
    return min(found, key=lambda d: d.at) if found else None


def _hours(value: float) -> str:
    return f"{value:g} h"


def compute_deadlines(
    received_at: datetime,
    category: str,
    config: Config,
    stated_at: datetime | None = None,
    stated_text: str | None = None,
) -> Deadlines:
    """Due and critical times: the category's defaults, each replaced by the stated deadline
    where that is earlier."""
    rule = config.deadline(category)
    due = received_at + timedelta(hours=rule.due_hours)
    critical = received_at + timedelta(hours=rule.critical_hours)
    default = f"default {_hours(rule.due_hours)} / {_hours(rule.critical_hours)} ({category})"
    if stated_at is None:
        return Deadlines(due, critical, default)
    label = stated_text or stated_at.isoformat()
    if stated_at >= critical:
        return Deadlines(due, critical, f"{default}; stated {label} is later")
    if stated_at <= due:
        return Deadlines(stated_at, stated_at, f"stated: {label}")
    return Deadlines(due, stated_at, f"default {_hours(rule.due_hours)} ({category}), critical stated: {label}")


def state_at(now: datetime, deadlines: Deadlines, warn_hours: float) -> str:
    """pending, due_soon, late or critical at ``now``."""
    if now >= deadlines.critical_at:
        return CRITICAL
    if now >= deadlines.due_at:
        return LATE
    if deadlines.due_at - now < timedelta(hours=warn_hours):
        return DUE_SOON
    return PENDING


# --------------------------------------------------------------------------- the check list

_RANK = {PENDING: 0, DUE_SOON: 1, LATE: 2, CRITICAL: 3}
EXIT_CLEAR = 0
EXIT_LATE = 3
EXIT_CRITICAL = 4


@dataclass(frozen=True)
class CheckItem:
    id: int
    account: str
    category: str
    from_name: str | None
    from_addr: str | None
    subject: str | None
    received_at: datetime
    deadlines: Deadlines
    state: str
    #: hours until due (negative: overdue)
    hours_left: float


@dataclass(frozen=True)
class CheckReport:
    now: datetime
    #: most urgent first
    items: tuple[CheckItem, ...]
    #: replied / dismissed totals, for --verbose
    off_list: dict[str, int]

    @property
    def counts(self) -> dict[str, int]:
        counts = {state: 0 for state in reversed(OPEN_STATES)}
        for item in self.items:
            counts[item.state] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """0 clear (only pending or due_soon), 3 something late, 4 something critical."""
        states = {item.state for item in self.items}
        if CRITICAL in states:
            return EXIT_CRITICAL
        if LATE in states:
            return EXIT_LATE
        return EXIT_CLEAR


def check_report(
    conn: Any, config: Config, now: datetime, account: str | None = None, *, with_totals: bool = False
) -> CheckReport:
    """What awaits a reply at ``now``: one indexed query, then deadlines and states computed
    for those rows only. Run :func:`hygiene.threads.match_replies` first. ``with_totals``
    also counts the replied and dismissed messages (for --verbose)."""
    from hygiene.store.replies import awaiting_reply, off_list_counts

    items = []
    for row in awaiting_reply(conn, account):
        deadlines = compute_deadlines(row.received_at, row.category, config, row.stated_deadline_at, row.stated_deadline_text)
        items.append(
            CheckItem(
                id=row.id,
                account=row.account,
                category=row.category,
                from_name=row.from_name,
                from_addr=row.from_addr,
                subject=row.subject,
                received_at=row.received_at,
                deadlines=deadlines,
                state=state_at(now, deadlines, config.warn_hours),
                hours_left=round((deadlines.due_at - now).total_seconds() / 3600, 2),
            )
        )
    items.sort(key=lambda i: (-_RANK[i.state], i.deadlines.due_at, i.id))
    totals = off_list_counts(conn, account) if with_totals else {}
    return CheckReport(now=now, items=tuple(items), off_list=totals)

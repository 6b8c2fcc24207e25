"""The seller's record as figures: Late Response Rate as Amazon counts it, response times,
the share answered within the configured deadlines, what waits now, the tone of sent
replies, and the hygiene score (:mod:`hygiene.score`). ``hygiene report`` prints them and the
dashboard draws them; both are pure functions of the :class:`Figures` returned by
:func:`compute_figures`.

Counting rule (Amazon's, on its 24-hour clock, weekends and holidays included): a window
holds the messages needing a reply received in it (the last 7, 30 or 90 days before
``now``), dismissed and no-reply-needed ones left out, and those still inside their first
24 h and unanswered left out too (they cannot be late yet). Each is ``answered_on_time``
(first reply within 24 h), ``answered_late`` (after 24 h) or ``no_response`` (unanswered
past 24 h). Auto-replies are never a reply (reply matching already skips them). A reply
recorded after ``now`` does not exist yet at ``now``.

Run :func:`hygiene.threads.match_replies` first, as ``check`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hygiene.outcomes import (
    AFTER_CRITICAL,
    AFTER_DUE,
    LATE,
    NO_RESPONSE,
    ON_TIME,
    WAITING_CRITICAL,
    WAITING_LATE,
    WITHIN,
    CategoryHours,
    Cell,
    Period,
    ToneCell,
)
from hygiene.score import WEEKS, ScoreInput, ScoreParts, lift, merged, score_of

if TYPE_CHECKING:
    from hygiene.config import Config
    from hygiene.deadlines import CheckReport

#: the windows reported without --since, in days
WINDOWS = (7, 30, 90)
WEEK = timedelta(days=7)
#: histogram bins of response times, hours; the last bin holds everything beyond
HISTOGRAM_BIN_HOURS = 4
HISTOGRAM_BINS = 18  # 0-72 h in 4 h bins, then "72 h and more"
#: the marks the dashboard draws on the histogram
HISTOGRAM_MARKS = (24, 48)
ALL = "all"
BY_CHOICES = ("category", "account", "week")
#: the order categories are shown in
CATEGORY_ORDER = ("buyer", "account_health", "seller_support", "notification", "other")


@dataclass(frozen=True)
class ResponseFigures:
    """Messages needing a reply received in a period, counted as Amazon counts them."""

    needing_reply: int = 0
    answered_on_time: int = 0
    answered_late: int = 0
    no_response: int = 0
    #: (answered_late + no_response) / needing_reply; None when needing_reply is 0
    late_response_rate: float | None = None
    avg_response_hours: float | None = None
    median_response_hours: float | None = None
    p90_response_hours: float | None = None
    #: answered by their due time (each category's configured deadlines, or the stated one)
    within_deadline: int = 0
    #: answered after it, or unanswered past it
    deadline_missed: int = 0
    #: within_deadline / (within_deadline + deadline_missed); None when both are 0
    within_deadline_share: float | None = None

    @property
    def answered(self) -> int:
        return self.answered_on_time + self.answered_late

    @property
    def within_24h_share(self) -> float | None:
        """answered_on_time / needing_reply: the weekly trend's line."""
        return self.answered_on_time / self.needing_reply if self.needing_reply else None


@dataclass(frozen=True)
class BusinessFigures:
    """The same messages on the seller's business-hours clock (``[schedule]``): working
    hours on working days only, in the configured time zone (:mod:`hygiene.business`)."""

    #: answered by ``now`` (the same as answered_on_time + answered_late)
    answered: int = 0
    avg_response_hours: float | None = None
    median_response_hours: float | None = None
    #: answered within the target (``[schedule] target_hours`` business hours)
    within_target: int = 0
    #: answered after it, or unanswered with more business time than it elapsed by ``now``
    target_missed: int = 0
    #: within_target / (within_target + target_missed); None when both are 0
    within_target_share: float | None = None


@dataclass(frozen=True)
class ToneFigures:
    """The seller's sent mail in a period (auto-replies left out)."""

    sent: int = 0
    #: how many carry a tone score
    scored: int = 0
    avg_score: float | None = None
    review: int = 0
    block: int = 0


@dataclass(frozen=True)
class Row:
    """One period × group: a window (7/30/90 days or since --since), or a week."""

    start: datetime
    end: datetime
    #: the period's length in days
    days: float
    #: "all", or the account of a --by account row
    account: str
    #: "all", or a category
    category: str
    response: ResponseFigures
    #: None on category rows: sent mail has no category
    tone: ToneFigures | None
    #: on the business-hours clock; None without ``[schedule]``
    business: BusinessFigures | None = None


@dataclass(frozen=True)
class Histogram:
    """Response times of the answered messages of the widest window."""

    bin_hours: int
    #: counts[i]: answered in [i·bin_hours, (i+1)·bin_hours) hours; the last bin is open
    counts: tuple[int, ...]
    marks: tuple[int, ...] = HISTOGRAM_MARKS

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class NowCounts:
    """What waits at ``now``: the states of ``hygiene check`` (same definition)."""

    awaiting: int = 0
    pending: int = 0
    due_soon: int = 0
    late: int = 0
    critical: int = 0


@dataclass(frozen=True)
class Lift:
    """Answering this waiting message now lifts the score by ``by`` points (exact, before
    rounding) — the account's score and the overall one."""

    id: int
    account: str
    state: str
    subject: str | None
    by: float
    overall_by: float


@dataclass(frozen=True)
class Score:
    overall: ScoreParts
    accounts: dict[str, ScoreParts]
    #: waiting messages whose answer now moves the score most, biggest lift first
    lifts: tuple[Lift, ...] = ()


@dataclass(frozen=True)
class Figures:
    now: datetime
    #: --since, when given (then ``windows`` holds one period from it)
    since: datetime | None
    #: "category" (default), "account" or "week"
    by: str
    #: window × (all, then each category or account); newest window first
    windows: tuple[Row, ...]
    #: the weekly trend, oldest first: 12 weeks back from now (or back to --since)
    weeks: tuple[Row, ...]
    #: categories of the messages needing a reply in the widest window, in CATEGORY_ORDER
    categories: tuple[str, ...]
    accounts: tuple[str, ...]
    histogram: Histogram
    counts: NowCounts
    score: Score
    #: what check lists now (the dashboard's most urgent messages)
    check: CheckReport | None = field(default=None, repr=False)
    #: ``[schedule] target_hours`` when the business-hours clock is on, else None
    business_target_hours: float | None = None

    def window(self, days: float, category: str = ALL, account: str = ALL) -> Row | None:
        return next(
            (r for r in self.windows if r.days == days and r.category == category and r.account == account), None
        )

    @property
    def empty(self) -> bool:
        """Nothing needing a reply and nothing sent in the widest window, nothing waiting."""
        return not any(r.response.needing_reply or (r.tone and r.tone.sent) for r in self.windows) and not self.counts.awaiting


# --------------------------------------------------------------------------- computing


def category_hours(config: Config) -> tuple[dict[str, CategoryHours], CategoryHours]:
    """Each category's configured deadlines in seconds, read through compute_deadlines (the
    one definition), and the default for a category not configured."""
    from datetime import UTC

    from hygiene.config import CATEGORIES
    from hygiene.deadlines import compute_deadlines

    epoch = datetime(2000, 1, 1, tzinfo=UTC)

    def hours(category: str) -> CategoryHours:
        d = compute_deadlines(epoch, category, config)
        return CategoryHours(int((d.due_at - epoch).total_seconds()), int((d.critical_at - epoch).total_seconds()))

    return {c: hours(c) for c in CATEGORIES}, hours("other")


def _offsets(windows: Sequence[timedelta], weeks: int) -> list[timedelta]:
    marks = {timedelta(0), *windows, *(WEEK * k for k in range(1, max(weeks, WEEKS) + 1))}
    return sorted(marks)


def _buckets(now: datetime, offsets: Sequence[timedelta]) -> list[Period]:
    return [Period(now - offsets[i + 1], now - offsets[i]) for i in range(len(offsets) - 1)]


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _response(cells: Iterable[Cell], percentiles: tuple[float, ...] | None) -> ResponseFigures:
    on_time = late = no_response = within = missed = 0
    seconds = 0
    for c in cells:
        if c.amazon == ON_TIME:
            on_time += c.count
        elif c.amazon == LATE:
            late += c.count
        elif c.amazon == NO_RESPONSE:
            no_response += c.count
        if c.amazon in (ON_TIME, LATE):
            seconds += c.seconds
        if c.deadline == WITHIN:
            within += c.count
        elif c.deadline in (AFTER_DUE, AFTER_CRITICAL, WAITING_LATE, WAITING_CRITICAL):
            missed += c.count
    needing = on_time + late + no_response
    answered = on_time + late
    median = p90 = None
    if percentiles is not None and answered:
        median, p90 = percentiles[0] / 3600, percentiles[1] / 3600
    return ResponseFigures(
        needing_reply=needing,
        answered_on_time=on_time,
        answered_late=late,
        no_response=no_response,
        late_response_rate=_rate(late + no_response, needing),
        avg_response_hours=seconds / answered / 3600 if answered else None,
        median_response_hours=median,
        p90_response_hours=p90,
        within_deadline=within,
        deadline_missed=missed,
        within_deadline_share=_rate(within, within + missed),
    )


def _tone(cells: Iterable[ToneCell]) -> ToneFigures:
    sent = scored = review = block = 0
    total = 0.0
    for c in cells:
        sent += c.sent
        scored += c.scored
        total += c.score_sum
        review += c.review
        block += c.block
    return ToneFigures(sent, scored, total / scored if scored else None, review, block)


@dataclass
class _BusinessCell:
    """Messages of one account, category and bucket on the business-hours clock."""

    seconds: list[float] = field(default_factory=list)
    within: int = 0
    missed: int = 0


def _business_cells(
    times: Iterable[tuple[str, str, datetime, int | None]],
    clock: Any,
    now: datetime,
    offsets: Sequence[timedelta],
    target_seconds: float,
) -> dict[tuple[str, str, int], _BusinessCell]:
    """Each message's business response time (or, unanswered, the business time elapsed by
    ``now``), by (account, category, bucket). A couple of binary searches per message."""
    from bisect import bisect_right

    marks = [o.total_seconds() for o in offsets]
    end = now.timestamp()
    at = clock.at
    at_now = at(end)
    out: dict[tuple[str, str, int], _BusinessCell] = {}
    for account, category, received_at, seconds in times:
        received = received_at.timestamp()
        bucket = bisect_right(marks, end - received) - 1
        if bucket < 0 or bucket >= len(marks) - 1:
            continue
        cell = out.get((account, category, bucket))
        if cell is None:
            cell = out[(account, category, bucket)] = _BusinessCell()
        start = at(received)
        if seconds is not None:
            took = max(0.0, at(received + seconds) - start)
            cell.seconds.append(took)
            if took <= target_seconds:
                cell.within += 1
            else:
                cell.missed += 1
        elif at_now - start > target_seconds:
            cell.missed += 1
    return out


def _business(cells: Iterable[_BusinessCell]) -> BusinessFigures:
    from hygiene.store.figures import _positions

    seconds: list[float] = []
    within = missed = 0
    for c in cells:
        seconds += c.seconds
        within += c.within
        missed += c.missed
    n = len(seconds)
    median = None
    if n:
        seconds.sort()
        low, frac = _positions(n, 0.5)
        median = (seconds[low] + frac * (seconds[min(low + 1, n - 1)] - seconds[low])) / 3600
    return BusinessFigures(
        answered=n,
        avg_response_hours=sum(seconds) / n / 3600 if n else None,
        median_response_hours=median,
        within_target=within,
        target_missed=missed,
        within_target_share=_rate(within, within + missed),
    )


def _days(span: timedelta) -> float:
    days = span.total_seconds() / 86400
    return float(round(days)) if abs(days - round(days)) < 1e-9 else round(days, 3)


def compute_figures(
    conn: Any,
    config: Config,
    now: datetime,
    *,
    since: datetime | None = None,
    by: str = "category",
    account: str | None = None,
    category: str | None = None,
    with_check: bool = True,
) -> Figures:
    """Every figure of the report and the dashboard at ``now``.

    ``since``: one window from then to ``now`` instead of 7/30/90 days, and the weekly trend
    back to it (else 12 weeks). ``by``: the rows beside "all" in each window: each category
    (default) or each account ("week" gives the same windows as "category"; the weekly rows
    are always in ``weeks``). ``account`` / ``category``: only those messages (the score is
    per account and never filtered by category). A handful of GROUP BY statements.

    With ``[schedule]`` every row also carries :class:`BusinessFigures`: one more statement
    reads the messages needing a reply of the widest span (account, category, receipt,
    response seconds) and :class:`hygiene.business.BusinessClock` counts their working time
    in Python, a couple of binary searches each."""
    from hygiene.deadlines import check_report
    from hygiene.store.figures import (
        outcome_cells,
        response_histogram,
        response_percentiles,
        tone_cells,
    )

    if by not in BY_CHOICES:
        raise ValueError(f"by must be one of {BY_CHOICES}")
    windows = [now - since] if since is not None else [timedelta(days=d) for d in WINDOWS]
    widest = max(windows)
    n_weeks = max(1, -(-widest // WEEK)) if since is not None else WEEKS
    offsets = _offsets(windows, n_weeks)
    buckets = _buckets(now, offsets)
    hours, default = category_hours(config)
    from hygiene.score import BLOCK_CAP, REVIEW_CAP

    cells = outcome_cells(conn, now, buckets, hours, default, account=account)
    tones = tone_cells(conn, buckets, account=account, review_cap=REVIEW_CAP, block_cap=BLOCK_CAP)

    def in_span(bucket: int, near: timedelta, far: timedelta) -> bool:
        return offsets[bucket] >= near and offsets[bucket + 1] <= far

    shown = [c for c in cells if not category or c.category == category]
    present = {c.category for c in shown if c.amazon != "young" and in_span(c.bucket, timedelta(0), widest)}
    categories = tuple(sorted(present, key=lambda c: (CATEGORY_ORDER.index(c) if c in CATEGORY_ORDER else 99, c)))
    accounts = tuple(sorted({c.account for c in cells} | {t.account for t in tones}))

    # percentiles: windows (all, and per group), weeks (all)
    periods = {f"w{i}": Period(now - w, now) for i, w in enumerate(windows)}
    group = "account" if by == "account" else "category"
    p_all = response_percentiles(conn, now, periods, None, account=account, category=category)
    p_grp = response_percentiles(conn, now, periods, group, account=account, category=category)
    week_periods = {f"k{k}": Period(now - WEEK * (k + 1), now - WEEK * k) for k in range(n_weeks)}
    p_weeks = response_percentiles(conn, now, week_periods, None, account=account, category=category)

    business: dict[tuple[str, str, int], _BusinessCell] | None = None
    schedule = config.schedule
    if schedule is not None:
        from hygiene.business import BusinessClock
        from hygiene.clock import zone
        from hygiene.store.figures import response_times

        start = now - offsets[-1]
        clock = BusinessClock.covering(schedule, zone(config.timezone), start, now)
        times = response_times(conn, now, Period(start, now), account=account, category=category)
        business = _business_cells(times, clock, now, offsets, schedule.target_hours * 3600)

    def business_of(near: timedelta, far: timedelta, acc: str, cat: str) -> BusinessFigures | None:
        if business is None:
            return None
        return _business(
            c for (a, k, b), c in business.items() if in_span(b, near, far) and acc in (ALL, a) and cat in (ALL, k)
        )

    rows: list[Row] = []
    groups: list[tuple[str, str]] = [(ALL, ALL)]
    groups += [(a, ALL) for a in accounts] if by == "account" else [(ALL, c) for c in categories]
    for i, w in enumerate(windows):
        for acc, cat in groups:
            mine = [
                c for c in shown
                if in_span(c.bucket, timedelta(0), w) and acc in (ALL, c.account) and cat in (ALL, c.category)
            ]
            key = (f"w{i}", ALL if (acc, cat) == (ALL, ALL) else (acc if by == "account" else cat))
            pct = (p_all if (acc, cat) == (ALL, ALL) else p_grp).get(key)
            tone = None
            if cat == ALL and not category:
                tone = _tone(t for t in tones if in_span(t.bucket, timedelta(0), w) and acc in (ALL, t.account))
            biz = business_of(timedelta(0), w, acc, cat)
            rows.append(Row(now - w, now, _days(w), acc, cat, _response(mine, pct), tone, biz))

    weeks: list[Row] = []
    for k in reversed(range(n_weeks)):
        near, far = WEEK * k, WEEK * (k + 1)
        mine = [c for c in shown if in_span(c.bucket, near, far)]
        tone = None if category else _tone(t for t in tones if in_span(t.bucket, near, far))
        biz = business_of(near, far, ALL, ALL)
        weeks.append(Row(now - far, now - near, 7.0, ALL, category or ALL, _response(mine, p_weeks.get((f"k{k}", ALL))), tone, biz))

    bins = response_histogram(conn, now, Period(now - widest, now), HISTOGRAM_BIN_HOURS * 3600, account=account, category=category)
    counts = [0] * (HISTOGRAM_BINS + 1)
    for index, n in bins.items():
        counts[min(max(index, 0), HISTOGRAM_BINS)] += n
    histogram = Histogram(HISTOGRAM_BIN_HOURS, tuple(counts))

    report = check_report(conn, config, now, account) if with_check else None
    # what check lists, received by ``now`` (check's list is of messages unanswered today: at
    # an earlier --now, a message answered since is not in it)
    items = [i for i in report.items if (not category or i.category == category) and i.received_at <= now] if report else []
    now_counts = NowCounts(
        awaiting=len(items),
        pending=sum(i.state == "pending" for i in items),
        due_soon=sum(i.state == "due_soon" for i in items),
        late=sum(i.state == "late" for i in items),
        critical=sum(i.state == "critical" for i in items),
    )
    score = _score(now, cells, tones, offsets, accounts, report)
    return Figures(
        now=now, since=since, by=by, windows=tuple(rows), weeks=tuple(weeks), categories=categories,
        accounts=accounts, histogram=histogram, counts=now_counts, score=score, check=report,
        business_target_hours=schedule.target_hours if schedule is not None else None,
    )


def _week_of(offsets: Sequence[timedelta], bucket: int) -> int:
    """The score week (0: last 7 days) a bucket lies in; WEEKS or more: outside."""
    return int(offsets[bucket] // WEEK)


def score_inputs(
    cells: Iterable[Cell], tones: Iterable[ToneCell], offsets: Sequence[timedelta]
) -> dict[str, ScoreInput]:
    """Per account: the score's counts, from the cells."""
    out: dict[str, ScoreInput] = {}
    for c in cells:
        out.setdefault(c.account, ScoreInput()).add_messages(_week_of(offsets, c.bucket), c.deadline, c.count)
    for t in tones:
        out.setdefault(t.account, ScoreInput()).add_tone(_week_of(offsets, t.bucket), t.scored, t.value_sum)
    return out


def _score(
    now: datetime,
    cells: Sequence[Cell],
    tones: Sequence[ToneCell],
    offsets: Sequence[timedelta],
    accounts: Sequence[str],
    report: CheckReport | None,
) -> Score:
    inputs = score_inputs(cells, tones, offsets)
    everything = merged(inputs.values())
    lifts: list[Lift] = []
    for item in report.items if report else ():
        if item.received_at > now:
            continue
        week = int((now - item.received_at) // WEEK)
        if week >= WEEKS or item.account not in inputs:
            continue
        by = lift(inputs[item.account], week, item.state)
        overall_by = lift(everything, week, item.state)
        if by > 0 or overall_by > 0:
            lifts.append(Lift(item.id, item.account, item.state, item.subject, by, overall_by))
    lifts.sort(key=lambda x: (-x.overall_by, -x.by, x.id))
    return Score(
        overall=score_of(everything),
        accounts={a: score_of(inputs.get(a, ScoreInput())) for a in accounts},
        lifts=tuple(lifts),
    )

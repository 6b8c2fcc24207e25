"""Queries behind ``hygiene report`` and the dashboard: every figure is aggregated here, in
SQL, over the messages of a period (GROUP BY into a few hundred cells at most, percentiles
with window functions); Python only adds cells up. Portable SQL: periods are cut by bound
timestamps (``CASE``), never by date functions that differ between SQLite and PostgreSQL.

The rules themselves (what counts, on time or late) are documented in
:mod:`hygiene.figures`, which calls these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)

from hygiene.outcomes import (
    AFTER_CRITICAL,
    AFTER_DUE,
    AMAZON_SECONDS,
    LATE,
    NO_RESPONSE,
    ON_TIME,
    WAITING,
    WAITING_CRITICAL,
    WAITING_LATE,
    WITHIN,
    YOUNG,
    CategoryHours,
    Cell,
    Period,
    ToneCell,
)
from hygiene.store.tables import messages as _M


def _bucket(column: Any, buckets: Sequence[Period]) -> Any:
    return case(*((and_(column > p.start, column <= p.end), literal(i)) for i, p in enumerate(buckets)), else_=None)


def _span(buckets: Sequence[Period]) -> tuple[datetime, datetime]:
    return min(p.start for p in buckets), max(p.end for p in buckets)


def _filters(query: Any, account: str | None, category: str | None) -> Any:
    if account:
        query = query.where(_M.c.account == account)
    if category:
        query = query.where(_M.c.category == category)
    return query


def _needing_reply(start: datetime, end: datetime) -> Any:
    return and_(
        _M.c.direction == "inbound",
        _M.c.needs_reply == true(),
        _M.c.dismissed_at.is_(None),
        _M.c.received_at > start,
        _M.c.received_at <= end,
    )


def _answered(now: datetime) -> Any:
    """Answered by ``now`` (a reply recorded later does not exist yet at ``now``)."""
    return and_(_M.c.replied_at.is_not(None), _M.c.replied_at <= now)


def _per_category(hours: Mapping[str, CategoryHours], pick: str, default: int) -> Any:
    """The category's deadline in seconds, as a SQL expression."""
    if not hours:
        return literal(default)
    return case(
        *((_M.c.category == name, literal(getattr(h, pick))) for name, h in hours.items()),
        else_=literal(default),
    )


def _cut(now: datetime, hours: Mapping[str, CategoryHours], pick: str, default_seconds: int) -> Any:
    """received_at at or before which a message's default deadline has passed at ``now``."""
    from datetime import timedelta

    conditions = [
        (_M.c.category == name, _M.c.received_at <= now - timedelta(seconds=getattr(h, pick)))
        for name, h in hours.items()
    ]
    return case(*conditions, else_=_M.c.received_at <= now - timedelta(seconds=default_seconds))


def outcome_cells(
    conn: Connection,
    now: datetime,
    buckets: Sequence[Period],
    hours: Mapping[str, CategoryHours],
    default: CategoryHours,
    *,
    account: str | None = None,
    category: str | None = None,
) -> list[Cell]:
    """Messages needing a reply received in the buckets, counted by account, category,
    bucket, Amazon's class and the deadline class. One GROUP BY.

    Deadlines: the category's due / critical seconds after receipt, each replaced by the
    stated deadline where that is earlier (due = min(default due, stated), critical =
    min(default critical, stated): what :func:`hygiene.deadlines.compute_deadlines` gives)."""
    if not buckets:
        return []
    start, end = _span(buckets)
    answered = _answered(now)
    stated = _M.c.stated_deadline_at
    due_s = _per_category(hours, "due_seconds", default.due_seconds)
    crit_s = _per_category(hours, "critical_seconds", default.critical_seconds)
    replied_by_due = and_(_M.c.response_seconds <= due_s, or_(stated.is_(None), _M.c.replied_at <= stated))
    replied_after_critical = or_(_M.c.response_seconds > crit_s, and_(stated.is_not(None), _M.c.replied_at > stated))
    past_due = or_(_cut(now, hours, "due_seconds", default.due_seconds), stated <= now)
    past_critical = or_(_cut(now, hours, "critical_seconds", default.critical_seconds), stated <= now)
    amazon = case(
        (and_(answered, _M.c.response_seconds <= AMAZON_SECONDS), literal(ON_TIME)),
        (answered, literal(LATE)),
        (_M.c.received_at <= now - _day(), literal(NO_RESPONSE)),
        else_=literal(YOUNG),
    ).label("amazon")
    deadline = case(
        (and_(answered, replied_by_due), literal(WITHIN)),
        (and_(answered, replied_after_critical), literal(AFTER_CRITICAL)),
        (answered, literal(AFTER_DUE)),
        (past_critical, literal(WAITING_CRITICAL)),
        (past_due, literal(WAITING_LATE)),
        else_=literal(WAITING),
    ).label("deadline")
    bucket = _bucket(_M.c.received_at, buckets).label("bucket")
    seconds = func.sum(case((answered, _M.c.response_seconds), else_=literal(0))).label("seconds")
    query = _filters(
        select(_M.c.account, _M.c.category, bucket, amazon, deadline, func.count().label("n"), seconds).where(
            _needing_reply(start, end)
        ),
        account,
        category,
    ).group_by(_M.c.account, _M.c.category, bucket, amazon, deadline)
    return [
        Cell(r.account, r.category, int(r.bucket), r.amazon, r.deadline, int(r.n), int(r.seconds or 0))
        for r in conn.execute(query)
        if r.bucket is not None
    ]


def _day() -> Any:
    from datetime import timedelta

    return timedelta(seconds=AMAZON_SECONDS)


def tone_cells(
    conn: Connection, buckets: Sequence[Period], *, account: str | None = None, review_cap: float, block_cap: float
) -> list[ToneCell]:
    """The seller's sent mail by account and bucket: how many, how many scored, the sum of
    their tone scores, review and block verdicts, and the sum of score values (the score
    capped at ``review_cap`` for a review verdict and ``block_cap`` for a block)."""
    if not buckets:
        return []
    start, end = _span(buckets)
    score = _M.c.tone_score
    capped = case(
        (and_(_M.c.tone_verdict == "block", score > block_cap), literal(block_cap)),
        (and_(_M.c.tone_verdict == "review", score > review_cap), literal(review_cap)),
        else_=score,
    )
    bucket = _bucket(_M.c.received_at, buckets).label("bucket")
    query = _filters(
        select(
            _M.c.account,
            bucket,
            func.count().label("sent"),
            func.count(score).label("scored"),
            func.sum(score).label("score_sum"),
            func.sum(capped).label("value_sum"),
            func.sum(case((_M.c.tone_verdict == "review", 1), else_=0)).label("review"),
            func.sum(case((_M.c.tone_verdict == "block", 1), else_=0)).label("block"),
        ).where(
            _M.c.direction == "outbound",
            _M.c.auto_reply == false(),
            _M.c.received_at > start,
            _M.c.received_at <= end,
        ),
        account,
        None,
    ).group_by(_M.c.account, bucket)
    return [
        ToneCell(
            r.account, int(r.bucket), int(r.sent), int(r.scored), float(r.score_sum or 0.0),
            float(r.value_sum or 0.0), int(r.review or 0), int(r.block or 0),
        )
        for r in conn.execute(query)
        if r.bucket is not None
    ]


#: periods per UNION ALL statement (SQLite's SQLITE_MAX_COMPOUND_SELECT is 500 by default)
_PERIODS_PER_STATEMENT = 200

#: the percentiles reported (median, 90th)
PERCENTILES = (0.5, 0.9)


def _positions(n: int, p: float) -> tuple[int, float]:
    """0-based index of the lower neighbour and the fraction towards the next one (linear
    interpolation, as PostgreSQL's percentile_cont)."""
    exact = (n - 1) * p
    low = int(exact)
    return low, exact - low


def response_percentiles(
    conn: Connection,
    now: datetime,
    periods: Mapping[str, Period],
    group: str | None = None,
    *,
    account: str | None = None,
    category: str | None = None,
) -> dict[tuple[str, str], tuple[float, ...]]:
    """Median and 90th percentile of response seconds of the messages needing a reply
    received in each period and answered by ``now``, per (period name, group value) — group
    is None (all: value "all"), "category" or "account". One statement: the periods as a
    UNION ALL, ranked with ROW_NUMBER() OVER, only the rows at the percentile positions read
    back (linear interpolation between the two nearest, as percentile_cont)."""
    if not periods:
        return {}
    names = list(periods)
    if len(names) > _PERIODS_PER_STATEMENT:
        # SQLite refuses a UNION of more than 500 SELECTs: a long --since (years of weeks)
        # is read in several statements; each period's figures come from one of them.
        merged: dict[tuple[str, str], tuple[float, ...]] = {}
        for i in range(0, len(names), _PERIODS_PER_STATEMENT):
            chunk = {name: periods[name] for name in names[i : i + _PERIODS_PER_STATEMENT]}
            merged.update(response_percentiles(conn, now, chunk, group, account=account, category=category))
        return merged
    # Periods are numbered, and "all" is no column: partitioning by a constant string costs
    # PostgreSQL a collation-aware comparison per pair of rows sorted.
    parts = []
    for i, period in enumerate(periods.values()):
        columns = [literal(i).label("period"), _M.c.response_seconds.label("s")]
        if group is not None:
            columns.insert(1, _M.c[group].label("grp"))
        parts.append(
            _filters(
                select(*columns).where(
                    _needing_reply(period.start, period.end), _answered(now), _M.c.response_seconds.is_not(None)
                ),
                account,
                category,
            )
        )
    rows = union_all(*parts).subquery("answered")
    partition = (rows.c.period,) if group is None else (rows.c.period, rows.c.grp)
    grp = literal("all") if group is None else rows.c.grp
    ranked = select(
        rows.c.period,
        grp.label("grp"),
        rows.c.s,
        func.row_number().over(partition_by=partition, order_by=rows.c.s).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery("ranked")
    # 1-based positions of the neighbours: floor((n-1)·p) + 1 and + 2, in integer arithmetic
    # (integer division truncates on both backends; p as a fraction k/10).
    wanted = []
    for p in PERCENTILES:
        k = round(p * 10)
        below = (ranked.c.n - 1) * k // 10
        wanted += [ranked.c.rn == below + 1, ranked.c.rn == below + 2]
    values: dict[tuple[str, str], dict[int, int]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for r in conn.execute(select(ranked.c.period, ranked.c.grp, ranked.c.rn, ranked.c.n, ranked.c.s).where(or_(*wanted))):
        key = (names[int(r.period)], r.grp)
        values.setdefault(key, {})[int(r.rn) - 1] = int(r.s)
        sizes[key] = int(r.n)
    out: dict[tuple[str, str], tuple[float, ...]] = {}
    for key, at in values.items():
        n = sizes[key]
        found = []
        for p in PERCENTILES:
            low, frac = _positions(n, p)
            high = at.get(low + 1, at[low])
            found.append(at[low] + frac * (high - at[low]))
        out[key] = tuple(found)
    return out


def response_histogram(
    conn: Connection,
    now: datetime,
    period: Period,
    bin_seconds: int,
    *,
    account: str | None = None,
    category: str | None = None,
) -> dict[int, int]:
    """Response times of the messages needing a reply received in ``period`` and answered by
    ``now``, counted per bin: bin i holds [i·bin, (i+1)·bin) seconds. One GROUP BY."""
    index = (_M.c.response_seconds // bin_seconds).label("bin")  # integer division on both backends
    query = _filters(
        select(index, func.count().label("n")).where(
            _needing_reply(period.start, period.end), _answered(now), _M.c.response_seconds.is_not(None)
        ),
        account,
        category,
    ).group_by(index)
    return {int(r.bin): int(r.n) for r in conn.execute(query)}


def response_times(
    conn: Connection,
    now: datetime,
    period: Period,
    *,
    account: str | None = None,
    category: str | None = None,
) -> list[tuple[str, str, datetime, int | None]]:
    """(account, category, received_at, response seconds or None when not answered by
    ``now``) of each message needing a reply received in ``period``: what the business-hours
    clock counts in Python (:mod:`hygiene.business`), since working hours and holidays do not
    fit a portable SQL expression. Read from the covering index, like the rest."""
    seconds = case((_answered(now), _M.c.response_seconds), else_=None).label("s")
    query = _filters(
        select(_M.c.account, _M.c.category, _M.c.received_at, seconds).where(_needing_reply(period.start, period.end)),
        account,
        category,
    )
    return [(r.account, r.category, r.received_at, r.s) for r in conn.execute(query)]


def has_messages(conn: Connection) -> bool:
    """Whether the database holds any message at all."""
    return conn.execute(select(_M.c.id).limit(1)).first() is not None

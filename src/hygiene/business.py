"""The seller's business-hours clock (``[schedule]``): working hours per weekday, public
holidays of a country (the maintained ``holidays`` package, never a hand list) and the
seller's own extra days off. Amazon's figures never use it: Amazon counts every hour.

A :class:`BusinessClock` covers a range of days in the configured time zone. It lays the
working spans of those days end to end as instants (epoch seconds, so daylight-saving days
are as long as they really are) with the working seconds before each span, so the business
time between two instants is two binary searches: O(log spans) per message after O(days)
to build, about a microsecond each in CPython. The ``holidays`` package is imported only
here, when a clock is built (``hygiene tone`` and ``--help`` never do).
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from hygiene.errors import ConfigError

if TYPE_CHECKING:
    from hygiene.config import ScheduleConfig

DAY = timedelta(days=1)


def holidays_of(schedule: ScheduleConfig, first_year: int, last_year: int) -> set[date]:
    """The days off that are not weekly ones: the country's public holidays (and its
    subdivision's) in those years, and the extra ones."""
    days = set(schedule.extra_holidays)
    if schedule.country is None:
        return days
    import holidays

    try:
        found = holidays.country_holidays(
            schedule.country, subdiv=schedule.subdivision, years=range(first_year, last_year + 1)
        )
    except NotImplementedError as exc:
        key = "schedule.subdivision" if schedule.subdivision and "subdivision" in str(exc) else "schedule.country"
        what = f"subdivision {schedule.subdivision!r} of {schedule.country}" if key.endswith("subdivision") else f"country {schedule.country!r}"
        raise ConfigError(
            schedule.config_path,
            key,
            f"the holidays package has no calendar for {what}",
            'use an ISO 3166 code it knows ("JP", "US", "DE", ...; see holidays.list_supported_countries()), or country = "" for none',
        ) from None
    return days | set(found)


def _instant(day: date, minutes: int, tz: tzinfo) -> float:
    """Epoch seconds of ``day`` at ``minutes`` after midnight, wall-clock in ``tz`` (24:00
    is the next midnight)."""
    if minutes >= 24 * 60:
        day, minutes = day + DAY, minutes - 24 * 60
    return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=tz).timestamp()


class BusinessClock:
    """Working time on the days ``first`` to ``last`` (local dates in ``tz``), both
    included; before ``first`` nothing is counted, after ``last`` nothing more."""

    def __init__(self, schedule: ScheduleConfig, tz: tzinfo, first: date, last: date) -> None:
        off = holidays_of(schedule, first.year, last.year)
        starts: list[float] = []
        ends: list[float] = []
        before: list[float] = []
        total = 0.0
        day = first
        while day <= last:
            if day not in off:
                for start_min, end_min in schedule.hours[day.weekday()]:
                    start, end = _instant(day, start_min, tz), _instant(day, end_min, tz)
                    if starts and start < ends[-1]:  # a day's 00:00 after the previous 24:00, a DST fold
                        start = ends[-1]
                    if end > start:
                        starts.append(start)
                        ends.append(end)
                        before.append(total)
                        total += end - start
            day += DAY
        self._starts = starts
        self._ends = ends
        self._before = before
        self.total_seconds = total
        self.first = first
        self.last = last
        self.holidays = frozenset(d for d in off if first <= d <= last)

    @classmethod
    def covering(cls, schedule: ScheduleConfig, tz: tzinfo, start: datetime, end: datetime) -> BusinessClock:
        """A clock for every instant from ``start`` to ``end``."""
        return cls(schedule, tz, start.astimezone(tz).date() - DAY, end.astimezone(tz).date() + DAY)

    def at(self, instant: float) -> float:
        """Working seconds from the clock's first day to ``instant`` (epoch seconds)."""
        i = bisect_right(self._starts, instant) - 1
        if i < 0:
            return 0.0
        return self._before[i] + min(instant, self._ends[i]) - self._starts[i]

    def seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds between two instants (0 when ``end`` is not after ``start``)."""
        return max(0.0, self.at(end.timestamp()) - self.at(start.timestamp()))

"""Time zones and the times a user gives ("when"): one zone rule and one parser for every
layer (the CLI's --now / --since / --at, reply matching, figures, the demo).

The zone rule: the configured ``timezone`` (an IANA name), else the machine's local zone.
A time the user gives without a zone is in that zone."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from hygiene.errors import HygieneError

#: Times the user gives are refused outside these years (UTC): mail older than 1990 is taken
#: for a broken date elsewhere too (ingest.received_at), and anything far out is a typo that
#: would otherwise overflow date arithmetic ("0001-01-01T00:00:00+05:00" has no UTC time).
MIN_YEAR = 1990
MAX_YEAR = 2200

ISO_HINT = 'use ISO-8601 such as "2026-11-24T09:00:00+09:00"'


def zone(name: str | None) -> tzinfo:
    """The zone named in the config, else the machine's local zone."""
    if name:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    return local_zone()


def local_zone() -> tzinfo:
    return datetime.now().astimezone().tzinfo or UTC


def iso_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def parse_when(
    text: str, *, option: str, tz: tzinfo | None = None, base: datetime | None = None, hint: str = ISO_HINT
) -> datetime:
    """A time the user gave: ISO-8601 first (exact and fast), then a phrase ("yesterday
    18:00", "2時間前", "3 days ago") read by dateparser in ``tz`` (default: local) relative to
    ``base`` (default: now), preferring the past. Returns an aware UTC datetime; a bad one is
    one line naming the option (see :func:`read_time`)."""
    where = tz or local_zone()

    def parse(text: str) -> datetime | None:
        value = iso_time(text)
        if value is not None:
            return value
        import dateparser

        settings: dict[str, Any] = {"RETURN_AS_TIMEZONE_AWARE": True, "PREFER_DATES_FROM": "past"}
        if base is not None:
            settings["RELATIVE_BASE"] = base.astimezone(where).replace(tzinfo=None)
        name = getattr(where, "key", None)  # a ZoneInfo's IANA name; else the offset below
        if name:
            settings["TIMEZONE"] = name
        value = dateparser.parse(text, settings=settings)
        if value is not None and (value.tzinfo is None or not name):
            value = value.replace(tzinfo=where)
        return value

    return read_time(text, parse, option=option, hint=hint, tz=where)


_SPAN = re.compile(r"\s*(\d{1,4})\s*([dw])\s*", re.IGNORECASE)


def parse_since(text: str, *, now: datetime, tz: tzinfo | None = None) -> datetime:
    """A --since period: ``90d`` / ``12w`` back from ``now``, else a time as :func:`parse_when`
    reads it ("3 weeks ago", ISO-8601), which must be before ``now``."""
    m = _SPAN.fullmatch(text)
    if m:
        n = int(m.group(1))
        if n == 0:
            raise HygieneError(f"--since: {text!r} is an empty period", 'e.g. "90d" or "12w"')
        return now - timedelta(days=n * (7 if m.group(2).lower() == "w" else 1))
    since = parse_when(text, option="--since", tz=tz, base=now)
    if since >= now:
        raise HygieneError(f"--since: {text!r} is not before now ({now.isoformat()})", 'e.g. "90d", "12w" or an earlier date')
    return since


def read_time(
    text: str, parse: Callable[[str], datetime | None], *, option: str, hint: str, tz: tzinfo | None = None
) -> datetime:
    """Run ``parse`` on a time the user gave (--now, HYGIENE_NOW, --since, --at) and check its
    answer the same way whichever parser it is: one line naming the option, never a traceback.
    Naive results are in ``tz`` (default: local). Returns an aware UTC datetime within
    MIN_YEAR..MAX_YEAR."""
    # dateparser reads "-1", "1e400" or "1700000000" as some odd time; a bare number is a
    # mistake (ISO-8601's basic form, "20261124", is still a date).
    if _is_number(text) and iso_time(text) is None:
        raise HygieneError(f"{option}: {text!r} is a number, not a time", hint)
    out_of_range = HygieneError(
        f"{option}: {text!r} is out of range", f"give a time between {MIN_YEAR} and {MAX_YEAR}"
    )
    try:
        value = parse(text)
        if value is None:
            raise HygieneError(f"{option}: cannot read {text!r} as a time", hint)
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz) if tz else value.astimezone()
        value = value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 shifted past the ends of datetime
        raise out_of_range from None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise out_of_range
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True

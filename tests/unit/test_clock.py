"""One zone rule and one parser for the times a user gives (--now, --since, --at)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hygiene.cli.context import AppContext
from hygiene.clock import parse_since, parse_when, zone
from hygiene.errors import HygieneError

TOKYO = ZoneInfo("Asia/Tokyo")
BASE = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo


def test_a_time_without_a_zone_is_in_the_given_zone_whichever_parser_reads_it() -> None:
    assert parse_when("2026-11-19T18:00", option="--at", tz=TOKYO) == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert parse_when("yesterday 18:00", option="--at", tz=TOKYO, base=BASE) == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    assert parse_when("2時間前", option="--since", tz=TOKYO, base=BASE) == datetime(2026, 11, 19, 22, 0, tzinfo=UTC)
    assert parse_when("2026-11-19T18:00+00:00", option="--now", tz=TOKYO) == datetime(2026, 11, 19, 18, 0, tzinfo=UTC)


def test_since_takes_periods_and_times_before_now() -> None:
    assert parse_since("2w", now=BASE) == datetime(2026, 11, 6, 0, 0, tzinfo=UTC)
    assert parse_since("2026-11-19 18:00", now=BASE, tz=TOKYO) == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    with pytest.raises(HygieneError, match="not before now"):
        parse_since("tomorrow", now=BASE, tz=TOKYO)
    with pytest.raises(HygieneError, match="empty period"):
        parse_since("0d", now=BASE)


def test_bad_times_are_one_error_naming_the_option() -> None:
    for text, said in (("-1", "is a number"), ("0001-01-01T00:00:00+05:00", "out of range"), ("whenever-ish", "cannot read")):
        with pytest.raises(HygieneError, match=said) as caught:
            parse_when(text, option="--at", tz=TOKYO)
        assert str(caught.value).startswith("--at: ")


def test_now_and_at_use_the_configured_zone(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('timezone = "Asia/Tokyo"\n')
    app = AppContext(config_path=str(config), now_text="2026-11-20 09:00")
    assert app.zone() == zone("Asia/Tokyo") == TOKYO
    assert app.now() == BASE
    assert app.when("yesterday 18:00", option="--at", base=app.now()) == datetime(2026, 11, 19, 9, 0, tzinfo=UTC)

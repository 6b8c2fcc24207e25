"""Deadlines: category defaults, deadlines stated in Japanese and English, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hygiene.config import load_config
from hygiene.deadlines import (
    CRITICAL,
    DUE_SOON,
    LATE,
    PENDING,
    Deadlines,
    compute_deadlines,
    state_at,
    stated_deadline,
)

RECEIVED = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    ("text", "hours", "words"),
    [
        ("72時間以内にご対応ください。", 72, "72時間以内"),
        ("２４時間以内にご返信ください", 24, "24時間以内"),
        ("17日以内に改善計画を提出してください", 17 * 24, "17日以内"),
        ("Please respond within 72 hours.", 72, "within 72 hours"),
        ("Reply WITHIN 2 days", 48, "WITHIN 2 days"),
        ("12時間以内、または 3日以内にご返信ください", 12, "12時間以内"),  # the earliest one
    ],
)
def test_relative_spans(text: str, hours: int, words: str) -> None:
    found = stated_deadline(text, RECEIVED, TOKYO)
    assert found is not None
    assert found.at == RECEIVED + timedelta(hours=hours)
    assert found.text == words


@pytest.mark.parametrize(
    ("text", "end"),
    [
        ("Please submit your plan by November 30, 2026.", datetime(2026, 11, 30, 23, 59, 59, tzinfo=TOKYO)),
        ("2026年11月30日までに改善計画をご提出ください。", datetime(2026, 11, 30, 23, 59, 59, tzinfo=TOKYO)),
        ("2026年11月21日(土)までにご返信ください", datetime(2026, 11, 21, 23, 59, 59, tzinfo=TOKYO)),
        ("11月25日までにご回答ください", datetime(2026, 11, 25, 23, 59, 59, tzinfo=TOKYO)),
        ("Please provide the invoice no later than 21 Nov 2026", datetime(2026, 11, 21, 23, 59, 59, tzinfo=TOKYO)),
        ("Please respond before December 1, 2026.", datetime(2026, 12, 1, 0, 0, tzinfo=TOKYO)),
    ],
)
def test_absolute_dates_end_of_day_in_the_zone(text: str, end: datetime) -> None:
    found = stated_deadline(text, RECEIVED, TOKYO)
    assert found is not None and found.at == end.astimezone(UTC)


@pytest.mark.parametrize(
    "text",
    [
        "いつもご利用ありがとうございます。",
        "> 2時間以内にご返信ください",  # quoted from an earlier mail
        "2026年11月1日までにご返信ください",  # already past when the message arrived
        "within the store",
        "",
    ],
)
def test_no_stated_deadline(text: str) -> None:
    assert stated_deadline(text, RECEIVED, TOKYO) is None


def test_defaults_and_config_per_category(tmp_path: Path) -> None:
    config_path = tmp_path / "c.toml"
    config_path.write_text("[deadlines]\nwarn_hours = 3\n[deadlines.buyer]\ndue_hours = 12\ncritical_hours = 36\n")
    config = load_config(config_path)
    buyer = compute_deadlines(RECEIVED, "buyer", config)
    assert buyer == Deadlines(RECEIVED + timedelta(hours=12), RECEIVED + timedelta(hours=36), "default 12 h / 36 h (buyer)")
    health = compute_deadlines(RECEIVED, "account_health", config)
    assert (health.due_at - RECEIVED, health.critical_at - RECEIVED) == (timedelta(hours=24), timedelta(hours=48))


def test_stated_deadline_used_only_where_earlier(tmp_path: Path) -> None:
    config = load_config(tmp_path / "none.toml")
    later = compute_deadlines(RECEIVED, "account_health", config, RECEIVED + timedelta(hours=72), "72時間以内")
    assert later.due_at == RECEIVED + timedelta(hours=24) and later.source.startswith("default 24 h / 48 h")
    tighter = compute_deadlines(RECEIVED, "buyer", config, RECEIVED + timedelta(hours=12), "12時間以内")
    assert tighter == Deadlines(RECEIVED + timedelta(hours=12), RECEIVED + timedelta(hours=12), "stated: 12時間以内")
    between = compute_deadlines(RECEIVED, "seller_support", config, RECEIVED + timedelta(hours=30), "within 30 hours")
    assert between.due_at == RECEIVED + timedelta(hours=24)
    assert between.critical_at == RECEIVED + timedelta(hours=30)
    assert "critical stated: within 30 hours" in between.source


def test_states_at_each_boundary() -> None:
    d = Deadlines(RECEIVED + timedelta(hours=24), RECEIVED + timedelta(hours=48), "x")
    at = lambda h: state_at(RECEIVED + timedelta(hours=h), d, 6)  # noqa: E731
    assert [at(0), at(18), at(18.01), at(23.99), at(24), at(47.9), at(48), at(500)] == [
        PENDING, PENDING, DUE_SOON, DUE_SOON, LATE, LATE, CRITICAL, CRITICAL,
    ]

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


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "at", "words"),
    [
        # the examples, to the minute in the stated zone (else the seller's: Tokyo)
        ("2027年1月8日（金）15:00までに、以下の書類をご提出ください。", utc(2027, 1, 8, 6, 0), "2027年1月8日(金)15:00まで"),
        ("1月12日 正午までにご回答をお願いいたします。", utc(2027, 1, 12, 3, 0), "1月12日 正午まで"),
        ("Please submit your plan of action by January 9, 2027 5:00 PM PST.", utc(2027, 1, 10, 1, 0), "by January 9, 2027 5:00 PM PST"),
        ("Please provide the invoice no later than 5:00 p.m. (JST) on Jan 14.", utc(2027, 1, 14, 8, 0), "no later than 5:00 p.m. (JST) on Jan 14"),
        ("２０２７/０１/１５ １８：００迄にご対応ください。", utc(2027, 1, 15, 9, 0), "2027/01/15 18:00迄"),
        # 午前/午後, 半, a.m./p.m., 12 o'clock
        ("2027年1月8日 午後3時までにご返信ください", utc(2027, 1, 8, 6, 0), "2027年1月8日 午後3時まで"),
        ("1月8日 午前9時30分までにご連絡ください", utc(2027, 1, 8, 0, 30), "1月8日 午前9時30分まで"),
        ("1月8日15時半までにご提出ください", utc(2027, 1, 8, 6, 30), "1月8日15時半まで"),
        ("1月9日 日本時間15時までにご返信ください", utc(2027, 1, 9, 6, 0), "1月9日 日本時間15時まで"),
        ("Please reply by Jan 9, 2027 12:30 p.m. UTC.", utc(2027, 1, 9, 12, 30), "by Jan 9, 2027 12:30 p.m. UTC"),
        ("Please reply by Jan 9, 2027 12 AM GMT.", utc(2027, 1, 9, 0, 0), "by Jan 9, 2027 12 AM GMT"),
        # US zones named without S/D follow daylight saving time on that date
        ("Please respond by January 9, 2027 at 5 PM PT.", utc(2027, 1, 10, 1, 0), "by January 9, 2027 at 5 PM PT"),
        ("Please respond by July 9, 2027 at 5 PM PT.", utc(2027, 7, 10, 0, 0), "by July 9, 2027 at 5 PM PT"),
        ("Please respond by July 9, 2027 at 5 PM PST.", utc(2027, 7, 10, 1, 0), "by July 9, 2027 at 5 PM PST"),
        ("Please respond by July 9, 2027 at 5 PM PDT.", utc(2027, 7, 10, 0, 0), "by July 9, 2027 at 5 PM PDT"),
        ("Please respond by Jan 9, 2027 9:30 a.m. ET.", utc(2027, 1, 9, 14, 30), "by Jan 9, 2027 9:30 a.m. ET"),
        ("Please respond by June 1, 2027 9:30 a.m. ET.", utc(2027, 6, 1, 13, 30), "by June 1, 2027 9:30 a.m. ET"),
        ("Please respond by Jan 9, 2027 9:30 a.m. EDT.", utc(2027, 1, 9, 13, 30), "by Jan 9, 2027 9:30 a.m. EDT"),
        ("Please respond by Jan 9, 2027 17:00 CT.", utc(2027, 1, 9, 23, 0), "by Jan 9, 2027 17:00 CT"),
        ("Please respond by Jan 9, 2027 17:00 MT.", utc(2027, 1, 10, 0, 0), "by Jan 9, 2027 17:00 MT"),
        ("Please respond by 9 January 2027, 17:00 CET.", utc(2027, 1, 9, 16, 0), "by 9 January 2027, 17:00 CET"),
        ("Please respond by 9 July 2027, 17:00 CEST.", utc(2027, 7, 9, 15, 0), "by 9 July 2027, 17:00 CEST"),
        ("Please respond by 9 July 2027, 17:00 BST.", utc(2027, 7, 9, 16, 0), "by 9 July 2027, 17:00 BST"),
        ("Please respond by Jan 9, 2027 17:00 (UTC+9).", utc(2027, 1, 9, 8, 0), "by Jan 9, 2027 17:00 (UTC+9)"),
        ("Please respond by 2027-01-09T17:00+09:00.", utc(2027, 1, 9, 8, 0), "by 2027-01-09T17:00+09:00"),
        ("Please respond by Jan 9, 2027 5 PM UTC-5.", utc(2027, 1, 9, 22, 0), "by Jan 9, 2027 5 PM UTC-5"),
        ("Please respond by 5 PM Pacific Time on January 9, 2027.", utc(2027, 1, 10, 1, 0), "by 5 PM Pacific Time on January 9, 2027"),
        # a time without a zone is the seller's; a zone without a time ends that day there
        ("Please reply by January 9, 2027 17:00.", utc(2027, 1, 9, 8, 0), "by January 9, 2027 17:00"),
        ("Please reply by January 9, 2027 (PST).", utc(2027, 1, 10, 7, 59, 59), "by January 9, 2027 (PST)"),
        ("Please reply before January 9, 2027 5 PM PST.", utc(2027, 1, 10, 1, 0), "before January 9, 2027 5 PM PST"),
    ],
)
def test_time_of_day_and_zone(text: str, at: datetime, words: str) -> None:
    found = stated_deadline(text, RECEIVED, TOKYO)
    assert found is not None
    assert (found.at, found.text) == (at, words)


@pytest.mark.parametrize("text", ["2027年1月8日 25:00までにご返信ください", "Please reply by January 8, 2027 13 p.m."])
def test_an_impossible_time_leaves_the_date(text: str) -> None:
    found = stated_deadline(text, RECEIVED, TOKYO)
    assert found is not None and found.at == utc(2027, 1, 8, 14, 59, 59)  # the end of that day in Tokyo


@pytest.mark.parametrize(
    ("text", "category", "at"),
    [
        # requests to the seller, in both languages
        ("【要対応】72時間以内", None, RECEIVED + timedelta(hours=72)),
        ("回答期限：2027年1月15日 18:00まで", None, utc(2027, 1, 15, 9, 0)),
        ("回答期限は2027年1月15日 18:00までです。", None, utc(2027, 1, 15, 9, 0)),
        ("1月12日 正午までにご回答を。", None, utc(2027, 1, 12, 3, 0)),
        ("2027年1月15日までにご対応がない場合、アカウントが停止される可能性があります。", "account_health", utc(2027, 1, 15, 14, 59, 59)),
        ("24時間以内にご連絡をお待ちしております。", "buyer", RECEIVED + timedelta(hours=24)),
        ("24時間以内にご返信いただけますか。", "buyer", RECEIVED + timedelta(hours=24)),
        ("Please reply within 24 hours or I will open an A-to-z claim.", "buyer", RECEIVED + timedelta(hours=24)),
        ("If you do not respond within 72 hours, your listing will be removed.", "account_health", RECEIVED + timedelta(hours=72)),
        ("You must respond within 48 hours.", "buyer", RECEIVED + timedelta(hours=48)),
        ("We need your response within 24 hours.", "buyer", RECEIVED + timedelta(hours=24)),
        ("If we don't hear from you within 72 hours, we will close this case.", "seller_support", RECEIVED + timedelta(hours=72)),
        ("We will review your case; please respond within 72 hours.", "seller_support", RECEIVED + timedelta(hours=72)),
        ("Your response is required by January 9, 2027 5:00 PM PST.", "account_health", utc(2027, 1, 10, 1, 0)),
        ("You have until January 9, 2027 5:00 PM PST to respond.", "account_health", utc(2027, 1, 10, 1, 0)),
        # Amazon's own mail: "you <verb>" and an imperative opening a clause are the time to act
        ("To reinstate your account, submit a plan of action by January 9, 2027 5:00 PM PST.", "account_health", utc(2027, 1, 10, 1, 0)),
        ("You may appeal within 17 days.", "account_health", RECEIVED + timedelta(days=17)),
        # the request is in one sentence, Amazon's own timing in the next
        ("Please reply by Jan 14. We usually respond within 2 days.", "seller_support", utc(2027, 1, 14, 14, 59, 59)),
        # a line announcing a list ends in a colon: it is not a quote header
        ("2027年1月8日（金）15:00までに以下をご提出ください：\n・請求書", "account_health", utc(2027, 1, 8, 6, 0)),
    ],
)
def test_a_request_to_the_seller_sets_the_deadline(text: str, category: str | None, at: datetime) -> None:
    found = stated_deadline(text, RECEIVED, TOKYO, category=category)
    assert found is not None and found.at == at


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # a buyer quoting the shop's own promise
        ("商品ページに24時間以内に発送と書いてありました。", "buyer"),
        ("24時間以内に発送とありましたが、まだ届いていないのでご返信ください。", "buyer"),
        ("24時間以内に発送と書いてありました。まだ届いていません。ご確認ください。", "buyer"),
        ("You said ships within 24 hours, but it has been a week.", "buyer"),
        ("You said ships within 24 hours. Please reply.", "buyer"),
        ("The listing says it ships within 24 hours, please reply.", "buyer"),
        # Amazon describing what Amazon will do
        ("We will respond within 48 hours.", "seller_support"),
        ("Please note that we will respond within 48 hours.", "seller_support"),
        ("Our team typically replies within 2 business days.", "seller_support"),
        ("You will receive a response within 48 hours.", "seller_support"),
        ("通常24時間以内にご連絡いたします。", "seller_support"),
        ("24時間以内にご連絡いたしますので、今しばらくお待ちください。", "seller_support"),
        ("3営業日以内に返金されます。", "seller_support"),
        # no request at all
        ("Orders ship within 24 hours.", "buyer"),
        ("2027年1月8日までにお届けします。", "buyer"),
        ("2027年1月8日までに", "account_health"),
        ("by January 9, 2027 5:00 PM PST", "account_health"),
        # only Amazon's own mail asks with a plain "you <verb>" or a mid-sentence imperative
        ("You may appeal within 17 days.", "buyer"),
        ("To get a refund, submit a return by January 9, 2027.", "buyer"),
        # the quoted original, below its header or in ">" lines
        ("承知しました。\n\n2026年11月18日(水) 10:00 Amazon <seller-support@amazon.co.jp>:\n72時間以内にご返信ください。", "seller_support"),
        ("Thanks.\n\nOn Wed, Nov 18, 2026 at 10:00 AM Amazon <x@amazon.com> wrote:\nPlease respond within 12 hours.", "seller_support"),
        ("Thanks.\n> Please respond by January 9, 2027 5:00 PM PST.\nok", "seller_support"),
    ],
)
def test_not_a_request_to_the_seller(text: str, category: str) -> None:
    assert stated_deadline(text, RECEIVED, TOKYO, category=category) is None


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


def test_message_state_precedence_is_one_rule() -> None:
    from types import SimpleNamespace

    from hygiene.deadlines import DISMISSED, NO_REPLY_NEEDED, REPLIED, message_state

    def row(direction: str = "inbound", needs: bool = True, replied: bool = False, dismissed: bool = False) -> SimpleNamespace:
        at = datetime(2026, 11, 20, tzinfo=UTC)
        return SimpleNamespace(direction=direction, needs_reply=needs, replied_at=at if replied else None, dismissed_at=at if dismissed else None)

    clock = lambda _m: "late"  # noqa: E731
    assert message_state(row("outbound"), clock) == "outbound"
    assert message_state(row(replied=True, dismissed=True), clock) == DISMISSED
    assert message_state(row(replied=True), clock) == REPLIED
    assert message_state(row(), clock) == "late"
    assert message_state(row(needs=False), clock) == NO_REPLY_NEEDED

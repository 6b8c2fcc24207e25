"""Columns line up by display width: Japanese text takes two terminal columns a character, so
rows mixing Japanese and ASCII subjects, names and folders start each column at the same
display column (hygiene.views.columns, used by check, show, messages, status, report and the
dashboard)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hygiene.deadlines import CRITICAL, PENDING, CheckItem, CheckReport, Deadlines
from hygiene.views.check import render_check, render_show, render_suspicious
from hygiene.views.columns import cell, clip, mail_cell, pad, pad_left, width
from hygiene.views.messages import render_messages, render_status, status_dict

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
JST = ZoneInfo("Asia/Tokyo")


def column_of(line: str, text: str) -> int:
    """The display column at which ``text`` first starts in ``line``."""
    at = line.index(text)
    return width(line[:at])


def test_width_clip_and_pad_count_display_columns() -> None:
    assert width("abc") == 3 and width("商品") == 4 and width("ｱｲ") == 2  # half-width kana: one each
    assert width("e\u0301") == 1  # a combining accent takes no column
    assert clip("商品が届きません", 7) == "商品が…" and width(clip("商品が届きません", 7)) == 7
    assert clip("商品が届きません", 8) == "商品が…" and width("商品が…") == 7  # 届 would straddle: left out whole
    assert clip("short", 10) == "short" and clip("商品", 4) == "商品"
    for text in ("商品が届きません", "Where is my order?", "注文 503-2290117 の件", "", "ａｂｃ（全角）"):
        for n in range(1, 25):
            assert width(cell(text, n)) == n, (text, n)
            assert width(clip(text, n)) <= n
    assert pad("商品", 6) == "商品  " and pad_left("商品", 6) == "  商品"


def test_mail_text_is_made_safe_before_it_is_measured() -> None:
    # an escape sequence is removed, not counted; a line break becomes a space
    assert mail_cell("\x1b[2J商品\nです", 12) == "商品 です" + " " * 3
    assert mail_cell(None, 4) == "    "


def row(i: int, sender: str, subject: str, account: str = "jp", category: str = "buyer") -> Any:
    return SimpleNamespace(
        id=i, received_at=NOW - timedelta(hours=i), account=account, direction="inbound", category=category,
        from_addr=sender, from_name=None, subject=subject, parse_note=None, to_addrs="shop@example.jp",
    )


ROWS = [
    row(1, "z9y8x7@marketplace.amazon.co.jp", "Where is my order?"),
    row(2, "さくら雑貨店のお客様@example.jp", "商品が届きません", account="日本店"),
    row(3, "seller-performance@amazon.co.jp", "【重要】アカウント健全性に関する重要なお知らせ、ご確認ください、ご確認ください", category="account_health"),
    row(4, "ｶﾀｶﾅ@example.jp", "件名はｶﾀｶﾅ and English", account="us"),
]


def test_messages_columns_start_at_the_same_display_column() -> None:
    lines = render_messages(ROWS).splitlines()
    assert len(lines) == 4
    for field in ("direction", "category", "from_addr", "subject"):
        starts = {column_of(line, str(getattr(r, field))[:3]) for line, r in zip(lines, ROWS, strict=True)}
        assert len(starts) == 1, (field, starts, lines)
    # the long Japanese subject is cut at 60 display columns, not 60 characters
    # (59 when a two-column character would have straddled the edge)
    assert lines[2].endswith("…") and width(lines[2]) - column_of(lines[2], "【重要】") in (59, 60)
    assert len(lines[2][lines[2].index("【重要】"):]) < 40


def test_status_folders_line_up() -> None:
    folder = {"uidvalidity": 7, "highest_uid": 1, "highestmodseq": None, "last_sync_at": None,
              "last_error": None, "last_error_at": None, "role": "inbox"}
    data = {"accounts": [{"name": "jp", "folders": [
        {**folder, "name": "INBOX", "messages": 1234},
        {**folder, "name": "送信済みメール", "messages": 5, "role": "sent"},
        {**folder, "name": "Sent Items", "messages": 17, "role": "sent"},
    ]}]}
    lines = render_status(data).splitlines()[1:]
    assert {column_of(line, " messages") for line in lines} == {2 + 20 + 1 + 7}
    assert {column_of(line, "uidvalidity") for line in lines} == {2 + 20 + 1 + 7 + len(" messages  ")}
    assert status_dict([], ["jp"]) == {"accounts": [{"name": "jp", "folders": []}]}


def test_show_thread_and_suspicious_list_line_up() -> None:
    thread = [row(1, "z9y8x7@marketplace.amazon.co.jp", "Where is my order?"),
              row(2, "お客様の名前がとても長いアドレス@例え.example.jp", "商品が届きません")]
    message = SimpleNamespace(**vars(thread[0]), body_text="", replied_at=None, manual_replied_at=None, dismissed_at=None,
                              reply_source=None, reply_rule=None, reply_message_id=None, response_seconds=None,
                              dismiss_reason=None, suspicious_reasons=None)
    out = render_show(message, thread, now=NOW, tz=JST, deadlines=None, state=PENDING).split("Thread:\n", 1)[1].splitlines()
    assert column_of(out[0], "Where") == column_of(out[1], "商品") and width(out[1].split("  ")[2]) <= 34
    suspicious = [SimpleNamespace(**vars(r), suspicious_reasons="address imitates Amazon") for r in thread]
    lines = [line for line in render_suspicious(suspicious, JST, 7).splitlines() if line.startswith("  #")]
    assert column_of(lines[0], "Where") == column_of(lines[1], "商品")


@pytest.mark.parametrize("subject", ["アカウント健全性に関する重要なお知らせ" * 6, "x" * 200])
def test_check_clips_the_subject_at_90_display_columns(subject: str) -> None:
    deadlines = Deadlines(due_at=NOW - timedelta(hours=26), critical_at=NOW - timedelta(hours=2), source="default 24 h / 48 h (buyer)")
    item = CheckItem(id=4, account="jp", category="account_health", from_name=None, from_addr="日本@example.jp",
                     subject=subject, received_at=NOW - timedelta(hours=50), deadlines=deadlines, state=CRITICAL, hours_left=-26.0)
    lines = render_check(CheckReport(now=NOW, items=(item,), off_list={}), JST).splitlines()
    shown = lines[3]
    # 90 columns, or 89 when a two-column character would have straddled the edge
    assert shown.startswith(" " * 10) and 10 + 89 <= width(shown) <= 10 + 90 and shown.endswith("…")
    assert len(shown) < 10 + 90 or subject.isascii()  # not 90 characters: 90 columns

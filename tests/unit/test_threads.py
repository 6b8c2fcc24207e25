"""Reply matching: each rule, the \\Answered flag, auto-replies, threads and new clocks.

Messages are written as .eml bytes at known ages, imported into a throwaway SQLite database
through the real import path, then matched."""

from __future__ import annotations

import email.header
import email.utils
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from hygiene.config import Config, default_config
from hygiene.mail.importer import import_paths
from hygiene.store.db import open_database
from hygiene.store.models import Message
from hygiene.threads import (
    MatchStats,
    case_ids,
    match_replies,
    message_ids,
    normalize_subject,
    order_ids,
    thread_keys,
)
from hygiene.views.check import zone

#: the fixed clock of these tests: 2026-11-20 09:00 in Tokyo
NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SHOP = "shop@example.jp"
BUYER = "a1b2c3@marketplace.amazon.co.jp"
BUYER2 = "z9y8x7@marketplace.amazon.co.jp"
PERF = "seller-performance@amazon.co.jp"
SUPPORT = "seller-support@amazon.co.jp"


class Mailbox:
    """A seller's exported mailbox written by a test: INBOX as a Maildir (so \\Answered can be
    set), Sent as plain .eml files."""

    def __init__(self, root: Path, now: datetime = NOW) -> None:
        self.root = root
        self.now = now
        self.n = 0
        for sub in ("cur", "new", "tmp"):
            (root / "INBOX" / sub).mkdir(parents=True, exist_ok=True)
        (root / "Sent").mkdir(parents=True, exist_ok=True)

    def _eml(self, sender: str, to: str, subject: str, hours_ago: float, body: str, mid: str, headers: str) -> bytes:
        date = email.utils.format_datetime(self.now - timedelta(hours=hours_ago))
        # RFC 2047, as real mail does (raw 8-bit headers are another test's business).
        encoded = email.header.Header(subject, "utf-8").encode()
        return (
            f"From: {sender}\r\nTo: {to}\r\nSubject: {encoded}\r\nDate: {date}\r\n"
            f"Message-ID: <{mid}>\r\n{headers}MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            f"{body}\r\n"
        ).encode()

    def inbound(
        self,
        sender: str,
        subject: str,
        *,
        hours_ago: float,
        body: str = "ご確認ください。",
        answered: bool = False,
        headers: str = "",
    ) -> str:
        self.n += 1
        mid = f"in{self.n}@amazon.example"
        flags = ":2,RS" if answered else ":2,S"
        path = self.root / "INBOX" / "cur" / f"{self.n}.test{flags}"
        path.write_bytes(self._eml(sender, SHOP, subject, hours_ago, body, mid, headers))
        return mid

    def outbound(
        self,
        to: str,
        subject: str,
        *,
        hours_ago: float,
        body: str = "いつもお世話になっております。ご連絡ありがとうございます。",
        in_reply_to: str | None = None,
        auto: bool = False,
    ) -> str:
        self.n += 1
        mid = f"out{self.n}@shop.example"
        headers = ""
        if in_reply_to:
            headers += f"In-Reply-To: <{in_reply_to}>\r\nReferences: <{in_reply_to}>\r\n"
        if auto:
            headers += "Auto-Submitted: auto-replied\r\n"
        (self.root / "Sent" / f"{self.n}.eml").write_bytes(self._eml(SHOP, to, subject, hours_ago, body, mid, headers))
        return mid

    def load(self, url: str, config: Config | None = None) -> tuple[Engine, MatchStats]:
        engine = open_database(url)
        config = config or default_config()
        stats = import_paths(engine, config, [self.root], now=self.now, account="shop")
        assert stats.failed == 0 and stats.skipped == 0, stats
        with engine.begin() as conn:
            matched = match_replies(conn, tz=zone(config.timezone))
        return engine, matched


def by_message_id(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(select(Message.__table__)).all()
    return {r.message_id.strip("<>"): r for r in rows}


def reply_of(engine: Engine, mid: str) -> tuple[str | None, str | None, str | None]:
    """(source, rule, the reply's Message-ID) recorded for inbound ``mid``."""
    rows = by_message_id(engine)
    row = rows[mid]
    reply = next((r.message_id.strip("<>") for r in rows.values() if r.id == row.reply_message_id), None)
    return row.reply_source, row.reply_rule, reply


# --------------------------------------------------------------------------- pure functions


def test_normalize_subject_strips_prefixes_and_folds() -> None:
    assert normalize_subject("RE: Re：返信: FW: 転送:  ご質問　について") == "ご質問 について"
    assert normalize_subject("AW: Fwd: Ｏｒｄｅｒ  Question") == "order question"
    assert normalize_subject("Re[2]: Hello") == "hello"
    assert normalize_subject("Reply needed") == "reply needed"  # not a prefix without the colon
    assert normalize_subject(None) == ""


def test_case_and_order_ids() -> None:
    text = "ケースID：１２３４５６７８９０１ / Case ID: 98765432101 / case 123 / 注文番号 250-1234567-7654321"
    assert case_ids(text) == {"12345678901", "98765432101"}
    assert order_ids(text) == {"250-1234567-7654321"}
    assert order_ids("1250-1234567-7654321") == set()


def test_message_ids_and_keys_carry_the_counterpart() -> None:
    assert message_ids("<a@x> <b@y>") == ["a@x", "b@y"]
    keys = thread_keys(
        direction="outbound",
        message_id="<r@shop>",
        in_reply_to="<a@x>",
        references="<p@x> <a@x>",
        from_addr=SHOP,
        to_addrs=f"{BUYER}, {BUYER2}",
        cc_addrs=None,
        subject="Re: 注文 250-1234567-7654321",
        body_text="",
    )
    assert ("mid", "mid:a@x") in keys and ("mid", "mid:p@x") in keys
    assert ("order", f"order:250-1234567-7654321|{BUYER2}") in keys
    assert ("subj", f"subj:注文 250-1234567-7654321|{BUYER}") in keys
    auto = thread_keys(
        direction="outbound", message_id=None, in_reply_to="<a@x>", references=None, from_addr=SHOP,
        to_addrs=BUYER, cc_addrs=None, subject="Re: x", body_text="", auto_reply=True,
    )
    assert auto == []


# --------------------------------------------------------------------------- rules


def test_rule_a_in_reply_to(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "商品について", hours_ago=30)
    r = box.outbound(BUYER, "ご連絡ありがとうございます", hours_ago=20, in_reply_to=q)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "references", r)
    assert by_message_id(engine)[q].response_seconds == 10 * 3600
    assert stats.by_rule == {"references": 1}


def test_rule_b_case_id_in_body_same_counterpart(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(SUPPORT, "Seller Support からのご連絡", hours_ago=40, body="ケースID: 12345678901 について")
    other = box.inbound(SUPPORT, "別件", hours_ago=39, body="ケースID: 55555555555")
    r = box.outbound(SUPPORT, "お問い合わせの件", hours_ago=10, body="ケースID 12345678901 の件、対応しました。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "case_id", r)
    assert reply_of(engine, other)[0] is None


def test_rule_b_order_id_needs_same_counterpart(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "注文について", hours_ago=30, body="注文番号 250-1234567-7654321 が届きません")
    box.outbound(BUYER2, "発送のご案内", hours_ago=20, body="注文番号 250-1234567-7654321")  # another buyer
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)
    r = box.outbound(BUYER, "発送のご案内", hours_ago=10, body="注文番号 250-1234567-7654321 を発送しました")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "order_id", r)


def test_rule_b_reply_before_message_does_not_count(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    box.outbound(BUYER, "発送のご案内", hours_ago=40, body="250-1234567-7654321")
    q = box.inbound(BUYER, "届きません", hours_ago=30, body="250-1234567-7654321")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)


def test_rule_c_subject_within_14_days(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "ＲＥ：  商品の状態について", hours_ago=30)
    r = box.outbound(BUYER, "Re: 返信: 商品の状態について", hours_ago=5)
    old = box.inbound(BUYER2, "Question", hours_ago=24 * 20)
    box.outbound(BUYER2, "Re: Question", hours_ago=24 * 5)  # 15 days later: too late to count
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", r)
    assert reply_of(engine, old) == (None, None, None)


def test_answered_flag_counts_with_the_time_it_was_seen(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(PERF, "アカウント健全性について", hours_ago=30, answered=True)
    engine, stats = box.load(sqlite_url)
    row = by_message_id(engine)[q]
    assert (row.reply_source, row.replied_at) == ("answered_flag", NOW)
    assert row.response_seconds == 30 * 3600
    assert stats.by_rule == {"answered_flag": 1}


def test_mail_reply_wins_over_a_later_seen_flag(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "質問", hours_ago=30, answered=True)
    r = box.outbound(BUYER, "Re: 質問", hours_ago=25)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", r)
    assert by_message_id(engine)[q].response_seconds == 5 * 3600


def test_auto_reply_never_counts(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "至急", hours_ago=10)
    box.outbound(BUYER, "Re: 至急", hours_ago=9.9, in_reply_to=q, auto=True, body="ただいま休業中です。")
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == (None, None, None)


def test_one_reply_answers_two_buyer_messages(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "商品が届きません", hours_ago=30)
    second = box.inbound(BUYER, "Re: 商品が届きません", hours_ago=20, headers=f"In-Reply-To: <{first}>\r\n")
    # The seller answers the second one with a new subject; the first is answered too.
    r = box.outbound(BUYER, "お詫びと発送状況のご連絡", hours_ago=10, in_reply_to=second)
    other_buyer = box.inbound(BUYER2, "商品が届きません", hours_ago=25)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, second) == ("mail", "references", r)
    assert reply_of(engine, first) == ("mail", "thread", r)
    assert by_message_id(engine)[first].response_seconds == 20 * 3600
    assert reply_of(engine, other_buyer) == (None, None, None)
    assert stats.by_rule == {"references": 1, "thread": 1}


def test_a_sibling_stored_after_its_reply_is_answered_too(tmp_path: Path, sqlite_url: str) -> None:
    """A buyer's first message that reaches the database only after the reply (delivered
    late, or in a folder polled later) is still answered by that reply through the thread."""
    box = Mailbox(tmp_path / "mail")
    second = box.inbound(BUYER, "Re: 商品が届きません", hours_ago=20)
    r = box.outbound(BUYER, "お詫びと発送状況のご連絡", hours_ago=10, in_reply_to=second)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, second) == ("mail", "references", r)
    first = box.inbound(BUYER, "商品が届きません", hours_ago=30)
    engine, stats = box.load(sqlite_url)
    assert reply_of(engine, first) == ("mail", "thread", r)
    assert stats.by_rule == {"thread": 1}


def test_a_manual_mark_answers_no_siblings(tmp_path: Path, sqlite_url: str) -> None:
    """Undoing a mistaken 'replied' mark must leave nothing answered behind it."""
    from hygiene.store.replies import mark_replied

    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "返品について", hours_ago=30)
    second = box.inbound(BUYER, "Re: 返品について", hours_ago=20)
    engine, _ = box.load(sqlite_url)
    with engine.begin() as conn:
        mark_replied(conn, by_message_id(engine)[second].id, NOW - timedelta(hours=1))
        match_replies(conn, tz=zone("Asia/Tokyo"))
    assert reply_of(engine, second)[0] == "manual"
    assert reply_of(engine, first) == (None, None, None)


def test_new_message_after_a_reply_starts_a_new_clock(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    first = box.inbound(BUYER, "返品について", hours_ago=50)
    r1 = box.outbound(BUYER, "Re: 返品について", hours_ago=45)
    again = box.inbound(BUYER, "Re: 返品について", hours_ago=20)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, first) == ("mail", "subject", r1)
    assert reply_of(engine, again) == (None, None, None)
    r2 = box.outbound(BUYER, "Re: 返品について", hours_ago=2)
    engine, stats = box.load(sqlite_url)  # incremental: only the new reply is looked at
    assert reply_of(engine, again) == ("mail", "subject", r2)
    assert reply_of(engine, first) == ("mail", "subject", r1)
    assert stats.keyed == 1 and stats.by_rule == {"subject": 1}


def test_earliest_reply_is_the_first_reply(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    q = box.inbound(BUYER, "サイズ交換", hours_ago=40)
    early = box.outbound(BUYER, "Re: サイズ交換", hours_ago=35)
    box.outbound(BUYER, "追加のご案内", hours_ago=5, in_reply_to=q)
    engine, _ = box.load(sqlite_url)
    assert reply_of(engine, q) == ("mail", "subject", early)


def test_matching_twice_changes_nothing(tmp_path: Path, sqlite_url: str) -> None:
    box = Mailbox(tmp_path / "mail")
    box.inbound(BUYER, "質問", hours_ago=3)
    engine, first = box.load(sqlite_url)
    with engine.begin() as conn:
        second = match_replies(conn)
    assert first.keyed == 1 and second.keyed == 0 and second.replied == 0

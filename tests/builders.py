"""Shared test builders: the fixed clock, addresses, a mailbox written by a test, the
hand-counted report history, drafts for the tone checker, mail delivered to a real Dovecot and
hygiene run on it. Tests import these from here, never from one another."""

from __future__ import annotations

import email.header
import email.utils
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, select

from hygiene.cli import cli
from hygiene.clock import zone
from hygiene.config import Config, ScheduleConfig, default_config, load_config
from hygiene.figures import BusinessFigures, Figures, compute_figures
from hygiene.mail.imap import poll_account
from hygiene.mail.importer import import_paths
from hygiene.mail.ingest import sent_tone
from hygiene.score import DECAY
from hygiene.store.db import open_database
from hygiene.store.models import Message
from hygiene.threads import MatchStats, dismiss, match_replies

# ------------------------------------- Clock and addresses; a mailbox written by a test

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
        headers: str = "",
    ) -> str:
        self.n += 1
        mid = f"out{self.n}@shop.example"
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


# ----------------------------------------------------------- The CLI on a test's config

NOW_ISO = NOW.isoformat()


def run(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config_path), *args])


def load(box: Mailbox, config_path: Path) -> dict[str, int]:
    """Import the mailbox through the real import path; Message-ID → database id."""
    config = load_config(config_path)
    engine, _ = box.load(config.database.url, config)
    return {mid: row.id for mid, row in by_message_id(engine).items()}


def check_json(config_path: Path, *extra: str) -> tuple[int, dict]:
    result = run(config_path, "check", "--no-poll", "--json", "--now", NOW_ISO, *extra)
    assert result.exit_code in (0, 3, 4), result.output + result.stderr
    return result.exit_code, json.loads(result.output)


# ---------------------------------------------------------- Drafts for the tone checker

POLITE_JA = (
    "いつもお世話になっております。さくら雑貨店の山田と申します。\n"
    "注文番号503-1234567-1234567の件につきまして、ご連絡ありがとうございます。\n"
    "お手数をおかけしますが、配送状況をご確認いただけますでしょうか。\n"
    "よろしくお願いいたします。"
)
ANGRY_JA = "なぜ私のアカウントが停止されたのですか？？ふざけるな！！すぐに返金しろ。訴えるぞ。"
POLITE_EN = (
    "Hello, I hope you are well. This is Taro from Sakura Goods.\n"
    "Thank you for your message. Could you please check the status of order 111-1234567-1234567?\n"
    "Kind regards,\nTaro"
)
ANGRY_EN = "This is UNACCEPTABLE!!! Why did you suspend my account? Fix this now or I will sue you idiots."


# --- The hand-counted history of the report (its table: tests/unit/test_report.py's docstring)

POLITE = "いつもお世話になっております。ご連絡ありがとうございます。"
RUDE = "バカ野郎"


def marketplace_buyer(n: str) -> str:
    return f"{n}@marketplace.amazon.co.jp"


def write_history(box: Mailbox) -> dict[str, str]:
    """The history of the module docstring; letter → Message-ID."""
    m: dict[str, str] = {}
    m["A"] = box.inbound(marketplace_buyer("aaaa"), "質問A", hours_ago=23)
    m["B"] = box.inbound(marketplace_buyer("bbbb"), "質問B", hours_ago=50)
    m["rB"] = box.outbound(marketplace_buyer("bbbb"), "Re: 質問B", hours_ago=(50 * 3600 - 24 * 3600 - 60) / 3600, in_reply_to=m["B"])
    m["C"] = box.inbound(marketplace_buyer("cccc"), "質問C", hours_ago=40)
    m["D"] = box.inbound(marketplace_buyer("dddd"), "質問D", hours_ago=30)
    m["aD"] = box.outbound(marketplace_buyer("dddd"), "Re: 質問D", hours_ago=29.5, in_reply_to=m["D"], auto=True, body="自動返信です。")
    m["rD"] = box.outbound(marketplace_buyer("dddd"), "Re: 質問D", hours_ago=20, in_reply_to=m["D"])
    m["E"] = box.inbound(marketplace_buyer("eeee"), "週末の質問", hours_ago=143)  # Sat 2026-11-14 10:00 JST
    m["rE"] = box.outbound(marketplace_buyer("eeee"), "Re: 週末の質問", hours_ago=95, in_reply_to=m["E"])  # Mon 10:00
    m["F"] = box.inbound(SUPPORT, "ケースID: 12345678901", hours_ago=100, body="ケースID: 12345678901")
    m["rF"] = box.outbound(SUPPORT, "Re: ケースID: 12345678901", hours_ago=99, in_reply_to=m["F"], body=RUDE)
    m["G"] = box.inbound(PERF, "アカウント健全性", hours_ago=60)
    m["S"] = box.inbound(marketplace_buyer("ssss"), "至急", hours_ago=20, body="12時間以内にご返信ください。")
    m["H"] = box.inbound(marketplace_buyer("hhhh"), "質問H", hours_ago=20 * 24)
    m["rH"] = box.outbound(marketplace_buyer("hhhh"), "Re: 質問H", hours_ago=20 * 24 - 2, in_reply_to=m["H"])
    m["I"] = box.inbound(marketplace_buyer("iiii"), "質問I", hours_ago=40 * 24)
    m["N"] = box.inbound("no-reply@amazon.co.jp", "ご注文の発送", hours_ago=5)
    return m


def load_history(tmp_path: Path, url: str) -> tuple[Engine, dict[str, int]]:
    box = Mailbox(tmp_path / "mail")
    mids = write_history(box)
    engine, _ = box.load(url)
    rows = by_message_id(engine)
    ids = {letter: rows[mid].id for letter, mid in mids.items()}
    with engine.begin() as conn:
        dismiss(conn, ids["C"], NOW - timedelta(hours=30), "answered by phone")
    return engine, ids


def figures_of(engine: Engine, **kw: Any) -> Figures:
    with engine.connect() as conn:
        return compute_figures(conn, default_config(), NOW, **kw)


def response_counts(row: Any) -> dict[str, Any]:
    r = row.response
    return {
        k: getattr(r, k)
        for k in ("needing_reply", "answered_on_time", "answered_late", "no_response", "within_deadline", "deadline_missed")
    }


def check_hand_counts(engine: Engine, ids: dict[str, int]) -> None:
    """Every figure of the docstring's table (used on both databases)."""
    fig = figures_of(engine)
    w7 = fig.window(7)
    assert w7 is not None
    assert response_counts(w7) == {"needing_reply": 5, "answered_on_time": 2, "answered_late": 2, "no_response": 1, "within_deadline": 2, "deadline_missed": 4}
    r = w7.response
    assert r.late_response_rate == pytest.approx(0.6)
    b_hours = 24 + 1 / 60
    assert r.avg_response_hours == pytest.approx((b_hours + 10 + 48 + 1) / 4)
    assert r.median_response_hours == pytest.approx(10 + 0.5 * (b_hours - 10))
    assert r.p90_response_hours == pytest.approx(b_hours + 0.7 * (48 - b_hours))
    assert r.within_deadline_share == pytest.approx(2 / 6)
    assert fig.categories == ("buyer", "account_health", "seller_support")
    by_cat = {c: fig.window(7, c) for c in fig.categories}
    assert response_counts(by_cat["buyer"]) == {"needing_reply": 3, "answered_on_time": 1, "answered_late": 2, "no_response": 0, "within_deadline": 1, "deadline_missed": 3}
    assert response_counts(by_cat["seller_support"]) == {"needing_reply": 1, "answered_on_time": 1, "answered_late": 0, "no_response": 0, "within_deadline": 1, "deadline_missed": 0}
    assert response_counts(by_cat["account_health"]) == {"needing_reply": 1, "answered_on_time": 0, "answered_late": 0, "no_response": 1, "within_deadline": 0, "deadline_missed": 1}
    health = by_cat["account_health"]
    assert health is not None and health.response.avg_response_hours is None and health.response.late_response_rate == 1.0
    w30 = fig.window(30)
    assert w30 is not None
    assert response_counts(w30)["needing_reply"] == 6 and w30.response.late_response_rate == pytest.approx(0.5)
    assert w30.response.median_response_hours == pytest.approx(10)
    assert w30.response.avg_response_hours == pytest.approx((b_hours + 10 + 48 + 1 + 2) / 5)
    assert w30.response.p90_response_hours == pytest.approx(b_hours + 0.6 * (48 - b_hours))
    w90 = fig.window(90)
    assert w90 is not None
    assert (response_counts(w90)["needing_reply"], response_counts(w90)["no_response"]) == (7, 2)
    assert w90.response.late_response_rate == pytest.approx(4 / 7)

    # tone of sent replies: B D E F in 7 days (the auto-reply left out), H too in 30
    polite, _ = sent_tone(POLITE, default_config())
    rude, verdict = sent_tone(RUDE, default_config())
    assert verdict == "block" and polite is not None and rude is not None
    assert w7.tone is not None and (w7.tone.sent, w7.tone.scored, w7.tone.block, w7.tone.review) == (4, 4, 1, 0)
    assert w7.tone.avg_score == pytest.approx((3 * polite + rude) / 4)
    assert w30.tone is not None and w30.tone.sent == 5
    assert by_cat["buyer"] is not None and by_cat["buyer"].tone is None

    # counts now: check's own states (A due soon, G and S and I critical)
    assert (fig.counts.awaiting, fig.counts.critical, fig.counts.late, fig.counts.due_soon, fig.counts.pending) == (4, 3, 0, 1, 0)

    # the score, by hand: week 0 holds B, E (after due: 0.5), D, F (within: 1), G, S (past
    # critical: 0); week 2 holds H (1); week 5 holds I (0).
    weight = 6 + DECAY**2 + DECAY**5
    response = (0.5 + 0.5 + 1 + 1 + DECAY**2) / weight
    tone = (3 * polite / 100 + 0 + DECAY**2 * polite / 100) / (4 + DECAY**2)  # block: 0
    parts = fig.score.overall
    assert parts.response == pytest.approx(response)
    assert parts.tone == pytest.approx(tone)
    assert parts.score == round(100 * (0.8 * response + 0.2 * tone))
    assert fig.score.accounts["shop"].score == parts.score
    assert dict(parts.classes) == {"within": 3, "after_due": 2, "after_critical": 0, "waiting_late": 0, "waiting_critical": 3}
    # answering A now (due soon) adds a message within its deadline; G moves 0 → 0.25
    lifts = {x.id: x for x in fig.score.lifts}
    assert set(lifts) == {ids["A"], ids["G"], ids["S"], ids["I"]}
    assert lifts[ids["A"]].overall_by > lifts[ids["G"]].overall_by > 0
    assert fig.score.lifts[0].id == ids["A"]

    # weekly trend: 12 rows, oldest first, the newest equal to the 7-day window
    assert len(fig.weeks) == 12 and fig.weeks[-1].end == NOW
    assert response_counts(fig.weeks[-1]) == response_counts(w7) and fig.weeks[-1].response.median_response_hours == pytest.approx(r.median_response_hours)
    assert response_counts(fig.weeks[-3])["answered_on_time"] == 1  # H, 20 days ago
    # histogram over 90 days (4 h bins): F at 1 h, H at 2 h, D at 10 h, B at 24 h 1 min, E at 48 h
    counts = fig.histogram.counts
    assert (counts[0], counts[2], counts[6], counts[12], sum(counts)) == (2, 1, 1, 1, 5)


#: the issue's keys, in order, then ours
ROW_KEYS = [
    "days", "start", "end", "category", "needing_reply", "answered_on_time", "answered_late", "no_response",
    "late_response_rate", "avg_response_hours", "median_response_hours", "p90_response_hours",
    "within_deadline", "deadline_missed", "within_deadline_share",
    "sent_replies", "tone_avg", "tone_review", "tone_block",
]


# ----------------------------------------------------------- Its business-hours figures

def check_business_counts(engine: Engine) -> None:
    """The business figures of the history, target 8 h (used on both databases)."""
    config = replace(default_config(), timezone="Asia/Tokyo", schedule=ScheduleConfig(target_hours=8))
    with engine.connect() as conn:
        figures = compute_figures(conn, config, NOW)
    got = {(r.days, r.category): r.business for r in figures.windows}
    assert got[(7.0, "all")] == BusinessFigures(4, 3.5, 2.5, 3, 2, 0.6)
    b = got[(7.0, "buyer")]
    assert b is not None and (b.answered, b.within_target, b.target_missed) == (3, 2, 1)
    assert b.avg_response_hours == pytest.approx(14 / 3) and b.median_response_hours == 4.0
    assert got[(90.0, "all")] == BusinessFigures(5, 2.8, 1.0, 4, 3, 4 / 7)
    assert figures.business_target_hours == 8


# ------------------------------ Mail delivered to a real Dovecot, and hygiene run on it

IMAP_BUYER = "k4m2x9q1@marketplace.amazon.co.jp"


def eml(
    sender: str,
    to: str,
    subject: str,
    body: str = "本文です。",
    *,
    mid: str,
    hours_ago: float = 5,
    charset: str = "utf-8",
    extra: str = "",
    content_type: str = "text/plain",
) -> bytes:
    date = email.utils.format_datetime(NOW - timedelta(hours=hours_ago))
    subject_header = email.header.Header(subject, charset).encode()
    head = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject_header}\r\nDate: {date}\r\n"
        f"Message-ID: <{mid}>\r\n{extra}MIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}; charset={charset}\r\n"
    )
    if charset.lower() == "iso-2022-jp":
        return (head + "Content-Transfer-Encoding: 7bit\r\n\r\n").encode() + body.encode("iso-2022-jp") + b"\r\n"
    return (head + "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + body.encode(charset) + b"\r\n"


def stored(url: str) -> list[Any]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(Message).order_by(Message.folder, Message.uid)))
    finally:
        engine.dispose()


def run_poll(config_path: Path, now: datetime = NOW, **kwargs: Any) -> Any:
    config = load_config(config_path, required=True)
    engine = open_database(config.database.url)
    try:
        kwargs.setdefault("match", True)
        return poll_account(engine, config, config.accounts[0], now=now, **kwargs)
    finally:
        engine.dispose()


def db_url(config_path: Path) -> str:
    return load_config(config_path, required=True).database.url


NOW_ENV = {"HYGIENE_NOW": NOW.isoformat()}


def numbered_buyer(n: int) -> str:
    return f"buyer{n:04d}@marketplace.amazon.co.jp"


def run_check(*args: str) -> Result:
    from hygiene.cli import cli

    return CliRunner().invoke(cli, ["check", *args], env=NOW_ENV)

"""The demo's generated history (hygiene.demo.history): deterministic, 12 weeks of every
category, and what it means to be (on time, late, never answered, dismissed) is what the real
ingest path and reply matching make of it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hygiene.cli import cli
from hygiene.clock import zone
from hygiene.config import Config, DatabaseConfig
from hygiene.demo.history import (
    DEFAULT_SEED,
    DEMO_NOW,
    DISMISSED,
    INBOUND_STOP,
    LATE,
    NO_REPLY_NEEDED,
    NO_RESPONSE,
    ON_TIME,
    REPLY_STOP,
    History,
    apply_marks,
    generate_history,
    load_history,
    weekly_counts,
)
from hygiene.mail.parse import parse_message
from hygiene.store.db import open_database
from hygiene.store.models import Message
from hygiene.threads import match_replies

CATEGORIES = {"buyer", "account_health", "seller_support", "notification"}


@pytest.fixture(scope="module")
def history() -> History:
    return generate_history()


def stored(history: History, tmp_path: Path) -> dict[str, Any]:
    """The history imported, matched and marked as ``hygiene demo`` does: Message-ID → row."""
    config = Config(path=None, database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'h.db'}"), timezone="Asia/Tokyo")
    engine = open_database(config.database.url)
    try:
        stats = load_history(engine, config, history, now=history.now.astimezone(UTC), account="demo")
        assert (stats.new, stats.skipped, stats.parse_notes, stats.failed) == (len(history.messages), 0, 0, 0)
        with engine.begin() as conn:
            match_replies(conn, "demo", tz=zone("Asia/Tokyo"))
            ids = {(mid or "").strip("<>"): i for mid, i in conn.execute(select(Message.message_id, Message.id))}
            replied, dismissed = apply_marks(conn, history, ids)
            assert replied + dismissed == len(history.marks)
        with engine.connect() as conn:
            return {row.message_id.strip("<>"): row for row in conn.execute(select(Message))}
    finally:
        engine.dispose()


def utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_bytes(history: History) -> None:
    again = generate_history(DEFAULT_SEED)
    assert [m.data for m in again.messages] == [m.data for m in history.messages]
    assert again.marks == history.marks
    assert again.fingerprint() == history.fingerprint()
    assert generate_history(DEFAULT_SEED + 1).fingerprint() != history.fingerprint()


def test_same_bytes_in_another_process() -> None:
    """Nothing depends on hash randomisation or the machine's clock or timezone."""
    code = "from hygiene.demo.history import generate_history; print(generate_history().fingerprint())"
    prints = set()
    for hash_seed, tz in (("1", "UTC"), ("2", "America/New_York")):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "TZ": tz}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        prints.add(out.stdout.strip())
    assert prints == {generate_history().fingerprint()}


# --------------------------------------------------------------------------- contents


def test_twelve_weeks_of_every_category(history: History) -> None:
    assert history.now == DEMO_NOW and history.weeks == 12
    inbound = history.inbound
    assert 150 <= len(history.messages) <= 400
    start = DEMO_NOW - timedelta(weeks=12)
    assert min(m.at for m in history.messages) < start + timedelta(days=3)
    assert max(m.at for m in inbound) <= DEMO_NOW - INBOUND_STOP
    assert max(m.at for m in history.sent) <= DEMO_NOW - REPLY_STOP
    assert max(mark.at for mark in history.marks) <= DEMO_NOW - REPLY_STOP
    assert {m.category for m in inbound} == CATEGORIES
    weeks = weekly_counts(history)
    assert len(weeks) == 12 and all(w["buyer"] > 0 and w["sent"] > 0 for w in weeks)

    parsed = {m.message_id: parse_message(m.data) for m in history.messages}
    senders = {parsed[m.message_id].from_addr for m in inbound}
    assert {"seller-performance@amazon.co.jp", "seller-support@amazon.co.jp"} <= senders
    assert any(s.endswith("@marketplace.amazon.co.jp") for s in senders)
    assert any(s.endswith("@marketplace.amazon.com") for s in senders)
    assert any(s.startswith(("no-reply@", "donotreply@")) for s in senders)
    buyers = [s for s in senders if "@marketplace." in s]
    assert len(set(buyers)) == len(buyers) > 50  # random local parts, one per buyer
    subjects = " ".join(parsed[m.message_id].subject for m in inbound if m.category == "seller_support")
    assert "ケースID:" in subjects and "Case ID" in subjects
    bodies = [p.body_text for p in parsed.values()]
    assert any(b.isascii() for b in bodies) and any(not b.isascii() for b in bodies)  # English and Japanese
    raw = b"".join(m.data for m in history.messages)
    assert b"charset=ISO-2022-JP" in raw and b"quoted-printable" in raw and b"text/html" in raw

    auto = [m for m in history.sent if m.auto_reply]
    assert auto and any(m.subject.startswith("【自動返信】") for m in auto)
    assert {m.tone for m in history.sent} >= {"polite", "plain", "curt", "rude"}
    outcomes = Counter(m.outcome for m in inbound)
    assert set(outcomes) == {ON_TIME, LATE, NO_RESPONSE, DISMISSED, NO_REPLY_NEEDED}
    assert {mark.kind for mark in history.marks} == {"replied", "dismissed"}


def test_some_weeks_better_than_others(history: History) -> None:
    """A bad stretch (Silver Week, the October sale), then recovery."""

    def late_share(rows: list[dict[str, Any]]) -> float:
        late = sum(r[LATE] + r[NO_RESPONSE] for r in rows)
        return late / max(1, sum(r[ON_TIME] + r[LATE] + r[NO_RESPONSE] for r in rows))

    weeks = weekly_counts(history)
    early, bad, recent = late_share(weeks[:3]), late_share(weeks[3:8]), late_share(weeks[9:])
    assert bad > 0.35 and recent < 0.15 and early < 0.3
    assert bad > 2 * max(early, recent)
    bad_stretch = (DEMO_NOW - timedelta(weeks=9), DEMO_NOW - timedelta(weeks=4))
    rude = Counter(bad_stretch[0] <= m.at < bad_stretch[1] for m in history.sent if m.tone == "rude")
    assert rude[True] > rude[False]


# --------------------------------------------------------------------------- the real matching


@pytest.mark.parametrize("seed", [DEFAULT_SEED, 1, 7])
def test_real_matching_finds_what_the_history_means(seed: int, tmp_path: Path) -> None:
    history = generate_history(seed)
    rows = stored(history, tmp_path)
    needing = [m for m in history.inbound if m.outcome not in (NO_REPLY_NEEDED, DISMISSED)]
    for m in history.inbound:
        row = rows[m.message_id]
        assert row.category == m.category, m.subject
        assert bool(row.needs_reply) == (m.category != "notification")
        if m.outcome in (ON_TIME, LATE):
            assert m.reply_at is not None
            assert utc(row.replied_at) == m.reply_at.astimezone(UTC), (m.subject, m.via, row.reply_rule, row.reply_source)
            assert (m.reply_at - m.at > timedelta(hours=24)) == (m.outcome == LATE)
        elif m.outcome == DISMISSED:
            assert row.dismissed_at is not None and row.replied_at is None
        else:
            assert row.replied_at is None and row.dismissed_at is None, m.subject
    answered = [m for m in needing if m.outcome in (ON_TIME, LATE)]
    assert 0.85 <= len(answered) / len(needing) <= 0.99
    late = sum(m.outcome == LATE for m in needing) / len(needing)
    assert 0.15 <= late <= 0.5
    assert 1 <= sum(m.outcome == NO_RESPONSE for m in needing) <= 8
    rules = Counter(r.reply_rule or r.reply_source for r in rows.values() if r.replied_at is not None)
    assert {"references", "subject", "order_id", "case_id", "thread", "manual"} <= set(rules)

    # An auto-reply never answers: the messages it went to were answered later, or never.
    auto_ids = {rows[m.message_id].id for m in history.sent if m.auto_reply}
    assert all(rows[m.message_id].auto_reply for m in history.sent if m.auto_reply)
    assert not any(r.reply_message_id in auto_ids for r in rows.values())
    # The tone of what was sent is scored on the way in: polite and rude both show.
    verdicts = Counter(r.tone_verdict for r in rows.values() if r.direction == "outbound" and not r.auto_reply)
    assert verdicts["ok"] > 50 and verdicts["review"] + verdicts["block"] >= 3


# --------------------------------------------------------------------------- the demo


def test_demo_runs_with_the_history(isolated_home: Path, history: History) -> None:
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["demo"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    print(f"hygiene demo with {len(history.messages)} generated messages: {elapsed:.2f} s in process")
    assert f"{len(history.messages)} are 12 weeks of history from 2026-08-28 (generated, seed {DEFAULT_SEED})" in result.output
    for never in (m for m in history.inbound if m.outcome == NO_RESPONSE):  # in the check list, critical
        block = result.output.split(never.subject, 1)[0].rsplit("\n\n", 1)[-1]
        assert block.startswith("CRITICAL  overdue by "), block
    assert not any((isolated_home / ".local" / "share").rglob("*.db"))
    assert elapsed < 10

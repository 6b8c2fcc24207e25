"""The sync's fast paths store exactly what the plain ones would: the RFC 3501 INTERNALDATE
reader against imapclient's parser, SQLite's direct insert against SQLAlchemy's insert of the
same rows (with the per-batch time formatting), and cached tone scores of template replies
against scoring each one afresh."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imapclient.datetime_util import parse_to_datetime
from sqlalchemy import insert

from hygiene.config import default_config
from hygiene.mail.imap_source import _aware, internal_date
from hygiene.mail.ingest import RawMessage, _scored
from hygiene.mail.sync import build_rows
from hygiene.store.db import open_database
from hygiene.store.messages import _column_key_rows, store_rows
from hygiene.store.tables import messages

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SHOP = "shop@example.jp"


def _read(text: bytes) -> tuple[str, Any]:
    try:
        return "ok", _aware(internal_date(text))
    except (ValueError, OverflowError) as exc:
        return "error", type(exc)


def _imapclient(text: bytes) -> tuple[str, Any]:
    try:
        return "ok", _aware(parse_to_datetime(text, normalise=False))
    except (ValueError, OverflowError) as exc:
        return "error", type(exc)


@settings(max_examples=400)
@given(
    day=st.integers(0, 40),
    month=st.sampled_from(["Jan", "feb", "DEC", "Sep", "Foo"]),
    year=st.integers(0, 9999),
    hms=st.tuples(st.integers(0, 25), st.integers(0, 61), st.integers(0, 61)),
    sign=st.sampled_from("+-"),
    zone=st.tuples(st.integers(0, 30), st.integers(0, 70)),
    padded=st.booleans(),
)
def test_internal_date_reads_as_imapclient(
    day: int, month: str, year: int, hms: tuple[int, int, int], sign: str, zone: tuple[int, int], padded: bool
) -> None:
    text = f"{' ' if padded else ''}{day:02d}-{month}-{year:04d} {hms[0]:02d}:{hms[1]:02d}:{hms[2]:02d} {sign}{zone[0]:02d}{zone[1]:02d}"
    assert _read(text.encode()) == _imapclient(text.encode())


def test_internal_date_odd_forms_fall_back() -> None:
    for text in (b"17-Jul-1996 02:44:25 -0700", b" 1-Jan-2026 00:00:00 +0900", b"Sat, 8 May 2010 16.03.09 +0200", b"01-Jan-0001 00:00:00 +0000"):
        assert _read(text) == _imapclient(text)


def _message(i: int, *, sent: bool) -> bytes:
    date = format_datetime(NOW - timedelta(minutes=7 * i))
    if sent:
        head = f"From: {SHOP}\r\nTo: buyer{i}@marketplace.amazon.co.jp\r\nIn-Reply-To: <m{i}@amazon>\r\n"
        # templates: the same few answers again and again, one of them rude
        body = ("ご連絡ありがとうございます。確認いたします。", "Thanks, we will check.", "This is your fault, not ours. Stop emailing.")[i % 3]
    else:
        head = f"From: {'seller-performance@amazon.co.jp' if i % 2 else f'buyer{i}@marketplace.amazon.com'}\r\nTo: {SHOP}\r\n"
        body = f"注文番号 503-{i:07d}-0000000 の件。72時間以内にご返信ください。"
    return (
        f"{head}Subject: {Header('商品について', 'utf-8').encode()}\r\nDate: {date}\r\nMessage-ID: <x{i}{sent}@t>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"{body}\r\n"
    ).encode()


def _rows() -> list[dict[str, Any]]:
    config = default_config()
    jst = ZoneInfo("Asia/Tokyo")
    raws = [
        RawMessage(
            data=_message(i, sent=sent),
            folder="Sent" if sent else "INBOX",
            role="sent" if sent else "inbox",
            uidvalidity=1,
            uid=i + 1,
            # the same instants in two zones, and many repeated: the batch formats each once
            internal_date=(NOW - timedelta(minutes=i // 3)).astimezone(jst if i % 2 else UTC),
            flags=("\\Seen", "\\Answered") if i % 4 == 0 else (),
        )
        for sent in (False, True)
        for i in range(60)
    ]
    rows = [r for r in build_rows(raws, "jp", config, NOW, frozenset({SHOP})) if not r.get("_skip")]
    assert len(rows) == 120
    return rows


def _stored(path: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(path) as conn:
        columns = [c for c in messages.c.keys() if c != "id"]
        return conn.execute(f"SELECT {', '.join(columns)} FROM messages ORDER BY folder, uid").fetchall()


def test_direct_insert_stores_what_sqlalchemy_stores(tmp_path: Path) -> None:
    rows = _rows()
    fast = open_database(f"sqlite:///{tmp_path / 'fast.db'}")
    with fast.begin() as conn:
        assert store_rows(conn, rows) == (120, 0)
    plain = open_database(f"sqlite:///{tmp_path / 'plain.db'}")
    with plain.begin() as conn:
        conn.execute(insert(messages), _column_key_rows(rows))
    fast.dispose()
    plain.dispose()
    assert _stored(tmp_path / "fast.db") == _stored(tmp_path / "plain.db")


def test_template_replies_score_as_each_scored_afresh() -> None:
    from hygiene.quoting import own_text
    from hygiene.tone import check_tone

    _scored.cache_clear()
    sent = [r for r in _rows() if r["direction"] == "outbound"]
    assert len(sent) == 60 and _scored.cache_info().hits >= 57  # three templates, scored once each
    verdicts = set()
    for row in sent:
        result = check_tone(own_text(row["body_text"])[:20_000])
        assert (row["tone_score"], row["tone_verdict"]) == (float(result.score), result.verdict)
        verdicts.add(result.verdict)
    assert len(verdicts) > 1  # the rude template is told apart from the polite ones


def test_parse_workers_follow_the_environment_else_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from hygiene.mail import sync

    monkeypatch.setenv(sync.PARSE_WORKERS_ENV, "3")
    assert sync.parse_workers() == 3
    monkeypatch.setenv(sync.PARSE_WORKERS_ENV, "0")
    assert sync.parse_workers() == 0 and sync._parse_pool() is None  # parsed in the sync's own process
    monkeypatch.delenv(sync.PARSE_WORKERS_ENV)
    monkeypatch.setattr(sync.os, "sched_getaffinity", lambda _pid: {0, 1})
    assert sync.parse_workers() == 0  # two cores: no workers
    monkeypatch.setattr(sync.os, "sched_getaffinity", lambda _pid: {0, 1, 2, 3})
    assert sync.parse_workers() == sync.PARALLEL_WORKERS

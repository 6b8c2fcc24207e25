"""Arbitrary bytes through parse → classify → store, on SQLite and a real PostgreSQL (issue 7).

Messages are generated with arbitrary bytes in every header position (From display name and
address, To, Cc, Subject, Message-ID, In-Reply-To, References, Date, Content-Type and its
charset, Content-Transfer-Encoding) and in the body (NUL, raw 8-bit, lone CR, invalid UTF-8,
ISO-2022-JP escapes cut in half, broken encoded-words, multipart with broken parts), most of
them from an address a default rule keeps. Properties, all the way to the database:

- ``build_row_safely`` and ``store_batch`` (and ``import_paths``) never raise;
- every message is either stored (a row with its fingerprint exists, once) or skipped by a
  classification rule (``build_row`` itself says no rule keeps it);
- a message from a kept address with a harmless display name is never skipped;
- stored text reads back exactly as it was handed to the database: valid UTF-8, no NUL, no
  lone surrogate, so every later reader (``check``, ``show``, JSON output) can use it;
- ``storable`` is enough: the database refuses no row (nothing needs the salvage path).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from hygiene.config import DatabaseConfig, default_config
from hygiene.mail.importer import import_paths
from hygiene.mail.ingest import RawMessage, build_row, build_row_safely, fingerprint
from hygiene.store.db import open_database
from hygiene.store.messages import store_batch
from hygiene.store.models import Message

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
SHOP = "seller@example.jp"
#: addresses a default classification rule keeps (config.DEFAULT_RULES)
KEPT = [
    b"k4m2x9q1@marketplace.amazon.co.jp",
    b"abc@marketplace.amazon.com",
    b"seller-performance@amazon.co.jp",
    b"seller-support@amazon.co.jp",
    b"account-health-jp@amazon.co.jp",
    b"no-reply@amazon.co.jp",
    b"donotreply@sellercentral.amazon.com",
]
#: text columns of a message row (what must read back readable and unchanged)
TEXT_COLUMNS = (
    "message_id", "in_reply_to", "references", "from_name", "from_addr", "to_addrs", "cc_addrs",
    "subject", "flags", "body_text", "parse_note", "direction", "category", "tone_verdict",
)
SUITE = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

#: pieces that break decoders and parsers, mixed with arbitrary bytes
NASTY = [
    b"\x00", b"\r", b"\n", b"\r\n", b"\r\n ", b"\t", b" ", b"\xff", b"\xfe", b"\x80", b"\xc0\x80",
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b"\xe3\x81",  # UTF-8 cut mid-character
    "日本語".encode(), "返品".encode("shift_jis"), "注文".encode("euc_jp"),
    b"\x1b$B", b"\x1b$B$3$s", b"\x1b(B", b"\x1b(J", b"\x1b$", b"\x0e", b"\x0f",  # ISO-2022-JP, cut
    b"=?utf-8?b?", b"=?iso-2022-jp?B?GyRCJDMbKEI", b"=?shift_jis?q?=82=A0?=", b"=?x-bogus?q?a?=", b"?=",
    b'"', b"<", b">", b"@", b",", b";", b":", b"\\", b"(", b")", b"=", b"\x1b[2J", b"\xe2\x80\xae",
]


def mangled(max_parts: int = 8) -> st.SearchStrategy[bytes]:
    piece = st.one_of(st.sampled_from(NASTY), st.binary(max_size=6))
    return st.lists(piece, max_size=max_parts).map(b"".join)


def position(normal: bytes) -> st.SearchStrategy[bytes]:
    """A header value: as a sender would write it, or arbitrary bytes, or a broken mix."""
    return st.one_of(st.just(normal), st.binary(max_size=40), mangled(), st.tuples(st.just(normal), mangled(4)).map(b"".join))


DATES = [
    b"Thu, 19 Nov 2026 10:00:00 +0900",
    b"Fri, 31 Dec 9999 23:59:59 -1200",  # past the end of time once in UTC
    b"Mon, 1 Jan 0001 00:00:00 +1400",  # before its start
    b"Thu, 01 Jan 1970 00:00:00 +0000",
    b"31 Feb 2026 25:61:61 +9999",
    b"2026-11-19T10:00:00 JST",
    b"",
]
CHARSETS = [b"utf-8", b"iso-2022-jp", b"ISO-2022-JP", b"shift_jis", b"euc-jp", b"us-ascii", b"utf-7", b"x-unknown", b'"utf-8"', b""]
ENCODINGS = [b"7bit", b"8bit", b"binary", b"base64", b"quoted-printable", b"x-uuencode", b"BASE64 ", b""]


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "mangled", "jis-cut", "text"]))
    if kind == "bytes":
        return draw(st.binary(max_size=400))
    if kind == "mangled":
        return draw(mangled(40))
    text = draw(st.text(max_size=60)) + "お問い合わせありがとうございます。注文番号 503-1234567-7654321"
    if kind == "jis-cut":
        data = text.encode("iso-2022-jp", "replace")
        return data[: draw(st.integers(0, len(data)))]  # escapes cut anywhere, maybe mid-sequence
    return text.encode(draw(st.sampled_from(["utf-8", "utf-16", "shift_jis", "euc_jp"])), "replace")


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """One message's bytes, plus what the test needs to know about how it was made."""
    kept = draw(st.integers(0, 9)) < 8  # mostly mail a default rule keeps
    address = draw(st.sampled_from(KEPT)) if kept else draw(position(b"news@shop.example.com"))
    name = draw(st.one_of(st.just(b"Amazon"), st.just("アマゾン".encode()), st.binary(max_size=20), mangled(5)))
    content_type = draw(st.sampled_from([b"text/plain", b"text/html", b"multipart/mixed", b"multipart/alternative", b"application/octet-stream"]) | st.binary(max_size=12))
    charset = draw(st.sampled_from(CHARSETS) | mangled(3))
    cte = draw(st.sampled_from(ENCODINGS) | mangled(3))
    body = draw(bodies())
    if content_type.startswith(b"multipart/"):
        content_type += b'; boundary="b1"'
        parts = []
        for _ in range(draw(st.integers(0, 3))):
            parts.append(
                b"--b1\r\nContent-Type: " + draw(st.sampled_from([b"text/plain", b"text/html", b"message/rfc822"]))
                + b"; charset=" + draw(st.sampled_from(CHARSETS) | mangled(2))
                + b"\r\nContent-Transfer-Encoding: " + draw(st.sampled_from(ENCODINGS)) + b"\r\n\r\n" + draw(bodies()) + b"\r\n"
            )
        body = b"".join(parts) + draw(st.sampled_from([b"--b1--\r\n", b"--b1", b""]))
    headers = [
        b"From: " + name + b" <" + address + b">",
        b"To: " + draw(position(SHOP.encode())),
        b"Cc: " + draw(position(b"cs@amazon.co.jp")),
        b"Subject: " + draw(position("【重要】アカウント健全性について".encode())),
        b"Message-ID: " + draw(position(b"<m1@amazon.co.jp>")),
        b"In-Reply-To: " + draw(position(b"<r0@example.jp>")),
        b"References: " + draw(position(b"<a@x> <b@y>")),
        b"Date: " + draw(st.sampled_from(DATES) | position(DATES[0])),
        b"MIME-Version: 1.0",
        b"Content-Type: " + content_type + b"; charset=" + charset,
        b"Content-Transfer-Encoding: " + cte,
    ]
    present = [h for h in headers if h.startswith(b"From:") or draw(st.integers(0, 9)) > 0]
    eol = draw(st.sampled_from([b"\r\n", b"\r\n", b"\n"]))
    data = eol.join(present) + eol + eol + body
    harmless_name = not any(c in name for c in b'\r\n"<>@,;:\\()') and b"=?" not in name
    return {
        "data": data,
        "role": draw(st.sampled_from(["inbox", "inbox", "inbox", "sent"])),
        "flags": tuple(draw(st.lists(st.sampled_from(["\\Seen", "\\Answered", "\\Flagged", "$Junk", "$label1"]), max_size=3, unique=True))),
        # the From line is intact and names a kept address: no rule may skip it
        "must_keep": kept and harmless_name,
    }


def raw_of(m: dict[str, Any], uid: int) -> RawMessage:
    return RawMessage(data=m["data"], folder="INBOX" if m["role"] == "inbox" else "Sent", role=m["role"], uidvalidity=7, uid=uid, internal_date=NOW, flags=m["flags"])


def config(url: str) -> Any:
    from dataclasses import replace

    return replace(default_config(), database=DatabaseConfig(url=url))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = open_database(sqlite_url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def pg_engine(postgres_server: str) -> Iterator[Engine]:
    from tests.servers import create_pg_database

    engine = open_database(create_pg_database(postgres_server))
    try:
        yield engine
    finally:
        engine.dispose()


def readable(value: object) -> None:
    """Text every later reader can use: UTF-8 (no lone surrogate) without NUL."""
    if value is None:
        return
    assert isinstance(value, str)
    assert "\x00" not in value
    value.encode("utf-8")  # raises on a lone surrogate


def check_stored(engine: Engine, expected: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Every expected row is stored once, its text as it was handed over and readable."""
    with Session(engine) as session:
        stored = list(session.scalars(select(Message)))
    keys = [(m.folder, m.fingerprint) for m in stored]
    assert len(keys) == len(set(keys)), "a message stored twice"
    by_key = {(m.folder, m.fingerprint): m for m in stored}
    assert set(by_key) == set(expected)
    for key, row in expected.items():
        got = by_key[key]
        for column in TEXT_COLUMNS:
            value = getattr(got, column)
            readable(value)
            assert value == row[column], (column, value, row[column])
        assert got.uid == row["uid"] and got.category == row["category"]


def run_batch(engine: Engine, cfg: Any, batch: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(Message))
    own = frozenset({SHOP})
    rows: list[dict[str, Any]] = []
    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for uid, m in enumerate(batch, 1):
        raw = raw_of(m, uid)
        direct, _ = build_row(raw, "jp", cfg, NOW, own_addresses=own)  # the parser path raises nothing
        row = build_row_safely(raw, "jp", cfg, NOW, own)
        assert (row is None) == (direct is None)
        if row is None:
            assert not (m["must_keep"] and m["role"] == "inbox"), "mail from Amazon skipped"
            continue
        assert row["fingerprint"] == fingerprint(m["data"])
        for column in TEXT_COLUMNS:
            readable(row[column])
        rows.append(row)
        expected.setdefault((row["folder"], row["fingerprint"]), row)
    done = store_batch(engine, rows)
    assert done.salvaged == 0, "a storable row was refused by the database"
    assert done.new == len(expected) and done.new + done.existing == len(rows)
    check_stored(engine, expected)


@settings(SUITE, max_examples=100)
@given(batch=st.lists(messages(), min_size=1, max_size=5))
def test_arbitrary_mail_is_stored_readably_or_skipped_by_a_rule_sqlite(sqlite_engine: Engine, batch: list[dict[str, Any]]) -> None:
    run_batch(sqlite_engine, config(str(sqlite_engine.url)), batch)


@settings(SUITE, max_examples=40)
@given(batch=st.lists(messages(), min_size=1, max_size=5))
def test_arbitrary_mail_is_stored_readably_or_skipped_by_a_rule_postgresql(pg_engine: Engine, batch: list[dict[str, Any]]) -> None:
    run_batch(pg_engine, config(pg_engine.url.render_as_string(hide_password=False)), batch)


@settings(SUITE, max_examples=25)
@given(batch=st.lists(messages(), min_size=1, max_size=6))
def test_import_of_arbitrary_eml_files_stores_or_skips_each(engine: Engine, database_url: str, tmp_path_factory: pytest.TempPathFactory, batch: list[dict[str, Any]]) -> None:
    cfg = config(database_url)
    with engine.begin() as conn:
        conn.execute(delete(Message))
    folder = tmp_path_factory.mktemp("eml")
    expected: set[str] = set()
    skipped = 0
    for i, m in enumerate(batch):
        (folder / f"{i:03d}.eml").write_bytes(m["data"])
        raw = RawMessage(data=m["data"], folder="import", role="inbox", source="import")
        if build_row_safely(raw, "import", cfg, NOW, frozenset()) is None:
            skipped += 1
        else:
            expected.add(fingerprint(m["data"]))
    stats = import_paths(engine, cfg, [folder], now=NOW, batch_size=4)
    assert stats.failed == 0 and stats.skipped == skipped
    assert stats.new == len(expected) and stats.new + stats.existing + stats.skipped == len(batch)
    with Session(engine) as session:
        stored = list(session.scalars(select(Message)))
    assert sorted(m.fingerprint for m in stored) == sorted(expected)
    for message in stored:
        assert message.folder == "import" and message.source == "import"
        for column in TEXT_COLUMNS:
            readable(getattr(message, column))

"""The store contract, run against SQLite and a real PostgreSQL server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Index, MetaData, String, func, select

from hygiene.config import default_config
from hygiene.mail.importer import import_paths
from hygiene.store.db import (
    SCHEMA_HEAD,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    stored_revision,
    table_names,
)
from hygiene.store.messages import all_folder_states, save_folder_state, store_rows
from hygiene.store.models import Base, Message

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)


def row(fp: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "account": "jp",
        "folder": "INBOX",
        "uidvalidity": 1,
        "uid": 1,
        "fingerprint": fp,
        "source": "imap",
        "message_id": f"<{fp}@x>",
        "in_reply_to": None,
        "references": None,
        "from_name": "Amazon",
        "from_addr": "seller-performance@amazon.co.jp",
        "to_addrs": "shop@example.jp",
        "cc_addrs": None,
        "subject": "件名",
        "date_header": NOW,
        "internal_date": NOW,
        "received_at": NOW,
        "flags": "",
        "seen": False,
        "answered": False,
        "answered_seen_at": None,
        "direction": "inbound",
        "category": "account_health",
        "needs_reply": True,
        "auto_reply": False,
        "body_text": "本文",
        "size": 10,
        "parse_note": None,
        "raw": None,
        "stored_at": NOW,
    }
    base.update(over)
    return base


def test_migrations_create_the_models_schema(database_url: str) -> None:
    assert stored_revision(make_engine(database_url)) is None  # nothing there yet
    engine = open_database(database_url)
    assert current_revision(engine) == head_revision(engine)
    # the fast check that skips Alembic on every command must know the newest revision
    assert stored_revision(engine) == SCHEMA_HEAD == head_revision(engine)
    assert {"folders", "messages", "alembic_version"} <= set(table_names(engine))
    assert schema_drift(engine, Base.metadata) == [], "migrations and models disagree"
    # Opening again is a no-op, not a second migration.
    open_database(database_url)
    assert current_revision(make_engine(database_url)) == head_revision(engine)


def schema_drift(engine: Engine, metadata: MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match ``metadata``:
    tables, columns, types, nullability, server defaults, indexes, unique and foreign keys."""
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        return list(compare_metadata(context, metadata))


def test_schema_drift_check_sees_types_nullability_and_indexes(database_url: str) -> None:
    """The check above can fail: a model that differs from the migrated schema in a column's
    type, its nullability or an index is reported as drift."""
    engine = open_database(database_url)
    changed = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(changed)
    messages = changed.tables["messages"]
    messages.c.category.type = String(300)
    messages.c.subject.nullable = False
    Index("ix_messages_subject", messages.c.subject)
    changed.tables["thread_keys"].indexes.discard(
        next(ix for ix in changed.tables["thread_keys"].indexes if ix.name == "ix_thread_keys_message_id")
    )
    ops = []
    for op in schema_drift(engine, changed):
        for one in op if isinstance(op, list) else [op]:
            ops.append((one[0], one[3] if one[0].startswith("modify_") else one[1].name))
    assert sorted(ops) == [
        ("add_index", "ix_messages_subject"),
        ("modify_nullable", "subject"),
        ("modify_type", "category"),
        ("remove_index", "ix_thread_keys_message_id"),
    ]


def test_store_rows_dedups_and_refreshes_uids(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.begin() as conn:
        assert store_rows(conn, [row("a", uid=1), row("b", uid=2), row("a", uid=1)]) == (2, 1)
    # A UIDVALIDITY change brings the same bytes under new UIDs: no new rows, UIDs refreshed.
    with engine.begin() as conn:
        new, existing = store_rows(conn, [row("a", uid=11, uidvalidity=2, flags="\\Answered", answered=True)])
    assert (new, existing) == (0, 1)
    with engine.connect() as conn:
        stored = conn.execute(select(Message.uid, Message.uidvalidity, Message.answered).where(Message.fingerprint == "a")).one()
        assert tuple(stored) == (11, 2, True)
        assert conn.execute(select(func.count()).select_from(Message)).scalar() == 2


def test_times_round_trip_as_utc(database_url: str) -> None:
    engine = open_database(database_url)
    jst = NOW.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    with engine.begin() as conn:
        store_rows(conn, [row("t", received_at=jst + timedelta(hours=1))])
    with engine.connect() as conn:
        got = conn.execute(select(Message.received_at)).scalar_one()
    assert got == NOW + timedelta(hours=1)
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)


def test_folder_state_and_status_counts(database_url: str) -> None:
    engine = open_database(database_url)
    with engine.begin() as conn:
        save_folder_state(conn, "jp", "INBOX", role="inbox", uidvalidity=7, highest_uid=3, last_sync_at=NOW)
        save_folder_state(conn, "jp", "INBOX", highest_uid=5)
        store_rows(conn, [row("x"), row("y")])
    with engine.connect() as conn:
        states = all_folder_states(conn)
    assert [(s.name, s.uidvalidity, s.highest_uid, s.messages) for s in states] == [("INBOX", 7, 5, 2)]


def test_import_on_both_backends(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(
        b"From: x1@marketplace.amazon.co.jp\r\nTo: shop@example.jp\r\nSubject: question\r\n"
        b"Date: Thu, 19 Nov 2026 10:00:00 +0900\r\nMessage-ID: <q1@x>\r\n\r\nHello\r\n"
    )
    engine = open_database(database_url)
    first = import_paths(engine, default_config(), [tmp_path], now=NOW)
    second = import_paths(engine, default_config(), [tmp_path], now=NOW)
    assert (first.new, first.existing) == (1, 0)
    assert (second.new, second.existing) == (0, 1)


def test_a_bug_while_storing_is_raised_not_salvaged(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a refused value sends a batch down the row-by-row salvage path; anything else is a
    bug to see, not a message stored half-empty under a note blaming the database."""
    import hygiene.store.messages as store

    engine = open_database(database_url)
    real = store.store_rows

    def broken(conn: Any, rows: Any) -> tuple[int, int]:
        if not any(r.get("parse_note") for r in rows):  # a salvaged row would go through
            raise AttributeError("a bug")
        return real(conn, rows)

    monkeypatch.setattr(store, "store_rows", broken)
    with pytest.raises(AttributeError, match="a bug"):
        store.store_batch(engine, [row("bug")])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Message)).scalar() == 0

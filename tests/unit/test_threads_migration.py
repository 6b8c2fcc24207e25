"""Migrations 0002 (reply matching, deadlines, manual marks, tone history) from a 0001
database with data in it, and back; 0003 (keys re-made in the counterpart format)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import MetaData, inspect, text

from hygiene.store.db import current_revision, make_engine, upgrade
from hygiene.store.models import Base

NEW_COLUMNS = {
    "keyed_at", "stated_deadline_at", "stated_deadline_text", "replied_at", "reply_message_id",
    "reply_source", "reply_rule", "response_seconds", "manual_replied_at", "dismissed_at",
    "dismiss_reason", "tone_score", "tone_verdict",
}


def test_upgrade_from_0001_keeps_rows_then_downgrade(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine, "0001")
    stamp = datetime(2026, 11, 19, 1, 0, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (account, folder, fingerprint, source, received_at, flags, seen,"
                " answered, direction, category, needs_reply, auto_reply, body_text, size, stored_at)"
                " VALUES ('jp', 'INBOX', 'f1', 'imap', :t, '', 0, 0, 'inbound', 'buyer', 1, 0, 'hi', 2, :t)"
            ),
            {"t": stamp},
        )
    upgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    columns = {c["name"] for c in inspect(engine).get_columns("messages")}
    assert NEW_COLUMNS <= columns
    reflected = MetaData()
    reflected.reflect(engine)
    want = {c.name for c in Base.metadata.tables["thread_keys"].columns}
    assert {c.name for c in reflected.tables["thread_keys"].columns} == want
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body_text, keyed_at FROM messages")).one() == ("hi", None)

    from alembic import command

    from hygiene.store.db import alembic_config

    command.downgrade(alembic_config(engine), "0001")
    engine.dispose()
    engine = make_engine(sqlite_url)
    assert "thread_keys" not in inspect(engine).get_table_names()
    assert not NEW_COLUMNS & {c["name"] for c in inspect(engine).get_columns("messages")}
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 1


def test_0003_drops_the_old_keys_so_every_message_is_keyed_again(sqlite_url: str) -> None:
    """Message-ID keys changed format (they carry the counterpart now): keys from before must
    not linger, or a reply keyed the new way would never meet its message keyed the old way."""
    engine = make_engine(sqlite_url)
    upgrade(engine, "0002")
    stamp = datetime(2026, 11, 19, 1, 0, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO messages (account, folder, fingerprint, source, received_at, flags, seen,"
                " answered, direction, category, needs_reply, auto_reply, body_text, size, stored_at, keyed_at,"
                " message_id, from_addr)"
                " VALUES ('jp', 'INBOX', 'f1', 'imap', :t, '', 0, 0, 'inbound', 'buyer', 1, 0, 'hi', 2, :t, :t,"
                " '<q@a>', 'b@marketplace.amazon.co.jp')"
            ),
            {"t": stamp},
        )
        conn.execute(
            text("INSERT INTO thread_keys (message_id, account, direction, kind, key, at) VALUES (1, 'jp', 'inbound', 'mid', 'mid:q@a', :t)"),
            {"t": stamp},
        )
    upgrade(engine, "0003")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM thread_keys")).scalar() == 0
        assert conn.execute(text("SELECT keyed_at FROM messages")).scalar() is None

    from hygiene.threads import match_replies

    with engine.begin() as conn:
        assert match_replies(conn).keyed == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM thread_keys WHERE kind = 'mid'")).scalar() == "mid:q@a|b@marketplace.amazon.co.jp"
    engine.dispose()

"""Migration 0002 (reply matching, deadlines, manual marks, tone history) from a 0001
database with data in it, and back."""

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

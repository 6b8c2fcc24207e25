"""PostgreSQL session-level advisory locks (the poll lock of :mod:`hygiene.locks` on a shared
database): the SQL, kept in the store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text


def try_lock(conn: Connection, key: int) -> bool:
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
    conn.commit()
    return bool(got)


def holder(conn: Connection, key: int) -> Any:
    """The session holding the lock (``client_addr``, ``pid``), or None."""
    row = conn.execute(
        text("SELECT a.client_addr, a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
             "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :hi AND l.objid::bigint = :lo LIMIT 1"),
        {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
    ).first()
    conn.commit()
    return row


def unlock(conn: Connection, key: int) -> None:
    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    conn.commit()

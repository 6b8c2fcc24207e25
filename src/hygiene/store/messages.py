"""Writing and reading messages and folder sync state. Set-based: one statement per batch."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, StatementError

from hygiene.store.tables import folders as _FOLDERS
from hygiene.store.tables import messages as _TABLE
from hygiene.store.tables import waiting_marked_answered

log = logging.getLogger(__name__)


def _column_key_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    # The "references" attribute is stored in the message_references column.
    out = []
    for row in rows:
        r = dict(row)
        if "references" in r:
            r["message_references"] = r.pop("references")
        out.append(r)
    return out


def _sqlite_rows(rows: list[dict[str, Any]], columns: list[str]) -> list[list[Any]]:
    """Values as SQLAlchemy's UTCDateTime + SQLite DATETIME / BOOLEAN would store them:
    naive UTC text with microseconds, booleans 0/1."""
    from operator import itemgetter

    from sqlalchemy import Boolean

    from hygiene.store.tables import UTCDateTime

    times = [i for i, c in enumerate(columns) if isinstance(_TABLE.c[c].type, UTCDateTime)]
    flags = [i for i, c in enumerate(columns) if isinstance(_TABLE.c[c].type, Boolean)]
    get = itemgetter(*columns)
    out = []
    # A batch repeats its times (stored_at is the run's "now" in every row): each distinct
    # one is formatted once.
    text: dict[datetime, str] = {}
    for row in rows:
        values = list(get(row))
        for i in times:
            value = values[i]
            if value is not None:
                # (equal aware datetimes are the same instant: the same UTC text)
                done = text.get(value)
                if done is None:
                    done = text[value] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
                values[i] = done
        for i in flags:
            if values[i] is not None:
                values[i] = int(values[i])
        out.append(values)
    return out


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new message rows. On SQLite, straight through the driver's executemany: the
    per-value processing of SQLAlchemy's insert cost as much as fetching the mail in a big
    first sync. Same transaction, same stored format (tests read the rows back both ways)."""
    if conn.dialect.name != "sqlite":
        conn.execute(insert(_TABLE), rows)
        return
    columns = list(rows[0])
    known = set(_TABLE.c.keys())
    if any(c not in known for c in columns) or any(list(r) != columns for r in rows):
        conn.execute(insert(_TABLE), rows)  # unusual rows: let SQLAlchemy check them
        return
    sql = f"INSERT INTO {_TABLE.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    driver = conn.connection.driver_connection
    assert driver is not None
    driver.executemany(sql, _sqlite_rows(rows, columns))


def store_rows(conn: Connection, rows: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """Insert new messages; for ones already stored (same account, folder and bytes) refresh
    their UID, UIDVALIDITY and flags. Returns (new, existing). Caller owns the transaction."""
    if not rows:
        return 0, 0
    # Deduplicate within the batch too (the same file imported twice in one run).
    by_key: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        by_key.setdefault((row["account"], row["folder"], row["fingerprint"]), row)
    existing: dict[tuple[str, str, str], int] = {}
    stored_kind: dict[int, tuple[str, bool, str | None]] = {}
    groups: dict[tuple[str, str], list[str]] = {}
    for account, folder, fp in by_key:
        groups.setdefault((account, folder), []).append(fp)
    for (account, folder), fps in groups.items():
        for chunk_start in range(0, len(fps), 500):
            chunk = fps[chunk_start : chunk_start + 500]
            found = conn.execute(
                select(_TABLE.c.id, _TABLE.c.fingerprint, _TABLE.c.category, _TABLE.c.needs_reply, _TABLE.c.suspicious_reasons).where(
                    _TABLE.c.account == account,
                    _TABLE.c.folder == folder,
                    _TABLE.c.fingerprint.in_(chunk),
                )
            )
            for mid, fp, category, needs_reply, reasons in found:
                existing[(account, folder, fp)] = mid
                stored_kind[mid] = (category, bool(needs_reply), reasons)
    _reclassify(conn, [(existing[k], r) for k, r in by_key.items() if k in existing], stored_kind)
    new_rows = [r for k, r in by_key.items() if k not in existing]
    if new_rows:
        _insert(conn, _column_key_rows(new_rows))
    refresh = [
        {
            "b_id": existing[k],
            "b_uidvalidity": r["uidvalidity"],
            "b_uid": r["uid"],
            "b_flags": r["flags"],
            "b_seen": r["seen"],
            "b_answered": r["answered"],
        }
        for k, r in by_key.items()
        if k in existing and r.get("uid") is not None
    ]
    if refresh:
        from sqlalchemy import bindparam

        conn.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("b_id"))
            .values(
                uidvalidity=bindparam("b_uidvalidity"),
                uid=bindparam("b_uid"),
                flags=bindparam("b_flags"),
                seen=bindparam("b_seen"),
                answered=bindparam("b_answered"),
            ),
            refresh,
        )
    return len(new_rows), len(rows) - len(new_rows)


#: Failures of the database itself, not of a row: the batch is retried on the next run.
_ENVIRONMENTAL: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, DisconnectionError, MemoryError)
#: A row's value refused: by the database through SQLAlchemy (StatementError, DBAPIError's
#: base; a bind processor's ValueError arrives wrapped in it), by sqlite3 itself on the direct
#: insert path (an integrity or data error, an int too big: OverflowError), or by converting a
#: value for it (ValueError, TypeError).
_ROW_REFUSED: tuple[type[BaseException], ...] = (StatementError, sqlite3.Error, OverflowError, ValueError, TypeError)
#: Text of a salvaged row is kept up to this many characters.
SALVAGE_TEXT_LIMIT = 100_000


@dataclass
class BatchOutcome:
    new: int = 0
    existing: int = 0
    #: rows the database refused whole, stored again as minimal rows with a parse note
    salvaged: int = 0


def store_batch(
    engine: Engine,
    rows: Sequence[dict[str, Any]],
    *,
    progress: Callable[[Connection], None] | None = None,
) -> BatchOutcome:
    """Store a batch and its sync progress in one transaction; a row the database refuses
    never takes the batch down with it.

    When the batch fails because of a row (a value no backend can hold), the rows are stored
    one by one and the refused row again as a minimal one (see :func:`salvage_row`); the
    progress is written once they all are, so it never moves past a row not committed.
    Failures of the database itself (locked, gone, disk full) are raised: nothing of the
    batch is committed and the next run takes it again."""
    try:
        with engine.begin() as conn:
            new, existing = store_rows(conn, rows)
            if progress is not None:
                progress(conn)
        return BatchOutcome(new, existing)
    except _ENVIRONMENTAL:
        raise
    except _ROW_REFUSED as exc:  # a row's value: found below, row by row
        log.debug("a batch of %d rows was refused (%s); storing them one by one", len(rows), exc.__class__.__name__)
    out = BatchOutcome()
    for row in rows:
        try:
            with engine.begin() as conn:
                new, existing = store_rows(conn, [row])
        except _ENVIRONMENTAL:
            raise
        except _ROW_REFUSED as exc:  # this row: keep what the database takes
            log.debug("%s UID %s: the database refused the row (%s); stored minimal", row.get("folder"), row.get("uid"), exc.__class__.__name__)
            with engine.begin() as conn:  # a refusal here is the database's, not the row's: raised
                new, existing = store_rows(conn, [salvage_row(row, exc)])
            out.salvaged += 1
        out.new += new
        out.existing += existing
    if progress is not None:
        with engine.begin() as conn:
            progress(conn)
    return out


#: Columns a salvaged row keeps as they were: numbers, times, flags and classification.
_SALVAGE_KEEP = (
    "account", "folder", "uidvalidity", "uid", "fingerprint", "source", "date_header",
    "internal_date", "received_at", "seen", "answered", "answered_seen_at", "direction",
    "category", "needs_reply", "auto_reply", "size", "stored_at", "tone_score", "tone_verdict",
)


def salvage_row(row: dict[str, Any], exc: BaseException) -> dict[str, Any]:
    """The row reduced to what any database stores: its numbers, times and classification
    as they were (so its deadline still counts), its text as ASCII with backslash escapes
    (``\\xff``, ``\\u3042``), NUL removed, at most SALVAGE_TEXT_LIMIT characters each, and a
    parse note saying why."""
    out: dict[str, Any] = {key: row.get(key) for key in _SALVAGE_KEEP}
    for key, value in row.items():
        if key in out or key == "raw":
            continue
        if isinstance(value, str):
            value = value.replace("\x00", "")[:SALVAGE_TEXT_LIMIT]
            value = value.encode("ascii", "backslashreplace").decode("ascii")
        out[key] = value
    out["raw"] = None
    out["flags"] = str(out.get("flags") or "").encode("ascii", "backslashreplace").decode("ascii")
    note = f"the database refused this message ({exc.__class__.__name__}); its text is kept with backslash escapes"
    out["parse_note"] = f"{out['parse_note']}; {note}" if out.get("parse_note") else note
    return out


def _reclassify(conn: Connection, seen_again: list[tuple[int, dict[str, Any]]], stored: dict[int, tuple[str, bool, str | None]]) -> None:
    """A stored message read again (``poll --full``, a rescan, a second import) takes the
    classification of today's rules; one whose category changed is keyed again, since its
    thread keys and stated deadline depend on it. Manual marks and replies stay."""
    from sqlalchemy import bindparam, delete

    from hygiene.store.tables import thread_keys

    changed = [
        {"b_id": mid, "b_category": r["category"], "b_needs_reply": r["needs_reply"], "b_reasons": r.get("suspicious_reasons")}
        for mid, r in seen_again
        if "category" in r and stored[mid] != (r["category"], bool(r["needs_reply"]), r.get("suspicious_reasons"))
    ]
    if not changed:
        return
    conn.execute(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"))
        .values(
            category=bindparam("b_category"),
            needs_reply=bindparam("b_needs_reply"),
            suspicious_reasons=bindparam("b_reasons"),
            keyed_at=None,
        ),
        changed,
    )
    ids = [c["b_id"] for c in changed]
    for start in range(0, len(ids), 500):
        conn.execute(delete(thread_keys).where(thread_keys.c.message_id.in_(ids[start : start + 500])))


@dataclass
class FolderState:
    account: str
    name: str
    role: str
    uidvalidity: int | None
    highest_uid: int
    highestmodseq: int | None
    last_sync_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    messages: int = 0


def folder_state(conn: Connection, account: str, name: str) -> FolderState | None:
    table = _FOLDERS
    row = conn.execute(select(table).where(table.c.account == account, table.c.name == name)).first()
    return None if row is None else _to_state(row)


def _to_state(f: Any, messages: int = 0) -> FolderState:
    return FolderState(
        account=f.account,
        name=f.name,
        role=f.role,
        uidvalidity=f.uidvalidity,
        highest_uid=f.highest_uid or 0,
        highestmodseq=f.highestmodseq,
        last_sync_at=f.last_sync_at,
        last_error=f.last_error,
        last_error_at=f.last_error_at,
        messages=messages,
    )


def save_folder_state(conn: Connection, account: str, name: str, **values: Any) -> None:
    """Create or update a folder's sync state (only the given fields change)."""
    table = _FOLDERS
    done = conn.execute(
        update(table).where(table.c.account == account, table.c.name == name).values(**values)
    )
    if done.rowcount == 0:
        values.setdefault("role", "inbox")
        values.setdefault("highest_uid", 0)
        conn.execute(insert(table).values(account=account, name=name, **values))


def all_folder_states(conn: Connection) -> list[FolderState]:
    counts = dict(
        ((a, f), n)
        for a, f, n in conn.execute(
            select(_TABLE.c.account, _TABLE.c.folder, func.count()).group_by(_TABLE.c.account, _TABLE.c.folder)
        )
    )
    states = []
    seen: set[tuple[str, str]] = set()
    table = _FOLDERS
    for f in conn.execute(select(table).order_by(table.c.account, table.c.name)):
        states.append(_to_state(f, counts.get((f.account, f.name), 0)))
        seen.add((f.account, f.name))
    # Imported messages have no sync state but still count.
    for (account, folder), n in sorted(counts.items()):
        if (account, folder) not in seen:
            states.append(
                FolderState(account, folder, "import", None, 0, None, None, None, None, messages=n)
            )
    states.sort(key=lambda s: (s.account, s.name))
    return states


def iter_messages(
    conn: Connection,
    *,
    account: str | None = None,
    category: str | None = None,
    since: datetime | None = None,
    limit: int | None = None,
    batch: int = 1000,
) -> Iterator[Any]:
    """The listed columns of the stored messages, newest first, streamed ``batch`` rows at a
    time (a server-side cursor on PostgreSQL): listing 50k messages holds one batch, not 50k
    rows. Iterate before the connection closes."""
    query = select(
        _TABLE.c.id,
        _TABLE.c.account,
        _TABLE.c.folder,
        _TABLE.c.direction,
        _TABLE.c.category,
        _TABLE.c.from_name,
        _TABLE.c.from_addr,
        _TABLE.c.subject,
        _TABLE.c.received_at,
        _TABLE.c.parse_note,
    ).order_by(_TABLE.c.received_at.desc(), _TABLE.c.id.desc())
    if account:
        query = query.where(_TABLE.c.account == account)
    if category:
        query = query.where(_TABLE.c.category == category)
    if since:
        query = query.where(_TABLE.c.received_at >= since)
    if limit:
        query = query.limit(limit)
    yield from conn.execution_options(yield_per=batch).execute(query)


def uids_by_folder(conn: Connection, account: str, folder: str, uidvalidity: int) -> dict[int, int]:
    """uid → message id for the stored messages of one folder generation."""
    rows = conn.execute(
        select(_TABLE.c.uid, _TABLE.c.id).where(
            _TABLE.c.account == account, _TABLE.c.folder == folder, _TABLE.c.uidvalidity == uidvalidity
        )
    )
    return {uid: mid for uid, mid in rows if uid is not None}


def iter_chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def anything_to_match(conn: Connection, account: str) -> bool:
    """Whether reply matching (:func:`hygiene.threads.match_replies`) has anything to look at
    for ``account``: a message not keyed yet, or a waiting message the server marks
    \\Answered. Without either it records nothing, so a poll that stored nothing and saw no
    flag change skips it (and importing it: the ORM is a third of a no-op poll's start-up)."""
    m = _TABLE.c
    unkeyed = select(m.id).where(m.account == account, m.keyed_at.is_(None)).limit(1)
    answered = select(m.id).where(m.account == account, waiting_marked_answered()).limit(1)
    return conn.execute(unkeyed).first() is not None or conn.execute(answered).first() is not None


def stored_flags(conn: Connection, account: str, folder: str, uidvalidity: int) -> dict[int, tuple[int, str]]:
    """uid → (message id, stored flag text) for one folder generation."""
    rows = conn.execute(
        select(_TABLE.c.uid, _TABLE.c.id, _TABLE.c.flags).where(
            _TABLE.c.account == account, _TABLE.c.folder == folder, _TABLE.c.uidvalidity == uidvalidity
        )
    )
    return {uid: (mid, flags or "") for uid, mid, flags in rows if uid is not None}


def update_flags(conn: Connection, changes: Sequence[tuple[int, str, bool, bool]], now: datetime) -> None:
    """Write changed server flags: (message id, flag text, \\Seen, \\Answered). A newly seen
    \\Answered keeps the first time it was seen: the reply time when no reply mail exists."""
    if not changes:
        return
    from sqlalchemy import bindparam, case

    conn.execute(
        update(_TABLE)
        .where(_TABLE.c.id == bindparam("b_id"))
        .values(
            flags=bindparam("b_flags"),
            seen=bindparam("b_seen"),
            answered=bindparam("b_answered"),
            answered_seen_at=case(
                (_TABLE.c.answered_seen_at.is_not(None), _TABLE.c.answered_seen_at),
                (bindparam("b_answered") == True, bindparam("b_now")),  # noqa: E712 - SQL expression
                else_=None,
            ),
        ),
        [
            {"b_id": mid, "b_flags": flags, "b_seen": seen, "b_answered": answered, "b_now": now}
            for mid, flags, seen, answered in changes
        ],
    )


def ids_by_message_id(conn: Connection, account: str) -> dict[str, int]:
    """Message-ID (without <>) → row id, for one account."""
    rows = conn.execute(select(_TABLE.c.message_id, _TABLE.c.id).where(_TABLE.c.account == account))
    return {mid.strip().strip("<>"): i for mid, i in rows if mid}


def direction_counts(conn: Connection, account: str) -> dict[str, int]:
    """inbound / outbound → how many stored, for one account."""
    rows = conn.execute(
        select(_TABLE.c.direction, func.count()).where(_TABLE.c.account == account).group_by(_TABLE.c.direction)
    )
    return {direction: int(n) for direction, n in rows}


def reply_states(conn: Connection, account: str) -> list[Any]:
    """What :func:`hygiene.deadlines.message_state` reads, for every message of one account."""
    query = select(
        _TABLE.c.id, _TABLE.c.message_id, _TABLE.c.direction, _TABLE.c.needs_reply, _TABLE.c.replied_at, _TABLE.c.dismissed_at
    ).where(_TABLE.c.account == account)
    return list(conn.execute(query))

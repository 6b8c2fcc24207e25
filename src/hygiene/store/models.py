"""ORM classes mapped onto the Core tables of :mod:`hygiene.store.tables`, for code that
likes attribute access (tests, scripts). The program's read paths use the tables and never
import this module: the ORM is about half the start-up of a read-only command."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import FromClause
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property

from hygiene.store.tables import UTCDateTime, folders, messages, metadata, thread_keys

__all__ = ["Base", "Folder", "Message", "ThreadKey", "UTCDateTime"]


# ``__table__`` keeps the type the declarative base gives it (FromClause), as code written
# against declarative classes expects; the Core tables themselves are in hygiene.store.tables.


class Base(DeclarativeBase):
    metadata = metadata


class Folder(Base):
    __table__ = cast(FromClause, folders)

    id: Mapped[int]
    account: Mapped[str]
    name: Mapped[str]
    role: Mapped[str]
    uidvalidity: Mapped[int | None]
    highest_uid: Mapped[int]
    highestmodseq: Mapped[int | None]
    last_sync_at: Mapped[datetime | None]
    last_error: Mapped[str | None]
    last_error_at: Mapped[datetime | None]


class Message(Base):
    __table__ = cast(FromClause, messages)

    id: Mapped[int]
    account: Mapped[str]
    folder: Mapped[str]
    uidvalidity: Mapped[int | None]
    uid: Mapped[int | None]
    fingerprint: Mapped[str]
    source: Mapped[str]
    message_id: Mapped[str | None]
    in_reply_to: Mapped[str | None]
    #: the message_references column ("references" is an SQL keyword)
    references: Mapped[str | None] = column_property(messages.c.message_references)
    from_name: Mapped[str | None]
    from_addr: Mapped[str | None]
    to_addrs: Mapped[str | None]
    cc_addrs: Mapped[str | None]
    subject: Mapped[str | None]
    date_header: Mapped[datetime | None]
    internal_date: Mapped[datetime | None]
    received_at: Mapped[datetime]
    flags: Mapped[str]
    seen: Mapped[bool]
    answered: Mapped[bool]
    answered_seen_at: Mapped[datetime | None]
    direction: Mapped[str]
    category: Mapped[str]
    needs_reply: Mapped[bool]
    auto_reply: Mapped[bool]
    body_text: Mapped[str]
    size: Mapped[int]
    parse_note: Mapped[str | None]
    raw: Mapped[bytes | None]
    stored_at: Mapped[datetime]
    keyed_at: Mapped[datetime | None]
    stated_deadline_at: Mapped[datetime | None]
    stated_deadline_text: Mapped[str | None]
    replied_at: Mapped[datetime | None]
    reply_message_id: Mapped[int | None]
    reply_source: Mapped[str | None]
    reply_rule: Mapped[str | None]
    response_seconds: Mapped[int | None]
    manual_replied_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]
    dismiss_reason: Mapped[str | None]
    tone_score: Mapped[float | None]
    tone_verdict: Mapped[str | None]
    suspicious_reasons: Mapped[str | None]


class ThreadKey(Base):
    __table__ = cast(FromClause, thread_keys)

    id: Mapped[int]
    message_id: Mapped[int]
    account: Mapped[str]
    direction: Mapped[str]
    kind: Mapped[str]
    key: Mapped[str]
    at: Mapped[datetime]
    window_end: Mapped[datetime | None]

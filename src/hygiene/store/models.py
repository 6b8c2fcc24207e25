"""ORM classes over the Core tables of :mod:`hygiene.store.tables` (one schema, one
``MetaData``). The schema is created and changed only by the Alembic migrations in
``migrations/``; a test checks the two agree.

Importing this module imports ``sqlalchemy.orm`` (a third of a command's start-up): the poll
path uses :mod:`hygiene.store.tables` instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from sqlalchemy.orm import DeclarativeBase, Mapped

from hygiene.store import tables
from hygiene.store.tables import NAMING, UTCDateTime, utcnow

if TYPE_CHECKING:
    from sqlalchemy import FromClause

__all__ = ["NAMING", "Base", "Folder", "Message", "ThreadKey", "UTCDateTime", "utcnow"]


class Base(DeclarativeBase):
    metadata = tables.metadata


class Folder(Base):
    """Sync state of one mailbox folder of one account."""

    # typed as the base declares it (FromClause), as a declarative __tablename__ class's is
    __table__ = cast("FromClause", tables.folders)

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
    """One stored message, inbound (from Amazon or a buyer) or outbound (the seller's own)."""

    # typed as the base declares it (FromClause), as a declarative __tablename__ class's is
    __table__ = cast("FromClause", tables.messages)

    id: Mapped[int]
    account: Mapped[str]
    folder: Mapped[str]
    uidvalidity: Mapped[int | None]
    uid: Mapped[int | None]
    fingerprint: Mapped[str]
    source: Mapped[str]
    message_id: Mapped[str | None]
    in_reply_to: Mapped[str | None]
    references: Mapped[str | None] = tables.messages.c.message_references  # type: ignore[assignment]
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
    """One key a message can be matched on (see :mod:`hygiene.threads`)."""

    # typed as the base declares it (FromClause), as a declarative __tablename__ class's is
    __table__ = cast("FromClause", tables.thread_keys)

    id: Mapped[int]
    message_id: Mapped[int]
    account: Mapped[str]
    direction: Mapped[str]
    kind: Mapped[str]
    key: Mapped[str]
    at: Mapped[datetime]
    window_end: Mapped[datetime | None]

"""Tables. The schema is created and changed only by the Alembic migrations in ``migrations/``;
these models describe it for queries. A test checks the two agree."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Folder(Base):
    """Sync state of one mailbox folder of one account."""

    __tablename__ = "folders"
    __table_args__ = (UniqueConstraint("account", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(500))
    #: "inbox" (mail to the seller) or "sent" (the seller's own mail)
    role: Mapped[str] = mapped_column(String(16))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    highest_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    highestmodseq: Mapped[int | None] = mapped_column(BigInteger)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Message(Base):
    """One stored message, inbound (from Amazon or a buyer) or outbound (the seller's own)."""

    __tablename__ = "messages"
    __table_args__ = (
        # The same bytes in the same folder are one message, whatever UID they carry: this is
        # what lets a UIDVALIDITY change rescan a folder without duplicating rows.
        UniqueConstraint("account", "folder", "fingerprint"),
        Index("ix_messages_uid", "account", "folder", "uidvalidity", "uid"),
        Index("ix_messages_account_received_at", "account", "received_at"),
        Index("ix_messages_message_id", "message_id"),
        Index("ix_messages_category", "category"),
        # Reply matching (migration 0002): new rows to key, and what still awaits a reply.
        Index("ix_messages_keyed_at", "keyed_at"),
        Index("ix_messages_awaiting", "needs_reply", "replied_at", "dismissed_at"),
        # Figures (migration 0004): every column the report and dashboard read, so they
        # read a range of this index, never the table (hygiene.store.figures).
        Index(
            "ix_messages_figures", "direction", "needs_reply", "received_at", "dismissed_at", "replied_at",
            "response_seconds", "category", "account", "stated_deadline_at",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    folder: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    uid: Mapped[int | None] = mapped_column(BigInteger)
    #: sha256 of the raw message bytes
    fingerprint: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # "imap" | "import"
    message_id: Mapped[str | None] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(Text)
    #: Message-IDs of the References header, space separated
    references: Mapped[str | None] = mapped_column("message_references", Text)
    from_name: Mapped[str | None] = mapped_column(Text)
    from_addr: Mapped[str | None] = mapped_column(Text)
    #: comma-separated lower-case addresses
    to_addrs: Mapped[str | None] = mapped_column(Text)
    cc_addrs: Mapped[str | None] = mapped_column(Text)
    subject: Mapped[str | None] = mapped_column(Text)
    date_header: Mapped[datetime | None] = mapped_column(UTCDateTime)
    internal_date: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the time the clock starts: Date header if sane, else INTERNALDATE, else import time
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flags: Mapped[str] = mapped_column(Text, default="")
    seen: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)
    #: when a poll first saw \Answered on this message (the reply time when no mail shows it)
    answered_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    direction: Mapped[str] = mapped_column(String(8))  # "inbound" | "outbound"
    category: Mapped[str] = mapped_column(String(32))
    needs_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Auto-Submitted / X-Autoreply / vacation responder: never counts as a reply
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    body_text: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    parse_note: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # --- reply matching and deadlines (migration 0002, hygiene.threads / hygiene.deadlines)
    #: when reply matching computed this message's thread keys (NULL: not yet)
    keyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a tighter deadline the message states itself ("72時間以内", "by November 30, 2026")
    stated_deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the words it was read from, shown as the deadline's source
    stated_deadline_text: Mapped[str | None] = mapped_column(Text)
    #: first reply: from a matched mail, the \Answered flag, or the seller's manual mark
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the outbound message that answered (mail replies only)
    reply_message_id: Mapped[int | None] = mapped_column(Integer)
    reply_source: Mapped[str | None] = mapped_column(String(16))  # "mail" | "answered_flag" | "manual"
    #: which rule found the mail reply: references | case_id | order_id | subject | thread
    reply_rule: Mapped[str | None] = mapped_column(String(16))
    #: replied_at − received_at
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    #: 'hygiene replied' (answered in Seller Central, no mail in Sent)
    manual_replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: 'hygiene dismiss': no reply needed after all
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    #: tone of the seller's own sent mail (issue 3)
    tone_score: Mapped[float | None] = mapped_column(Float)
    tone_verdict: Mapped[str | None] = mapped_column(String(8))
    #: category 'suspicious': why the message only claims to be Amazon ("; "-joined)
    suspicious_reasons: Mapped[str | None] = mapped_column(Text)


class ThreadKey(Base):
    """One key a message can be matched on; inbound and outbound rows with the same account
    and key belong to the same conversation (see :mod:`hygiene.threads`)."""

    __tablename__ = "thread_keys"
    __table_args__ = (
        Index("ix_thread_keys_lookup", "account", "key", "direction", "at"),
        Index("ix_thread_keys_message_id", "message_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("messages.id", name="fk_thread_keys_message_id_messages", ondelete="CASCADE")
    )
    account: Mapped[str] = mapped_column(String(100))
    direction: Mapped[str] = mapped_column(String(8))
    #: mid (a Message-ID), tref (a Message-ID an inbound message refers to), case, order, subj
    kind: Mapped[str] = mapped_column(String(8))
    #: "mid:<id>", "case:<digits>|<counterpart>", "order:<id>|<counterpart>", "subj:<key>|<counterpart>"
    key: Mapped[str] = mapped_column(String(400))
    #: the message's received_at (for outbound: when it was sent)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: inbound subject keys only: a reply must come before this (at + 14 days) to count
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime)


def utcnow() -> datetime:
    return datetime.now(UTC)

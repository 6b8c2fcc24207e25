"""The tables, as SQLAlchemy Core ``Table`` objects. The schema is created and changed only by
the Alembic migrations in ``migrations/``; these describe it for queries, and a test checks the
two agree (Alembic's ``compare_metadata``). Core only: reading the store never imports the ORM,
which would cost a read-only command like ``check --no-poll`` about half its start-up."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: the messages still awaiting a reply (``ix_messages_waiting``; the queries of
#: hygiene.store.replies.awaiting_reply say the same in SQLAlchemy terms)
WAITING = "direction = 'inbound' AND needs_reply AND replied_at IS NULL AND dismissed_at IS NULL"
#: what check reads of them (awaiting_reply, record_answered_flags) beside account and received_at
WAITING_INCLUDE = (
    "id", "category", "from_name", "from_addr", "subject", "stated_deadline_at", "stated_deadline_text",
    "answered", "answered_seen_at",
)


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


#: Sync state of one mailbox folder of one account.
folders = Table(
    "folders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(100), nullable=False),
    Column("name", String(500), nullable=False),
    #: "inbox" (mail to the seller) or "sent" (the seller's own mail)
    Column("role", String(16), nullable=False),
    Column("uidvalidity", BigInteger),
    Column("highest_uid", BigInteger, nullable=False, default=0),
    Column("highestmodseq", BigInteger),
    Column("last_sync_at", UTCDateTime),
    Column("last_error", Text),
    Column("last_error_at", UTCDateTime),
    UniqueConstraint("account", "name"),
)

#: One stored message, inbound (from Amazon or a buyer) or outbound (the seller's own).
messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(100), nullable=False),
    Column("folder", String(500), nullable=False),
    Column("uidvalidity", BigInteger),
    Column("uid", BigInteger),
    # sha256 of the raw message bytes
    Column("fingerprint", String(64), nullable=False),
    Column("source", String(16), nullable=False),  # "imap" | "import"
    Column("message_id", Text),
    Column("in_reply_to", Text),
    # Message-IDs of the References header, space separated ("references" is an SQL keyword)
    Column("message_references", Text),
    Column("from_name", Text),
    Column("from_addr", Text),
    # comma-separated lower-case addresses
    Column("to_addrs", Text),
    Column("cc_addrs", Text),
    Column("subject", Text),
    Column("date_header", UTCDateTime),
    Column("internal_date", UTCDateTime),
    # the time the clock starts: Date header if sane, else INTERNALDATE, else import time
    Column("received_at", UTCDateTime, nullable=False),
    Column("flags", Text, nullable=False, default=""),
    Column("seen", Boolean, nullable=False, default=False),
    Column("answered", Boolean, nullable=False, default=False),
    # when a poll first saw \Answered on this message (the reply time when no mail shows it)
    Column("answered_seen_at", UTCDateTime),
    Column("direction", String(8), nullable=False),  # "inbound" | "outbound"
    Column("category", String(32), nullable=False),
    Column("needs_reply", Boolean, nullable=False, default=False),
    # Auto-Submitted / X-Autoreply / vacation responder: never counts as a reply
    Column("auto_reply", Boolean, nullable=False, default=False),
    Column("body_text", Text, nullable=False, default=""),
    Column("size", Integer, nullable=False, default=0),
    Column("parse_note", Text),
    Column("raw", LargeBinary),
    Column("stored_at", UTCDateTime, nullable=False),
    # --- reply matching and deadlines (migration 0002, hygiene.threads / hygiene.deadlines)
    # when reply matching computed this message's thread keys (NULL: not yet)
    Column("keyed_at", UTCDateTime),
    # a tighter deadline the message states itself ("72時間以内", "by November 30, 2026")
    Column("stated_deadline_at", UTCDateTime),
    # the words it was read from, shown as the deadline's source
    Column("stated_deadline_text", Text),
    # first reply: from a matched mail, the \Answered flag, or the seller's manual mark
    Column("replied_at", UTCDateTime),
    # the outbound message that answered (mail replies only)
    Column("reply_message_id", Integer),
    Column("reply_source", String(16)),  # "mail" | "answered_flag" | "manual"
    # which rule found the mail reply: references | case_id | order_id | subject | thread
    Column("reply_rule", String(16)),
    # replied_at − received_at
    Column("response_seconds", Integer),
    # 'hygiene replied' (answered in Seller Central, no mail in Sent)
    Column("manual_replied_at", UTCDateTime),
    # 'hygiene dismiss': no reply needed after all
    Column("dismissed_at", UTCDateTime),
    Column("dismiss_reason", Text),
    # tone of the seller's own sent mail (issue 3)
    Column("tone_score", Float),
    Column("tone_verdict", String(8)),
    # category 'suspicious': why the message only claims to be Amazon ("; "-joined)
    Column("suspicious_reasons", Text),
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
    # The tone of sent mail by account and period (migration 0006): the figures read this
    # index, not the table (hygiene.store.figures.tone_cells).
    Index("ix_messages_tone", "direction", "received_at", "auto_reply", "account", "tone_verdict", "tone_score"),
    # What still awaits a reply, and only that (migration 0006): a few hundred rows of a
    # million. On PostgreSQL it holds every column check reads (an index-only scan).
    Index(
        "ix_messages_waiting", "account", "received_at",
        postgresql_include=list(WAITING_INCLUDE), postgresql_where=text(WAITING), sqlite_where=text(WAITING),
    ),
    # Figures (migration 0004): every column the report and dashboard read, so they
    # read a range of this index, never the table (hygiene.store.figures).
    Index(
        "ix_messages_figures", "direction", "needs_reply", "received_at", "dismissed_at", "replied_at",
        "response_seconds", "category", "account", "stated_deadline_at",
    ),
)

#: One key a message can be matched on; inbound and outbound rows with the same account and
#: key belong to the same conversation (see :mod:`hygiene.threads`).
thread_keys = Table(
    "thread_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "message_id",
        Integer,
        ForeignKey("messages.id", name="fk_thread_keys_message_id_messages", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("account", String(100), nullable=False),
    Column("direction", String(8), nullable=False),
    # mid (a Message-ID), tref (a Message-ID an inbound message refers to), case, order, subj
    Column("kind", String(8), nullable=False),
    # "mid:<id>", "case:<digits>|<counterpart>", "order:<id>|<counterpart>", "subj:<key>|<counterpart>"
    Column("key", String(400), nullable=False),
    # the message's received_at (for outbound: when it was sent)
    Column("at", UTCDateTime, nullable=False),
    # inbound subject keys only: a reply must come before this (at + 14 days) to count
    Column("window_end", UTCDateTime),
    Index("ix_thread_keys_lookup", "account", "key", "direction", "at"),
    Index("ix_thread_keys_message_id", "message_id"),
)


def waiting_marked_answered() -> Any:
    """Inbound messages still waiting for a reply that the server marks \\Answered: what
    reply matching records as answered by the flag (store.replies.record_answered_flags),
    and what makes a poll that stored nothing run the matching (store.messages.anything_to_match)."""
    m = messages.c
    return and_(
        m.direction == "inbound",
        m.needs_reply == true(),
        m.replied_at.is_(None),
        m.dismissed_at.is_(None),
        m.answered == true(),
    )

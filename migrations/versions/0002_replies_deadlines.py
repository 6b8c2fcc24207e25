"""reply matching, deadlines, manual marks and tone history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

Per inbound message: the reply found for it (when, which outbound message, by which rule,
response time), the deadline the message itself states, the seller's manual marks
(answered in Seller Central, dismissed) and the tone of sent replies. ``thread_keys`` holds
the keys reply matching joins on (Message-IDs, case and order IDs, normalised subjects).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("keyed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("stated_deadline_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("stated_deadline_text", sa.Text(), nullable=True))
        batch.add_column(sa.Column("replied_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("reply_message_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reply_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("reply_rule", sa.String(16), nullable=True))
        batch.add_column(sa.Column("response_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("manual_replied_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("dismissed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("dismiss_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("tone_score", sa.Float(), nullable=True))
        batch.add_column(sa.Column("tone_verdict", sa.String(8), nullable=True))
    op.create_index("ix_messages_keyed_at", "messages", ["keyed_at"])
    op.create_index("ix_messages_awaiting", "messages", ["needs_reply", "replied_at", "dismissed_at"])
    op.create_table(
        "thread_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(100), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("key", sa.String(400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_thread_keys"),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_thread_keys_message_id_messages", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_thread_keys_lookup", "thread_keys", ["account", "key", "direction", "at"])
    op.create_index("ix_thread_keys_message_id", "thread_keys", ["message_id"])


def downgrade() -> None:
    op.drop_table("thread_keys")
    op.drop_index("ix_messages_awaiting", table_name="messages")
    op.drop_index("ix_messages_keyed_at", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        for name in (
            "tone_verdict",
            "tone_score",
            "dismiss_reason",
            "dismissed_at",
            "manual_replied_at",
            "response_seconds",
            "reply_rule",
            "reply_source",
            "reply_message_id",
            "replied_at",
            "stated_deadline_text",
            "stated_deadline_at",
            "keyed_at",
        ):
            batch.drop_column(name)

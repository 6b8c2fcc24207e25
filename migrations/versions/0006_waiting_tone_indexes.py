"""check: a partial index of the messages still awaiting a reply; figures: a covering index
for the tone of sent mail

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

``ix_messages_waiting`` holds only the inbound messages that need a reply and have neither a
reply nor a dismissal: a few hundred rows of a million. PostgreSQL's statistics cannot see
that these conditions go together (it estimated 135,000 rows of a million, against 588) and
``hygiene check`` read the whole table twice (0.4 s + 0.65 s at a million messages). On
PostgreSQL the index also holds every column check reads, so an index-only scan of the few
waiting rows is cheaper even by that estimate (0.2 ms once vacuumed). SQLite finds these rows
through its other indexes (it plans from them alone); the partial index costs it little.

``ix_messages_tone`` holds what the report's tone figures read of the sent mail (direction,
received_at first): they read the table before (0.6 s of a report at a million messages on
PostgreSQL, 0.1 s after).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

WAITING = "direction = 'inbound' AND needs_reply AND replied_at IS NULL AND dismissed_at IS NULL"
INCLUDE = [
    "id", "category", "from_name", "from_addr", "subject", "stated_deadline_at", "stated_deadline_text",
    "answered", "answered_seen_at",
]


TONE_COLUMNS = ["direction", "received_at", "auto_reply", "account", "tone_verdict", "tone_score"]


def upgrade() -> None:
    op.create_index("ix_messages_tone", "messages", TONE_COLUMNS)
    op.create_index(
        "ix_messages_waiting", "messages", ["account", "received_at"],
        postgresql_include=INCLUDE, postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_waiting", "messages")
    op.drop_index("ix_messages_tone", "messages")

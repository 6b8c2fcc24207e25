"""re-key reply matching: Message-ID keys carry the counterpart; forwards answer nothing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

Data only. Message-ID keys in ``thread_keys`` are now joined with the counterpart like the
other keys (``mid:ID|address``), and forwards get no keys, so the stored keys are dropped and
every message is keyed again by the next run of reply matching (about 10 s per 100,000
messages, once). Replies already recorded stay as they are: only messages still waiting are
matched again, under the new rules.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM thread_keys")
    op.execute("UPDATE messages SET keyed_at = NULL")


def downgrade() -> None:
    # The old code keys with the old format: make it key everything again too.
    op.execute("DELETE FROM thread_keys")
    op.execute("UPDATE messages SET keyed_at = NULL")

"""mail that only claims to be Amazon: its reasons

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28

Category ``suspicious`` (hygiene.authenticity) keeps why a message was judged a forgery of
Amazon in ``suspicious_reasons``. Mail stored before is judged again by ``hygiene
reclassify`` (or ``hygiene poll --full``), not here: the verdict needs headers the database
did not keep.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("suspicious_reasons", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("suspicious_reasons")

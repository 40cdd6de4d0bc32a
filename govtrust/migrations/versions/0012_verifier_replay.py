"""counter verifier: replay cache shared by every worker

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_replay",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_verifier_replay")),
    )
    op.create_index(
        op.f("ix_verifier_replay_seen_at"), "verifier_replay", ["seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_verifier_replay_seen_at"), table_name="verifier_replay")
    op.drop_table("verifier_replay")

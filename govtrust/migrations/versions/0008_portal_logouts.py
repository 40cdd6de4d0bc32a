"""demo regional portals: sessions ended by back-channel logout

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_logouts",
        sa.Column("portal", sa.String(length=16), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("portal", "sid", name=op.f("pk_portal_logouts")),
    )
    op.create_index(
        op.f("ix_portal_logouts_ended_at"), "portal_logouts", ["ended_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_portal_logouts_ended_at"), table_name="portal_logouts")
    op.drop_table("portal_logouts")

"""hub certificates and trust-list publications

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_certificates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("not_before", UTCDateTime(), nullable=False),
        sa.Column("not_after", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("serial", name=op.f("pk_hub_certificates")),
    )
    op.create_index("ix_hub_certificates_kid", "hub_certificates", ["kid"])
    op.create_table(
        "trust_list_publications",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("next_update", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_trust_list_publications")),
    )


def downgrade() -> None:
    op.drop_table("trust_list_publications")
    op.drop_index("ix_hub_certificates_kid", table_name="hub_certificates")
    op.drop_table("hub_certificates")

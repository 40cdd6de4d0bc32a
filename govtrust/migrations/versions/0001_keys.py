"""key custody: key_records

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "key_records",
        sa.Column("kid", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("public_key_der", sa.LargeBinary(), nullable=False),
        sa.Column("private_blob", sa.LargeBinary(), nullable=True),
        sa.Column("external_ref", sa.String(128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retiring_at", UTCDateTime(), nullable=True),
        sa.Column("verify_until", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kid", name="pk_key_records"),
    )
    op.create_index("ix_key_records_purpose", "key_records", ["purpose"])
    op.create_index("ix_key_records_owner", "key_records", ["owner"])
    op.create_index(
        "uq_key_records_one_active",
        "key_records",
        ["purpose", "owner", "algorithm"],
        unique=True,
        sqlite_where=sa.text("state = 'active'"),
        postgresql_where=sa.text("state = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("uq_key_records_one_active", table_name="key_records")
    op.drop_index("ix_key_records_owner", table_name="key_records")
    op.drop_index("ix_key_records_purpose", table_name="key_records")
    op.drop_table("key_records")

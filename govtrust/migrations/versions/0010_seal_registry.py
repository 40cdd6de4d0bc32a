"""seal registry: seals, their lifecycle events, sealing operations

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seals",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("maker_id", sa.String(length=64), nullable=True),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.Column("certificate", sa.LargeBinary(), nullable=True),
        sa.Column("ses_seal", sa.LargeBinary(), nullable=True),
        sa.Column("image_png", sa.LargeBinary(), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_to", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seals")),
    )
    op.create_index(op.f("ix_seals_holder_id"), "seals", ["holder_id"], unique=False)
    op.create_index(op.f("ix_seals_status"), "seals", ["status"], unique=False)
    op.create_table(
        "seal_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("seal_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_events")),
    )
    op.create_index(op.f("ix_seal_events_seal_id"), "seal_events", ["seal_id"], unique=False)
    op.create_table(
        "seal_operations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("seal_id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("digest_alg", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=80), nullable=False),
        sa.Column("result", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_operations")),
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_seal_operations_idempotency"),
    )
    op.create_index(
        op.f("ix_seal_operations_seal_id"), "seal_operations", ["seal_id"], unique=False
    )
    op.create_index(
        op.f("ix_seal_operations_created_at"), "seal_operations", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("seal_operations")
    op.drop_table("seal_events")
    op.drop_table("seals")

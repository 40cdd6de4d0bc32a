"""e-licenses: issued licenses, their lifecycle events, issuers' status lists

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from govtrust.db import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "license_status_lists",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("bits", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("next_index", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_status_lists")),
        sa.UniqueConstraint("issuer_id", "seq", name="uq_license_status_lists_seq"),
    )
    op.create_index(
        op.f("ix_license_status_lists_issuer_id"),
        "license_status_lists",
        ["issuer_id"],
        unique=False,
    )
    op.create_table(
        "licenses",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("identifier", sa.String(length=160), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("holder_subject", sa.String(length=128), nullable=False),
        sa.Column("holder_key_jwk", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_list_id", sa.String(length=80), nullable=False),
        sa.Column("status_idx", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("credential", sa.LargeBinary(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licenses")),
        sa.UniqueConstraint("identifier", name=op.f("uq_licenses_identifier")),
        sa.UniqueConstraint("status_list_id", "status_idx", name="uq_licenses_status_slot"),
        sa.UniqueConstraint("client_id", "idempotency_key", name="uq_licenses_idempotency"),
    )
    op.create_index(op.f("ix_licenses_type_code"), "licenses", ["type_code"], unique=False)
    op.create_index(op.f("ix_licenses_issuer_id"), "licenses", ["issuer_id"], unique=False)
    op.create_index(
        op.f("ix_licenses_holder_subject"), "licenses", ["holder_subject"], unique=False
    )
    op.create_index(op.f("ix_licenses_status"), "licenses", ["status"], unique=False)
    op.create_table(
        "license_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("license_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license_events")),
    )
    op.create_index(
        op.f("ix_license_events_license_id"), "license_events", ["license_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("license_events")
    op.drop_table("licenses")
    op.drop_table("license_status_lists")

"""e-licenses: short status-list URIs (``<base>/sl/<list>``) for new lists

Lists made before this revision keep the URI their credentials and tokens
already name (``<base>/api/license/v1/status/<list>.cwt``): their ``uri_path``
stays NULL.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "license_status_lists", sa.Column("uri_path", sa.String(length=120), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("license_status_lists") as batch:
        batch.drop_column("uri_path")

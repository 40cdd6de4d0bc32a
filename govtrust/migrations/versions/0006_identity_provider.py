"""identity provider

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 15:38:25.423451
"""

from alembic import op
import sqlalchemy as sa

from govtrust.db import UTCDateTime


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idp_access_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_idp_access_tokens")),
    )
    with op.batch_alter_table("idp_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idp_access_tokens_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_idp_access_tokens_grant_id"), ["grant_id"], unique=False
        )

    op.create_table(
        "idp_accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("uscc", sa.String(length=18), nullable=True),
        sa.Column("totp_secret", sa.LargeBinary(), nullable=True),
        sa.Column("totp_last_step", sa.Integer(), nullable=False),
        sa.Column("recovery_codes", sa.JSON(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_accounts")),
        sa.UniqueConstraint("id_number", name=op.f("uq_idp_accounts_id_number")),
        sa.UniqueConstraint("username", name=op.f("uq_idp_accounts_username")),
    )
    op.create_table(
        "idp_clients",
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("participant_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(length=500), nullable=True),
        sa.Column("token_endpoint_auth_method", sa.String(length=40), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=64), nullable=True),
        sa.Column("jwks", sa.JSON(), nullable=True),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("id_token_signed_response_alg", sa.String(length=16), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("sector", sa.String(length=100), nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_idp_clients")),
    )
    with op.batch_alter_table("idp_clients", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idp_clients_participant_id"), ["participant_id"], unique=False
        )

    op.create_table(
        "idp_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("nonce", sa.String(length=300), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=True),
        sa.Column("auth_time", UTCDateTime(), nullable=False),
        sa.Column("acr", sa.String(length=16), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("grant_id", sa.String(length=36), nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_idp_codes")),
    )
    op.create_table(
        "idp_consents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("given_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_consents")),
    )
    with op.batch_alter_table("idp_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_idp_consents_account_client", ["account_id", "client_id"], unique=False
        )

    op.create_table(
        "idp_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("client_id", sa.String(length=100), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_events")),
    )
    with op.batch_alter_table("idp_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idp_events_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_idp_events_at"), ["at"], unique=False)

    op.create_table(
        "idp_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("sid", sa.String(length=64), nullable=True),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("claims", sa.JSON(), nullable=True),
        sa.Column("auth_time", UTCDateTime(), nullable=True),
        sa.Column("acr", sa.String(length=16), nullable=True),
        sa.Column("amr", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_grants")),
    )
    with op.batch_alter_table("idp_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idp_grants_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_idp_grants_client_id"), ["client_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_idp_grants_sid"), ["sid"], unique=False)

    op.create_table(
        "idp_login_throttle",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", UTCDateTime(), nullable=False),
        sa.Column("blocked_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_idp_login_throttle")),
    )
    op.create_table(
        "idp_logout_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("uri", sa.String(length=500), nullable=False),
        sa.Column("logout_token", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_logout_deliveries")),
    )
    with op.batch_alter_table("idp_logout_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idp_logout_deliveries_sid"), ["sid"], unique=False)

    op.create_table(
        "idp_par",
        sa.Column("request_uri", sa.String(length=100), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("request_uri", name=op.f("pk_idp_par")),
    )
    op.create_table(
        "idp_used_jti",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=100), nullable=False),
        sa.Column("jti", sa.String(length=300), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "issuer", "jti", name=op.f("pk_idp_used_jti")),
    )
    with op.batch_alter_table("idp_used_jti", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idp_used_jti_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "idp_refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("grant_id", sa.String(length=36), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["grant_id"], ["idp_grants.id"], name=op.f("fk_idp_refresh_tokens_grant_id_idp_grants")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_idp_refresh_tokens")),
    )
    with op.batch_alter_table("idp_refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idp_refresh_tokens_grant_id"), ["grant_id"], unique=False
        )

    op.create_table(
        "idp_sessions",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("auth_time", UTCDateTime(), nullable=False),
        sa.Column("acr", sa.String(length=16), nullable=False),
        sa.Column("amr", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["idp_accounts.id"],
            name=op.f("fk_idp_sessions_account_id_idp_accounts"),
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_idp_sessions")),
    )
    with op.batch_alter_table("idp_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idp_sessions_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "idp_session_clients",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sid"],
            ["idp_sessions.sid"],
            name=op.f("fk_idp_session_clients_sid_idp_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idp_session_clients")),
        sa.UniqueConstraint("sid", "client_id", name="uq_idp_session_clients_pair"),
    )


def downgrade() -> None:
    op.drop_table("idp_session_clients")
    with op.batch_alter_table("idp_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_sessions_account_id"))

    op.drop_table("idp_sessions")
    with op.batch_alter_table("idp_refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_refresh_tokens_grant_id"))

    op.drop_table("idp_refresh_tokens")
    with op.batch_alter_table("idp_used_jti", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_used_jti_expires_at"))

    op.drop_table("idp_used_jti")
    op.drop_table("idp_par")
    with op.batch_alter_table("idp_logout_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_logout_deliveries_sid"))

    op.drop_table("idp_logout_deliveries")
    op.drop_table("idp_login_throttle")
    with op.batch_alter_table("idp_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_grants_sid"))
        batch_op.drop_index(batch_op.f("ix_idp_grants_client_id"))
        batch_op.drop_index(batch_op.f("ix_idp_grants_account_id"))

    op.drop_table("idp_grants")
    with op.batch_alter_table("idp_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_events_at"))
        batch_op.drop_index(batch_op.f("ix_idp_events_account_id"))

    op.drop_table("idp_events")
    with op.batch_alter_table("idp_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_idp_consents_account_client")

    op.drop_table("idp_consents")
    op.drop_table("idp_codes")
    with op.batch_alter_table("idp_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_clients_participant_id"))

    op.drop_table("idp_clients")
    op.drop_table("idp_accounts")
    with op.batch_alter_table("idp_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idp_access_tokens_grant_id"))
        batch_op.drop_index(batch_op.f("ix_idp_access_tokens_expires_at"))

    op.drop_table("idp_access_tokens")

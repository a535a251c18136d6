"""room access settings, audit log

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("rooms") as rooms:
        rooms.add_column(
            sa.Column("guests_allowed", sa.Boolean, nullable=False, server_default=sa.true())
        )
        rooms.add_column(sa.Column("lobby", sa.Boolean, nullable=False, server_default=sa.false()))
        rooms.add_column(sa.Column("password_hash", sa.String(200), nullable=True))
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("room", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_at", "audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("rooms") as rooms:
        rooms.drop_column("password_hash")
        rooms.drop_column("lobby")
        rooms.drop_column("guests_allowed")

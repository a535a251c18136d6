"""room setting: end-to-end encryption

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    # Existing rooms keep what the server requires: on.
    with op.batch_alter_table("rooms") as rooms:
        rooms.add_column(sa.Column("e2ee", sa.Boolean, nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("rooms") as rooms:
        rooms.drop_column("e2ee")

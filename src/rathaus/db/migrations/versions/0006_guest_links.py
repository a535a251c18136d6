"""guest links: one record per link, so that a link can be listed and revoked

Revision ID: 0006
Revises: 0005

Links made before this revision named no record: they stop working (their guests ask for a
new link).
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "guest_links",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column(
            "room_id", sa.Integer, sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "created_by",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_guest_links_room_id", "guest_links", ["room_id"])
    op.create_index("ix_guest_links_expires_at", "guest_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_guest_links_expires_at", "guest_links")
    op.drop_index("ix_guest_links_room_id", "guest_links")
    op.drop_table("guest_links")

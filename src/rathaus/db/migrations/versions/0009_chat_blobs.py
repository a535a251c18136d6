"""chat: the blobs of attachments (encrypted files), by room

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "chat_blobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column(
            "room_id", sa.Integer, sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("uploader_id", sa.Integer, nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_blobs_room_created", "chat_blobs", ["room_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_blobs_room_created", "chat_blobs")
    op.drop_table("chat_blobs")

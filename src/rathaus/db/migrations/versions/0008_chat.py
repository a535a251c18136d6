"""chat: the key directory of devices, each room's MLS group and its ordered events, and how
long a room keeps its messages

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("rooms") as rooms:
        # Days a room keeps its chat messages; None: for ever (rathaus.chat.retention).
        rooms.add_column(sa.Column("chat_retention_days", sa.Integer, nullable=True))
    op.create_table(
        "chat_devices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("ed25519", sa.String(64), nullable=False),
        sa.Column("x25519", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_devices_user_id", "chat_devices", ["user_id"])
    op.create_table(
        "chat_groups",
        sa.Column(
            "room_id",
            sa.Integer,
            sa.ForeignKey("rooms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_id", sa.LargeBinary, nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("group_info", sa.LargeBinary, nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "chat_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "room_id", sa.Integer, sa.ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("epoch", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=True),
        sa.Column("rel", sa.String(8), nullable=True),
        sa.Column("ref", sa.BigInteger, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("room_id", "seq", name="uq_chat_events_room_seq"),
        sa.UniqueConstraint("room_id", "device_id", "client_id", name="uq_chat_events_client"),
    )
    op.create_index("ix_chat_events_created_at", "chat_events", ["created_at"])
    op.create_index("ix_chat_events_ref", "chat_events", ["room_id", "ref"])
    op.create_table(
        "chat_reads",
        sa.Column(
            "room_id",
            sa.Integer,
            sa.ForeignKey("rooms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "chat_key_packages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "device_id",
            sa.String(64),
            sa.ForeignKey("chat_devices.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_chat_key_packages_device_id", "chat_key_packages", ["device_id"])
    op.create_table(
        "chat_group_devices",
        sa.Column(
            "room_id",
            sa.Integer,
            sa.ForeignKey("rooms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "device_id",
            sa.String(64),
            sa.ForeignKey("chat_devices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("welcome", sa.LargeBinary, nullable=True),
        sa.Column("welcome_seq", sa.BigInteger, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("chat_group_devices")
    op.drop_index("ix_chat_key_packages_device_id", "chat_key_packages")
    op.drop_table("chat_key_packages")
    op.drop_table("chat_reads")
    op.drop_index("ix_chat_events_ref", "chat_events")
    op.drop_index("ix_chat_events_created_at", "chat_events")
    op.drop_table("chat_events")
    op.drop_table("chat_groups")
    op.drop_index("ix_chat_devices_user_id", "chat_devices")
    op.drop_table("chat_devices")
    with op.batch_alter_table("rooms") as rooms:
        rooms.drop_column("chat_retention_days")

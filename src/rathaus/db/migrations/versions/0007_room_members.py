"""room members: `room_roles.since`, `rooms.kind` and the pair of a direct conversation

Revision ID: 0007
Revises: 0006

Who had a room role before this revision is a member since the role was last granted, as the
audit log says, or else since the room was created.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"

_SINCE = """
UPDATE room_roles SET since = COALESCE(
    (SELECT MAX(a.at) FROM audit_log a JOIN rooms r ON r.slug = a.room
     WHERE r.id = room_roles.room_id AND a.target_user_id = room_roles.user_id
       AND a.action = 'room_role_granted'),
    (SELECT r.created_at FROM rooms r WHERE r.id = room_roles.room_id),
    CURRENT_TIMESTAMP)
"""


def upgrade() -> None:
    with op.batch_alter_table("room_roles") as roles:
        roles.add_column(sa.Column("since", sa.DateTime(timezone=True), nullable=True))
    op.execute(_SINCE)
    with op.batch_alter_table("room_roles") as roles:
        roles.alter_column("since", existing_type=sa.DateTime(timezone=True), nullable=False)
    with op.batch_alter_table("rooms") as rooms:
        rooms.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="room"))
        rooms.add_column(sa.Column("direct_pair", sa.String(40), nullable=True))
        rooms.create_index("ix_rooms_direct_pair", ["direct_pair"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("rooms") as rooms:
        rooms.drop_index("ix_rooms_direct_pair")
        rooms.drop_column("direct_pair")
        rooms.drop_column("kind")
    with op.batch_alter_table("room_roles") as roles:
        roles.drop_column("since")

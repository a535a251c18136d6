"""audit log: actor and target as parties (user id, role, name apart), the server's detail apart

Revision ID: 0005
Revises: 0004

Until now actor and target were one text each, "<name> (<role>)" or "<name> (<role>, user <id>)",
cut at 200 characters, so a display name could imitate a label. The old texts are read here:
the server always put exactly one such suffix at the very end, so the last one is the real one
whatever the name holds, as long as nothing was cut off. A text of 200 characters may have been
cut (its real suffix lost, a forged one left at the end): it is kept whole as the name, with no
role and no user id, as is any text that does not end in a label (a user id of more than nine
digits counts as none: not every one fits the INTEGER column). A guest link's target
("until <expiry>") was never a party: it becomes the entry's detail.
"""

import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

_CUT = 200  # the old columns' length: a text this long may have been cut
_LABEL = re.compile(
    r"(?P<name>.*) \((?P<role>owner|co_owner|moderator|administrator|member|guest)"
    r"(?:, user (?P<user>[0-9]{1,9}))?\)",
    re.DOTALL,
)
_CHUNK = 1000

_audit = sa.table(
    "audit_log",
    sa.column("id", sa.Integer),
    sa.column("action", sa.String),
    sa.column("actor", sa.String),
    sa.column("target", sa.String),
    sa.column("actor_user_id", sa.Integer),
    sa.column("actor_role", sa.String),
    sa.column("actor_name", sa.String),
    sa.column("target_user_id", sa.Integer),
    sa.column("target_role", sa.String),
    sa.column("target_name", sa.String),
    sa.column("detail", sa.String),
)


def _columns(who: str) -> tuple[str, str, str]:
    """The columns of a party, in the order of `_party`."""
    return f"{who}_user_id", f"{who}_role", f"{who}_name"


def _party(text: str) -> tuple[int | None, str | None, str]:
    """(user id, role, name) of an old label."""
    match = _LABEL.fullmatch(text) if len(text) < _CUT else None
    if match is None:
        return None, None, text
    user = match["user"]
    return int(user) if user is not None else None, match["role"], match["name"]


def _label(user_id: int | None, role: str | None, name: str) -> str:
    """The old text of a party (for a downgrade)."""
    if role is None:
        return name[:_CUT]
    account = f", user {user_id}" if user_id is not None else ""
    return f"{name} ({role}{account})"[:_CUT]


def _rows(columns: list[Any]) -> Iterator[Any]:
    """All rows of the audit log, in chunks by id, so that a long log is not read at once."""
    connection = op.get_bind()
    last = 0
    while True:
        chunk = connection.execute(
            sa.select(_audit.c.id, *columns)
            .where(_audit.c.id > last)
            .order_by(_audit.c.id)
            .limit(_CHUNK)
        ).all()
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].id


def _update(values: list[dict[str, object]]) -> None:
    if not values:
        return
    names = [key for key in values[0] if key != "row_id"]
    statement = (
        sa.update(_audit)
        .where(_audit.c.id == sa.bindparam("row_id"))
        .values({name: sa.bindparam(f"new_{name}") for name in names})
    )
    op.get_bind().execute(
        statement,
        [{"row_id": v["row_id"], **{f"new_{n}": v[n] for n in names}} for v in values],
    )


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as audit:
        for who in ("actor", "target"):
            user_id, role, name = _columns(who)
            audit.add_column(sa.Column(user_id, sa.Integer, nullable=True))
            audit.add_column(sa.Column(role, sa.String(16), nullable=True))
            audit.add_column(sa.Column(name, sa.String(200), nullable=True))
        audit.add_column(sa.Column("detail", sa.String(200), nullable=True))

    values: list[dict[str, object]] = []
    for row in _rows([_audit.c.action, _audit.c.actor, _audit.c.target]):
        guest_link = row.action == "room_guest_link_created"
        target: tuple[int | None, str | None, str | None] = (None, None, None)
        if row.target is not None and not guest_link:
            target = _party(row.target)
        values.append(
            {
                "row_id": row.id,
                **dict(zip(_columns("actor"), _party(row.actor), strict=True)),
                **dict(zip(_columns("target"), target, strict=True)),
                "detail": row.target if guest_link else None,
            }
        )
        if len(values) == _CHUNK:
            _update(values)
            values = []
    _update(values)

    with op.batch_alter_table("audit_log") as audit:
        audit.alter_column("actor_name", existing_type=sa.String(200), nullable=False)
        audit.drop_column("actor")
        audit.drop_column("target")


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as audit:
        audit.add_column(sa.Column("actor", sa.String(200), nullable=True))
        audit.add_column(sa.Column("target", sa.String(200), nullable=True))

    values: list[dict[str, object]] = []
    columns = [_audit.c[name] for name in (*_columns("actor"), *_columns("target"), "detail")]
    for row in _rows(columns):
        target = row.detail
        if row.target_name is not None:
            target = _label(row.target_user_id, row.target_role, row.target_name)
        actor = _label(row.actor_user_id, row.actor_role, row.actor_name)
        values.append({"row_id": row.id, "actor": actor, "target": target})
        if len(values) == _CHUNK:
            _update(values)
            values = []
    _update(values)

    with op.batch_alter_table("audit_log") as audit:
        audit.alter_column("actor", existing_type=sa.String(200), nullable=False)
        for name in (*_columns("actor"), *_columns("target"), "detail"):
            audit.drop_column(name)

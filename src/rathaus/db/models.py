"""The tables. Each feature's store module queries them; migrations live in migrations/."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class RoomRow(Base):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    guests_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    lobby: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # End-to-end encryption for the room's meetings (when the server requires it too).
    e2ee: Mapped[bool] = mapped_column(Boolean, default=True)
    # "room", or "direct": the conversation of exactly two members (rathaus.rooms.service).
    kind: Mapped[str] = mapped_column(String(16), default="room", server_default="room")
    # Days the room keeps its chat messages (and attachments); None: for ever.
    chat_retention_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # A direct conversation's two user ids, "low:high": one room per pair, whoever starts it.
    direct_pair: Mapped[str | None] = mapped_column(
        String(40), nullable=True, unique=True, index=True
    )


class RoomRoleRow(Base):
    __tablename__ = "room_roles"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))  # co_owner, moderator or member
    # Since when the person is a member of the room (each role makes one): chat shows them the
    # conversation from then on.
    since: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GuestLinkRow(Base):
    """A guest link that has not been revoked (rathaus.rooms.invites): never its token, which
    the record and the installation's key make again. Kept until it expires."""

    __tablename__ = "guest_links"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # random, in the token
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    provider: Mapped[str] = mapped_column(String(16), default="local")
    subject: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SessionRow(Base):
    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Who did what when in a room or its meeting; never what was said or shown. Actor and
    target are parties (rathaus.audit.AuditParty): account, role and display name apart. No
    foreign key to users: an entry outlives the account."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    room: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # None only in entries from before migration 0005 whose old label could not be read.
    actor_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor_name: Mapped[str] = mapped_column(String(200))
    target_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    target_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    target_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # None: no target
    # What the server adds (a guest link's expiry, a room's new name as the rules let it
    # through), never free text.
    detail: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ChatDeviceRow(Base):
    """A member's device in the chat's key directory: its public keys only (rathaus.chat)."""

    __tablename__ = "chat_devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # chosen by the device
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    ed25519: Mapped[str] = mapped_column(String(64))  # base64url: the MLS signature key
    x25519: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatGroupRow(Base):
    """A room's MLS group as the delivery service knows it: the epoch the next commit must
    name, the latest GroupInfo (public: new devices join from it) and the last event's number."""

    __tablename__ = "chat_groups"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[bytes] = mapped_column(LargeBinary)
    epoch: Mapped[int] = mapped_column(BigInteger)
    group_info: Mapped[bytes] = mapped_column(LargeBinary)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatEventRow(Base):
    """One event of a room's group, numbered without gaps (``seq``): the group's creation, a
    commit, an application message (ciphertext) or a deletion. ``client_id`` makes a resend
    harmless. A message may name its relation to an earlier one in the clear (``rel``: reply,
    edit or react; ``ref``: that one's number), as Matrix keeps ``m.relates_to`` outside the
    encryption: so the server can hold edits to their author and count reactions and unread
    messages; a deletion names what it deleted in ``ref``."""

    __tablename__ = "chat_events"
    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_chat_events_room_seq"),
        UniqueConstraint("room_id", "device_id", "client_id", name="uq_chat_events_client"),
        Index("ix_chat_events_ref", "room_id", "ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # group, commit, message or delete
    epoch: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # outlives the account
    device_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # None: deleted
    rel: Mapped[str | None] = mapped_column(String(8), nullable=True)
    ref: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ChatReadRow(Base):
    """How far a member has read a room's chat: private, for their own unread count only."""

    __tablename__ = "chat_reads"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(BigInteger)


class ChatPreferenceRow(Base):
    """A member's choices for the chat. ``share_read``: the other members of their rooms see
    how far they have read ("read by"); off unless they switch it on."""

    __tablename__ = "chat_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    share_read: Mapped[bool] = mapped_column(Boolean, default=False)


class ChatKeyPackageRow(Base):
    """A device's MLS key package, waiting to be handed out once: a member's device adds this
    device to a room's group with it, even while this device is offline."""

    __tablename__ = "chat_key_packages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(
        ForeignKey("chat_devices.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ChatGroupDeviceRow(Base):
    """A device in a room's group, as the commits said (create, external join, add, remove);
    ``welcome`` waits for a device that was added (until it has joined with it)."""

    __tablename__ = "chat_group_devices"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    device_id: Mapped[str] = mapped_column(
        ForeignKey("chat_devices.id", ondelete="CASCADE"), primary_key=True
    )
    welcome: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    welcome_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ChatBlobRow(Base):
    """An attachment's blob (rathaus.chat.blobs): ciphertext the server cannot read, kept in the
    blob store under its room and its random id. Its key is inside the chat message that names it.
    ``uploader_id`` outlives the account (as an event's author)."""

    __tablename__ = "chat_blobs"
    __table_args__ = (Index("ix_chat_blobs_room_created", "room_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, base64url
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    uploader_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

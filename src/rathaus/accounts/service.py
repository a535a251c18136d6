"""The rules for accounts: who may sign in, sessions, administrators."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus.accounts import store
from rathaus.accounts.identity import ExternalIdentity
from rathaus.accounts.passwords import check_strength, hash_password, needs_rehash, verify_password
from rathaus.accounts.throttle import Throttle
from rathaus.config import AccountSettings
from rathaus.db.models import SessionRow, UserRow
from rathaus.errors import AuthenticationFailed, BadMessage, ClientError, ErrorCode, NotFound
from rathaus.keyed_lock import KeyedLock

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")

PasswordCheck = Callable[[str, str], Awaitable[ExternalIdentity]]


class SignInLocked(ClientError):
    code = ErrorCode.LOCKED
    status = 429


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    is_admin: bool
    provider: str

    @property
    def role(self) -> str:
        return "administrator" if self.is_admin else "member"

    @classmethod
    def of(cls, row: UserRow) -> User:
        return cls(row.id, row.username, row.display_name, row.is_admin, row.provider)


@dataclass(frozen=True)
class SignedIn:
    """An active sign-in: the user, and the token that state-changing requests must echo."""

    user: User
    csrf_token: str
    token_hash: str


def normalize_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise BadMessage("a user name has 1 to 64 characters: a-z, 0-9, and . _ @ -")
    return name


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class AccountService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        settings: AccountSettings,
        *,
        directory: PasswordCheck | None = None,
        external_sign_in: bool = False,
        pseudonyms: Callable[[str], str] | None = None,
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._directory = directory  # LDAP: checks a user name and password
        self._external = external_sign_in or directory is not None
        self._attempts = KeyedLock()
        self._throttle = Throttle(
            "sign-in",
            max_failures=settings.max_failures,
            window=settings.lockout_seconds,
            lockout=settings.lockout_seconds,
            pseudonyms=pseudonyms,
        )

    # --- administration --------------------------------------------------------------------------

    async def create_user(
        self, username: str, password: str | None, display_name: str = "", *, admin: bool = False
    ) -> User:
        name = normalize_username(username)
        if password is not None and (problem := check_strength(password)):
            raise BadMessage(problem)
        display = " ".join(display_name.split())[:200] or name
        row = UserRow(
            username=name,
            display_name=display,
            password_hash=await hash_password(password) if password is not None else None,
            is_admin=admin,
            provider="local",
        )
        async with self._sessions.begin() as session:
            return User.of(await store.insert_user(session, row))

    async def set_admin(self, username: str, admin: bool) -> User:
        async with self._sessions.begin() as session:
            row = await self._existing(session, username)
            row.is_admin = admin
            return User.of(row)

    async def delete_user(self, username: str) -> None:
        async with self._sessions.begin() as session:
            await session.delete(await self._existing(session, username))

    async def user_named(self, username: str) -> User:
        async with self._sessions() as session:
            return User.of(await self._existing(session, username))

    async def list_users(self) -> list[User]:
        async with self._sessions() as session:
            return [User.of(row) for row in await store.all_users(session)]

    async def accounts_configured(self) -> bool:
        """Whether this installation has sign-in at all (then ad-hoc rooms are off by default)."""
        if self._external:
            return True
        async with self._sessions() as session:
            return await store.count_users(session) > 0

    async def password_sign_in(self) -> bool:
        """Whether a user name and password can sign in here (local accounts or LDAP)."""
        if self._directory is not None:
            return True
        async with self._sessions() as session:
            return await store.count_users(session) > 0

    async def _existing(self, session: AsyncSession, username: str) -> UserRow:
        row = await store.user_by_name(session, normalize_username(username))
        if row is None:
            raise NotFound(f"there is no user {username!r}")
        return row

    # --- signing in --------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str, address: str) -> tuple[str, SignedIn]:
        """Check a user name and password (local account, else the directory); start a session."""
        try:
            name = normalize_username(username)
        except BadMessage:
            raise AuthenticationFailed("wrong user name or password") from None
        keys = (f"user:{name}", f"address:{address}")
        async with self._attempts.hold(*keys):  # one at a time per name and address
            if self._throttle.locked(*keys):
                raise SignInLocked("too many failed sign-ins; try again in a few minutes")
            user = await self._check_password(name, password)
            if user is None:
                self._throttle.failed(*keys)
                raise AuthenticationFailed("wrong user name or password")
            self._throttle.succeeded(*keys)
        return await self._start_session(user)

    async def _check_password(self, name: str, password: str) -> User | None:
        if not password:
            return None
        async with self._sessions.begin() as session:
            row = await store.user_by_name(session, name)
            if row is not None and row.provider == "local":
                if not await verify_password(row.password_hash, password):
                    return None
                if row.password_hash and needs_rehash(row.password_hash):
                    row.password_hash = await hash_password(password)
                return User.of(row)
        if self._directory is None:
            await verify_password(None, password)  # same time as a wrong password
            return None
        try:
            identity = await self._directory(name, password)
        except AuthenticationFailed:
            return None
        return await self.account_for(identity)

    async def account_for(self, identity: ExternalIdentity) -> User:
        """The account of an identity confirmed by OIDC or LDAP, created on first sign-in."""
        async with self._sessions.begin() as session:
            row = await store.user_by_identity(session, identity.provider, identity.subject)
            if row is None:
                username = normalize_username(identity.username)
                if await store.user_by_name(session, username) is not None:
                    username = normalize_username(f"{username[:50]}-{identity.provider}")
                row = await store.insert_user(
                    session,
                    UserRow(
                        username=username,
                        display_name=identity.display_name[:200] or username,
                        provider=identity.provider,
                        subject=identity.subject,
                        is_admin=False,
                    ),
                )
            else:
                row.display_name = identity.display_name[:200] or row.display_name
            return User.of(row)

    async def start_session_for(self, identity: ExternalIdentity) -> tuple[str, SignedIn]:
        return await self._start_session(await self.account_for(identity))

    async def _start_session(self, user: User) -> tuple[str, SignedIn]:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        now = _now()
        row = SessionRow(
            token_hash=_hash_token(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=self._settings.session_hours),
        )
        async with self._sessions.begin() as session:
            await store.delete_expired_sessions(session, now)
            await store.insert_session(session, row)
        return token, SignedIn(user, csrf, row.token_hash)

    async def session(self, token: str) -> SignedIn | None:
        if not token or len(token) > 100:
            return None
        async with self._sessions() as session:
            found = await store.session_by_hash(session, _hash_token(token), _now())
        if found is None:
            return None
        row, user = found
        return SignedIn(User.of(user), row.csrf_token, row.token_hash)

    async def sign_out(self, signed_in: SignedIn) -> None:
        async with self._sessions.begin() as session:
            await store.delete_session(session, signed_in.token_hash)

    async def sign_out_everywhere(self, user: User) -> int:
        async with self._sessions.begin() as session:
            return await store.delete_sessions_of(session, user.id)

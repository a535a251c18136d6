"""Builds the ASGI application from the feature packages and runs its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rathaus import audit_api, datadir, http_errors
from rathaus.accounts import api as accounts_api
from rathaus.accounts import oidc_api
from rathaus.accounts.ldap import LdapAuthenticator
from rathaus.accounts.oidc import OidcClient
from rathaus.accounts.service import AccountService
from rathaus.audit import AuditLog
from rathaus.bodylimit import BodyLimit
from rathaus.bus import Bus, create_bus
from rathaus.bus.memory import MemoryBus
from rathaus.chat import api as chat_api
from rathaus.chat import attachments_api
from rathaus.chat import socket as chat_socket
from rathaus.chat.attachments import Attachments
from rathaus.chat.blobs import create_blob_store
from rathaus.chat.retention import RetentionJob
from rathaus.chat.service import ChatService
from rathaus.chat.signals import Signals
from rathaus.config import Settings
from rathaus.db.engine import create_engine, migrate, sessionmaker
from rathaus.media.janus.pool import JanusNode, JanusPool
from rathaus.media.janus.supervisor import JanusSupervisor
from rathaus.meetings import api as meetings_api
from rathaus.meetings.door import Door
from rathaus.meetings.registry import MeetingRegistry
from rathaus.rooms import api as rooms_api
from rathaus.rooms.guest_links import GuestLinks
from rathaus.rooms.invites import Invites
from rathaus.rooms.service import RoomService
from rathaus.secrets_store import Pseudonyms, Signer, load_or_create_key
from rathaus.services import Services
from rathaus.web import pages
from rathaus.web.branding import Branding

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob: mediastream:; "
        "img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(self), display-capture=(self)",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def start_media(settings: Settings) -> tuple[JanusPool, JanusSupervisor | None]:
    """The managed Janus (embedded default), or the configured external nodes."""
    supervisor = None
    if settings.janus.managed:
        supervisor = JanusSupervisor(
            settings.server.data_dir,
            binary=settings.janus.binary,
            ice_enforce_list=settings.janus.ice_enforce_list or None,
            nat_1_1=settings.janus.nat_1_1_mapping or None,
            rtp_port_range=(settings.janus.rtp_port_min, settings.janus.rtp_port_max),
        )
        url, secret = await supervisor.start()
        nodes = [JanusNode("managed", url, secret)]
    else:
        nodes = [JanusNode(n.name, n.url, n.api_secret or None) for n in settings.janus.nodes]
    pool = JanusPool(
        nodes,
        request_timeout=settings.janus.request_timeout,
        keepalive_interval=settings.janus.keepalive_interval,
    )
    await pool.start()
    return pool, supervisor


def wire_services(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    pool: JanusPool,
    supervisor: JanusSupervisor | None,
    branding: Branding | None = None,
    bus: Bus | None = None,
) -> Services:
    """The feature services, each given what it needs."""
    secret_key = load_or_create_key(settings.server.data_dir)  # generated at first start
    # Every lockout's log line names its address or user name by this installation's pseudonym.
    pseudonyms = Pseudonyms(secret_key)
    directory = LdapAuthenticator(settings.ldap) if settings.ldap.enabled else None
    accounts = AccountService(
        sessions,
        settings.accounts,
        directory=directory.authenticate if directory else None,
        external_sign_in=settings.oidc.enabled,
        pseudonyms=pseudonyms,
    )
    invites = Invites(Signer(secret_key, "guest-link"))
    rooms = RoomService(
        sessions,
        adhoc=settings.meeting.adhoc_rooms,
        accounts_configured=accounts.accounts_configured,
    )
    guest_links = GuestLinks(sessions, rooms, invites)
    audit = AuditLog(sessions)
    one_writer = settings.database_url.startswith("sqlite")
    bus = bus or MemoryBus()
    chat = ChatService(sessions, rooms, bus, one_writer=one_writer)
    rooms.members_changed.append(chat.members_changed)
    return Services(
        settings=settings,
        accounts=accounts,
        rooms=rooms,
        meetings=MeetingRegistry(pool, settings.meeting, settings.turn, audit),
        door=Door(
            rooms,
            accounts,
            guest_links,
            joins_per_minute=settings.meeting.join_attempts_per_minute,
            first_in_moderates=settings.meeting.first_in_moderates,
            pseudonyms=pseudonyms,
        ),
        invites=invites,
        guest_links=guest_links,
        audit=audit,
        oidc=OidcClient(settings.oidc) if settings.oidc.enabled else None,
        oidc_signer=Signer(secret_key, "oidc-pending"),
        janus=pool,
        janus_supervisor=supervisor,
        branding=branding or Branding.load(settings.branding),
        chat=chat,
        signals=Signals(sessions, bus, rooms, typing=settings.chat.typing_indicators),
        attachments=Attachments(chat, create_blob_store(settings, sessions), settings.chat),
    )


def create_app(settings: Settings) -> FastAPI:
    branding = Branding.load(settings.branding)  # a bad logo stops the start here, plainly

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        datadir.prepare(settings)  # private: 0700, the database 0600
        engine = create_engine(settings.database_url)
        await migrate(engine)
        bus = create_bus(settings.bus.url, prefix=settings.bus.prefix)
        await bus.start()
        pool, supervisor = await start_media(settings)
        wired = wire_services(settings, sessionmaker(engine), pool, supervisor, branding, bus)
        app.state.services = wired
        retention = RetentionJob(
            sessionmaker(engine),
            settings.chat.purge_interval,
            lambda: datetime.now(UTC),
            extras=(wired.attachments.blobs.delete_blobs_older_than,),  # attachments go too
        )
        retention.start()
        try:
            yield
        finally:
            await retention.stop()
            await wired.meetings.close()
            await wired.attachments.close()
            await bus.close()
            await pool.close()
            if supervisor is not None:
                await supervisor.stop()
            await engine.dispose()

    # The interactive docs pages would load scripts from a CDN; the OpenAPI document is enough.
    app = FastAPI(
        title="Rathaus",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    http_errors.install(app)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    # Outermost (added last): a body over its limit is refused before anything reads it.
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.server.max_body_bytes,
        streamed={attachments_api.UPLOAD: settings.chat.max_attachment_bytes},
    )

    @app.get("/api/health", tags=["operations"])
    async def health() -> dict[str, object]:
        return {"status": "ok", "meetings": len(app.state.services.meetings)}

    app.include_router(accounts_api.router)
    app.include_router(oidc_api.router)
    app.include_router(audit_api.router)
    app.include_router(rooms_api.router)
    app.include_router(rooms_api.direct_router)
    app.include_router(meetings_api.router)
    app.include_router(chat_api.router)
    app.include_router(attachments_api.router)
    app.include_router(chat_socket.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=pages.STATIC), name="static")
    return app

"""The application object: every service of the feature packages, built once at start
(:func:`rathaus.app.wire_services`) and reached from a handler by :func:`services` — one typed
object instead of string lookups on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import HTTPConnection

from rathaus.accounts.oidc import OidcClient
from rathaus.accounts.service import AccountService
from rathaus.audit import AuditLog
from rathaus.chat.attachments import Attachments
from rathaus.chat.service import ChatService
from rathaus.chat.signals import Signals
from rathaus.config import Settings
from rathaus.media.janus.pool import JanusPool
from rathaus.media.janus.supervisor import JanusSupervisor
from rathaus.meetings.door import Door
from rathaus.meetings.registry import MeetingRegistry
from rathaus.rooms.guest_links import GuestLinks
from rathaus.rooms.invites import Invites
from rathaus.rooms.service import RoomService
from rathaus.secrets_store import Signer
from rathaus.web.branding import Branding


@dataclass(frozen=True)
class Services:
    settings: Settings
    accounts: AccountService
    rooms: RoomService
    meetings: MeetingRegistry
    door: Door
    invites: Invites
    guest_links: GuestLinks
    audit: AuditLog
    oidc: OidcClient | None  # None: no OpenID Connect sign-in configured
    oidc_signer: Signer
    janus: JanusPool
    janus_supervisor: JanusSupervisor | None  # None: external Janus nodes
    branding: Branding
    chat: ChatService
    signals: Signals  # typing and "read by": never stored
    attachments: Attachments


def services(connection: HTTPConnection) -> Services:
    """The services of the application serving this request or WebSocket."""
    found = connection.app.state.services
    assert isinstance(found, Services), "the application has not started"
    return found

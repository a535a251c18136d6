"""One typed settings object, read from ``rathaus.toml`` and ``RATHAUS_*`` environment variables.

Precedence: defaults < TOML file < environment < command-line flags. Every environment variable
is ``RATHAUS_<SECTION>_<KEY>`` in upper case, e.g. ``RATHAUS_SERVER_PORT=9000``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from rathaus.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    data_dir: Path = Path("data")
    # Log client IP addresses (off by default: data minimisation).
    access_log: bool = False
    # Reverse proxies (addresses or networks, e.g. "127.0.0.1", "10.0.0.0/24") whose
    # X-Forwarded-For and X-Forwarded-Proto are believed; empty: no proxy is trusted, and the
    # client's address is the address of the connection.
    forwarded_allow_ips: list[str] = []
    # The largest HTTP request body, in bytes (smaller limits for some endpoints: bodylimit.py).
    max_body_bytes: int = Field(64 * 1024, ge=1024, le=16 * 1024 * 1024)

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _addresses_or_networks(cls, values: list[str]) -> list[str]:
        result = []
        for value in values:
            try:
                if "/" in value:
                    result.append(str(ipaddress.ip_network(value.strip(), strict=False)))
                else:
                    result.append(str(ipaddress.ip_address(value.strip())))
            except ValueError:
                raise ValueError(
                    f"{value!r} is neither an IP address nor a network such as 10.0.0.0/24"
                ) from None
        return result


class DatabaseSettings(_Section):
    # Empty means the embedded default: SQLite in the data directory.
    url: str = ""


class ChatSettings(_Section):
    """Limits of the chat (rathaus.chat)."""

    # Chat frames one socket may send per second, and saved up for a burst.
    messages_per_second: float = Field(default=20.0, gt=0)
    burst: float = Field(default=60.0, ge=1)
    # Attachments (rathaus.chat.attachments): the largest blob, i.e. an encrypted file (its size
    # plus 16 bytes per MiB), and the bytes one member may upload per hour (in each process).
    max_attachment_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    attachment_bytes_per_hour: int = Field(default=1024 * 1024 * 1024, ge=1024)
    # Where blobs are kept: "disk" (<data_dir>/blobs, the default) or "s3", an S3-compatible
    # store (MinIO, Ceph, AWS, …) at s3_endpoint, in s3_bucket (which must exist).
    blob_store: Literal["disk", "s3"] = "disk"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    s3_region: str = "us-east-1"
    # Seconds between the purges of messages past their room's retention (rathaus.chat.retention).
    purge_interval: float = Field(default=3600.0, ge=1)
    # "Anna is typing…" for the other members (rathaus.chat.signals). Off: typing is metadata.
    typing_indicators: bool = False

    @model_validator(mode="after")
    def _s3_complete(self) -> ChatSettings:
        if self.blob_store == "s3":
            if not self.s3_endpoint.startswith(("https://", "http://")):
                raise ValueError("with blob_store s3, s3_endpoint is an http(s):// URL")
            if not self.s3_bucket:
                raise ValueError("s3_bucket is needed with blob_store s3")
        return self


class BusSettings(_Section):
    """How chat events reach the WebSockets of other Rathaus processes (rathaus.bus)."""

    # Empty: in-process (one rathaus process); redis://host:port/db: Redis pub/sub, for several
    # processes on one PostgreSQL (also rediss:// for TLS, unix:///path/to/redis.sock).
    url: str = ""
    # Put before every channel name: installations that share one Redis each need their own.
    prefix: str = Field("rathaus:", min_length=1, max_length=64, pattern=r"^[!-~]+$")

    @field_validator("url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if value and not value.lower().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("the event bus URL must start with redis://, rediss:// or unix://")
        return value


class JanusNodeSettings(_Section):
    name: str
    url: str
    api_secret: str = ""

    @field_validator("url")
    @classmethod
    def _websocket_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("a Janus node URL must start with ws:// or wss://")
        return value


class JanusSettings(_Section):
    # External nodes; when the list is empty Rathaus starts and manages one Janus itself.
    nodes: list[JanusNodeSettings] = []
    binary: str = "janus"
    # Interfaces Janus may use for ICE, e.g. "eth0" or "lo" (tests); empty means all.
    ice_enforce_list: str = ""
    # The public address when Janus runs behind 1:1 NAT.
    nat_1_1_mapping: str = ""
    rtp_port_min: int = Field(20000, ge=1024, le=65535)
    rtp_port_max: int = Field(40000, ge=1024, le=65535)
    # Seconds Rathaus waits for Janus to answer one request; an unanswered request fails alone.
    request_timeout: float = Field(10.0, gt=0, le=120)
    # Seconds between keepalives of each Janus session (Janus ends a session after 60 s of
    # silence). An unanswered keepalive counts the node as down.
    keepalive_interval: float = Field(25.0, gt=0, le=50)

    @property
    def managed(self) -> bool:
        return not self.nodes


class TurnSettings(_Section):
    # e.g. ["turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:443"]
    urls: list[str] = []
    # coturn's static-auth-secret (use-auth-secret); credentials are derived per participant.
    secret: str = ""
    ttl: int = Field(6 * 3600, ge=60, le=7 * 86400)

    @property
    def enabled(self) -> bool:
        return bool(self.urls and self.secret)


class MeetingSettings(_Section):
    # Opening /r/<name> creates the room if it does not exist yet. Unset: only as long as no
    # account exists and no sign-in (OIDC, LDAP) is configured.
    adhoc_rooms: bool | None = None
    max_participants: int = Field(200, ge=2, le=2000)
    # Seconds a participant whose connection dropped stays in the meeting, waiting to resume.
    resume_grace: float = Field(5.0, ge=0, le=600)
    # Seconds of silence after which a WebSocket counts as dead.
    keepalive_timeout: float = Field(10.0, ge=2, le=600)
    # Attempts to join (or knock) per minute and address before `rate_limited`.
    join_attempts_per_minute: int = Field(30, ge=1, le=100_000)
    # End-to-end encrypted meetings (on by default): clients encrypt their media, and participants
    # whose device cannot are refused (`e2ee_required`) unless a moderator allows them; while one
    # of those is present, the meeting is shown as not end-to-end encrypted (docs/protocol.md).
    e2ee_required: bool = True
    # People waiting in the lobby at once (apart from max_participants, so that a full lobby
    # never keeps the room's moderators out; moderators never wait and are never refused as
    # "full").
    max_waiting: int = Field(50, ge=1, le=2000)
    # Rooms nobody owns (ad-hoc rooms, `rathaus admin create-room`): whoever is admitted while
    # the meeting has no moderator moderates (as in Jitsi Meet). False: only administrators
    # moderate such rooms. Either way the first person passes the room's rules (members only,
    # password, lobby) like anyone.
    first_in_moderates: bool = True


class AccountSettings(_Section):
    # How long a sign-in lasts, in hours.
    session_hours: float = Field(12.0, gt=0, le=24 * 90)
    # Failed sign-ins per user name (and per address) before a temporary lockout.
    max_failures: int = Field(5, ge=1, le=100)
    lockout_seconds: float = Field(300.0, ge=1, le=86400)


class LdapSettings(_Section):
    """Sign-in against an LDAP directory or Active Directory (off while ``url`` is empty)."""

    # ldap://host:389 or ldaps://host:636; empty turns LDAP sign-in off.
    url: str = ""
    # Upgrade an ldap:// connection with StartTLS (refused if the server does not offer it).
    start_tls: bool = False
    # PEM file of the CA(s) to trust for ldaps:// or StartTLS; empty means the system's CAs.
    ca_file: str = ""
    # Check the server's certificate and host name. Turn off only for tests.
    tls_verify: bool = True
    # The service account that searches for users; both empty means an anonymous search.
    bind_dn: str = ""
    bind_password: SecretStr = SecretStr("")
    # Where users are searched (whole subtree), e.g. "ou=people,dc=example,dc=org".
    base_dn: str = ""
    # {username} is replaced by the escaped user name.
    # AD: (&(objectClass=user)(sAMAccountName={username}))
    user_filter: str = "(&(objectClass=person)(uid={username}))"
    username_attribute: str = "uid"  # AD: sAMAccountName
    display_name_attribute: str = "cn"  # AD: displayName
    email_attribute: str = "mail"
    # A stable, never reused id: entryUUID (OpenLDAP), objectGUID (AD). Empty: the DN.
    id_attribute: str = "entryUUID"
    # Groups from an attribute of the user's entry that lists group DNs (memberOf); empty: none.
    group_attribute: str = "memberOf"
    # Or from a group search; {dn} is replaced by the user's escaped DN,
    # e.g. "(&(objectClass=groupOfNames)(member={dn}))". Empty: no group search.
    group_filter: str = ""
    # Where groups are searched; empty means base_dn.
    group_base_dn: str = ""
    # The attribute that names a found group.
    group_name_attribute: str = "cn"
    # Seconds for connecting and for each answer.
    timeout: float = Field(5.0, gt=0, le=60)

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        if value and not value.lower().startswith(("ldap://", "ldaps://")):
            raise ValueError("an LDAP URL must start with ldap:// or ldaps://")
        return value

    @field_validator("user_filter")
    @classmethod
    def _user_placeholder(cls, value: str) -> str:
        if "{username}" not in value:
            raise ValueError("the user filter must contain {username}")
        return value

    @field_validator("group_filter")
    @classmethod
    def _group_placeholder(cls, value: str) -> str:
        if value and "{dn}" not in value:
            raise ValueError("the group filter must contain {dn}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> LdapSettings:
        if self.start_tls and self.url.lower().startswith("ldaps://"):
            raise ValueError("start_tls is for ldap:// URLs; ldaps:// is TLS from the start")
        if self.bind_dn and not self.bind_password.get_secret_value():
            raise ValueError(
                "bind_password is needed with bind_dn (an empty one binds anonymously)"
            )
        if self.url and not self.base_dn:
            raise ValueError("base_dn is needed to search for users")
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.url)


class OidcSettings(_Section):
    """Sign-in with an OpenID Connect provider (authorization code flow with PKCE)."""

    # The provider's issuer URL exactly as its discovery document states it; empty: OIDC is off.
    issuer: str = ""
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    # How Rathaus authenticates itself at the provider's token endpoint.
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic"
    )
    scopes: str = "openid profile email"
    # The ID token claim that names the user (fallbacks: email, then sub).
    username_claim: str = "preferred_username"
    # The ID token claim that lists the user's groups (a list of strings, or one string).
    groups_claim: str = "groups"
    # Seconds for each request to the provider (discovery, keys, token).
    timeout: float = Field(10.0, gt=0, le=120)
    # Seconds a started sign-in may take before its callback is refused.
    login_timeout: float = Field(600.0, ge=10, le=3600)
    # Seconds of clock difference to the provider tolerated when checking the ID token's times.
    clock_skew: float = Field(60.0, ge=0, le=600)

    @field_validator("issuer")
    @classmethod
    def _secure_issuer(cls, value: str) -> str:
        if not value:
            return value
        url = urlsplit(value)
        loopback = url.hostname in ("127.0.0.1", "::1", "localhost")
        if url.scheme != "https" and not (url.scheme == "http" and loopback):
            raise ValueError("an OIDC issuer must be an https:// URL (http:// only on loopback)")
        if url.query or url.fragment:
            raise ValueError("an OIDC issuer has no query or fragment")
        return value

    @model_validator(mode="after")
    def _client_registered(self) -> OidcSettings:
        if self.issuer and not (self.client_id and self.client_secret.get_secret_value()):
            raise ValueError("client_id and client_secret are needed with an OIDC issuer")
        if "openid" not in self.scopes.split():
            raise ValueError('the OIDC scopes must include "openid"')
        return self

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)


_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")


class BrandingSettings(_Section):
    """How the installation presents itself on every page."""

    # e.g. "Videokonferenz der Stadt Musterstadt"; empty: "Rathaus"
    name: str = Field("", max_length=80)
    # A PNG, JPEG, WebP or SVG file shown beside the name (at most 512 KiB)
    logo: Path | None = None
    # The colour of primary buttons and highlights, "#rrggbb"; empty: Rathaus's blue. The text
    # on it is black or white, whichever contrasts more (always at least 4.5:1).
    accent: str = ""

    @field_validator("name")
    @classmethod
    def _printable_name(cls, value: str) -> str:
        value = " ".join(value.split())
        if not value.isprintable():
            raise ValueError("the installation's name has printable characters only")
        return value

    @field_validator("logo", mode="before")
    @classmethod
    def _no_logo(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("accent")
    @classmethod
    def _colour(cls, value: str) -> str:
        if value and not _HEX_COLOUR.fullmatch(value):
            raise ValueError('the accent colour is written "#rrggbb", e.g. "#005a9c"')
        return value.lower()


class Settings(_Section):
    server: ServerSettings = ServerSettings()
    database: DatabaseSettings = DatabaseSettings()
    bus: BusSettings = BusSettings()
    chat: ChatSettings = ChatSettings()
    janus: JanusSettings = JanusSettings()
    turn: TurnSettings = TurnSettings()
    meeting: MeetingSettings = MeetingSettings()
    accounts: AccountSettings = AccountSettings()
    oidc: OidcSettings = OidcSettings()
    ldap: LdapSettings = LdapSettings()
    branding: BrandingSettings = BrandingSettings()

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.server.data_dir.resolve() / 'rathaus.db'}"


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Map RATHAUS_<SECTION>_<KEY> to nested settings; lists are given as TOML arrays."""
    result: dict[str, dict[str, Any]] = {}
    for section_name, field in Settings.model_fields.items():
        section_type = field.annotation
        assert isinstance(section_type, type) and issubclass(section_type, BaseModel)
        for key, key_field in section_type.model_fields.items():
            raw = environ.get(f"RATHAUS_{section_name}_{key}".upper())
            if raw is None:
                continue
            value: Any = raw
            if getattr(key_field.annotation, "__origin__", None) is list:
                try:
                    value = tomllib.loads(f"v = {raw}")["v"]
                except tomllib.TOMLDecodeError as exc:
                    raise ConfigError(
                        f"RATHAUS_{section_name}_{key}".upper() + f" is not a TOML array: {exc}"
                    ) from exc
            result.setdefault(section_name, {})[key] = value
    return result


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the settings; raise ConfigError with a plain-words message when they are invalid."""
    environ = os.environ if environ is None else environ
    data: dict[str, Any] = {}
    path = config_file or (Path(environ["RATHAUS_CONFIG"]) if "RATHAUS_CONFIG" in environ else None)
    if path is None and Path("rathaus.toml").is_file():
        path = Path("rathaus.toml")
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"configuration file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"configuration file {path} is not valid TOML: {exc}") from exc
    data = _merge(data, _from_environment(environ))
    data = _merge(data, overrides or {})
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc

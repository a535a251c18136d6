"""Sign-in against an LDAP directory or Active Directory, the way Keycloak and Nextcloud do it.

Bind as the service account (or anonymously), search ``base_dn`` for the one entry that matches
``user_filter`` with the escaped user name, bind as that entry with the given password, and read
the name, e-mail address, stable id and groups. ldap3's blocking calls run in a worker thread.

Refusals (unknown user, wrong password, several matching entries) all raise
:class:`AuthenticationFailed` with the same message, so nobody learns whether a user exists. A
directory that cannot be reached, or refuses the service account, raises
:class:`IdentityUnavailable` with a message for the administrator. Passwords are never logged; DNs
only at debug level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import ssl
import uuid
import warnings
from typing import Any, NoReturn
from urllib.parse import urlsplit

from rathaus.accounts.identity import ExternalIdentity
from rathaus.config import LdapSettings
from rathaus.errors import AuthenticationFailed, ConfigError, IdentityUnavailable

with warnings.catch_warnings():
    # ldap3 2.9.1 (the latest) imports pyasn1's tagMap and typeMap, deprecated in pyasn1 0.6.1.
    warnings.filterwarnings("ignore", r"(tag|type)Map is deprecated", DeprecationWarning)
    import ldap3
    from ldap3.core.exceptions import LDAPException, LDAPStartTLSError
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import parse_dn

log = logging.getLogger(__name__)

REFUSED = "Wrong user name or password."
MAX_USERNAME = 256
INVALID_CREDENTIALS = 49
# Result codes that mean "the directory cannot serve now", not "you may not sign in".
UNAVAILABLE = {51: "busy", 52: "unavailable", 80: "other"}
MAX_GROUPS = 1000


class _Tls(ldap3.Tls):
    """ldap3's TLS settings, with the standard library checking the certificate and host name
    (ldap3's own host name check uses ``ssl.match_hostname``: deprecated, gone in Python 3.12)."""

    def __init__(self, context: ssl.SSLContext, hostname: str) -> None:
        super().__init__(validate=context.verify_mode)
        self._context = context
        self._hostname = hostname

    def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
        connection.socket = self._context.wrap_socket(
            connection.socket,
            server_side=False,
            do_handshake_on_connect=do_handshake,
            server_hostname=self._hostname,
        )


def _tls_context(settings: LdapSettings) -> ssl.SSLContext:
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"ldap.ca_file {settings.ca_file!r} cannot be read: {exc}") from exc
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class LdapAuthenticator:
    """Checks user names and passwords against the directory configured in ``[ldap]``."""

    provider = "ldap"

    def __init__(self, settings: LdapSettings) -> None:
        if not settings.enabled:
            raise ConfigError("LDAP sign-in needs ldap.url")
        self._settings = settings
        self._url = settings.url
        self._tls = _Tls(_tls_context(settings), urlsplit(settings.url).hostname or "")
        if not settings.tls_verify:
            log.warning("ldap.tls_verify is off: the directory's certificate is not checked")
        elif not settings.start_tls and settings.url.lower().startswith("ldap://"):
            log.warning(
                "LDAP passwords travel unencrypted to %s: use ldaps:// or start_tls", self._url
            )

    async def authenticate(self, username: str, password: str) -> ExternalIdentity:
        """The identity of ``username`` if ``password`` is theirs; else AuthenticationFailed.

        Raises IdentityUnavailable when the directory cannot be asked."""
        # An empty password would be an unauthenticated bind, which many servers call a success.
        if not username or not password or len(username) > MAX_USERNAME:
            raise AuthenticationFailed(REFUSED)
        return await asyncio.to_thread(self._authenticate, username, password)

    # --- blocking, in a worker thread ------------------------------------------------------------

    def _authenticate(self, username: str, password: str) -> ExternalIdentity:
        service = self._connect(
            self._settings.bind_dn, self._settings.bind_password.get_secret_value()
        )
        try:
            dn, attributes = self._find_user(service, username)
            self._check_password(dn, password)
            groups = self._groups(service, dn, attributes)
        finally:
            _close(service)
        return self._identity(dn, attributes, username, groups)

    def _connect(self, user: str, password: str, *, service: bool = True) -> ldap3.Connection:
        """An open, bound connection; IdentityUnavailable when the directory cannot be used."""
        settings = self._settings
        server = ldap3.Server(
            settings.url, get_info=ldap3.NONE, connect_timeout=settings.timeout, tls=self._tls
        )
        connection = ldap3.Connection(
            server,
            user=user or None,
            password=password or None,
            authentication=ldap3.SIMPLE if user else ldap3.ANONYMOUS,
            receive_timeout=math.ceil(settings.timeout),  # ldap3 packs it as an integer
            auto_referrals=False,
            read_only=True,
            raise_exceptions=False,
        )
        try:
            connection.open(read_server_info=False)
            if settings.start_tls:
                connection.start_tls(read_server_info=False)
            bound = connection.bind(read_server_info=False)
        except LDAPStartTLSError as exc:
            _close(connection)
            raise IdentityUnavailable(self._start_tls_problem(exc)) from exc
        except LDAPException as exc:
            _close(connection)
            raise IdentityUnavailable(f"cannot reach the directory at {self._url}: {exc}") from exc
        if bound:
            return connection
        result = dict(connection.result)
        _close(connection)
        if not service:
            self._refuse_user_bind(result)
        who = "the service account (ldap.bind_dn)" if user else "an anonymous bind"
        log.error("The directory at %s refused %s: %s", self._url, who, _describe(result))
        raise IdentityUnavailable(
            f"the directory at {self._url} refused {who}: {_describe(result)}; "
            "check ldap.bind_dn and ldap.bind_password"
        )

    def _start_tls_problem(self, exc: LDAPStartTLSError) -> str:
        if str(exc).startswith("startTLS failed"):  # the server answered the request with an error
            return (
                f"the directory at {self._url} does not offer StartTLS ({exc}): "
                "give the server a certificate, or use ldaps://"
            )
        return (
            f"StartTLS with the directory at {self._url} failed ({exc}): "
            "is its certificate issued by a CA in ldap.ca_file, for the host name in ldap.url?"
        )

    def _find_user(self, connection: ldap3.Connection, username: str) -> tuple[str, _Attributes]:
        settings = self._settings
        search_filter = settings.user_filter.replace("{username}", escape_filter_chars(username))
        wanted = [
            name
            for name in (
                settings.username_attribute,
                settings.display_name_attribute,
                settings.email_attribute,
                settings.id_attribute,
                settings.group_attribute,
            )
            if name
        ]
        entries = self._search(connection, settings.base_dn, search_filter, wanted, limit=2)
        if len(entries) != 1:
            log.debug("LDAP user %r: %d matching entries, sign-in refused", username, len(entries))
            raise AuthenticationFailed(REFUSED)
        dn, attributes = entries[0]
        log.debug("LDAP user %r is %s", username, dn)
        return dn, attributes

    def _check_password(self, dn: str, password: str) -> None:
        _close(self._connect(dn, password, service=False))

    def _refuse_user_bind(self, result: dict[str, Any]) -> NoReturn:
        code = result.get("result")
        if code in UNAVAILABLE:
            raise IdentityUnavailable(f"the directory at {self._url} is {_describe(result)}")
        if code != INVALID_CREDENTIALS:
            log.warning("LDAP bind of a user refused: %s", _describe(result))
        raise AuthenticationFailed(REFUSED)

    def _groups(
        self, connection: ldap3.Connection, dn: str, attributes: _Attributes
    ) -> tuple[str, ...]:
        settings = self._settings
        names = {_rdn_value(group) for group in _texts(attributes, settings.group_attribute)}
        if settings.group_filter:
            search_filter = settings.group_filter.replace("{dn}", escape_filter_chars(dn))
            base = settings.group_base_dn or settings.base_dn
            found = self._search(
                connection, base, search_filter, [settings.group_name_attribute], limit=MAX_GROUPS
            )
            for group_dn, group_attributes in found:
                own = _texts(group_attributes, settings.group_name_attribute)
                names.add(own[0] if own else _rdn_value(group_dn))
        names.discard("")
        return tuple(sorted(names))

    def _search(
        self,
        connection: ldap3.Connection,
        base: str,
        search_filter: str,
        attributes: list[str],
        *,
        limit: int,
    ) -> list[tuple[str, _Attributes]]:
        try:
            connection.search(
                base,
                search_filter,
                search_scope=ldap3.SUBTREE,
                attributes=attributes,
                size_limit=limit,
                time_limit=math.ceil(self._settings.timeout),
            )
        except LDAPException as exc:
            raise IdentityUnavailable(
                f"searching the directory at {self._url} failed: {exc}"
            ) from exc
        code = connection.result.get("result")
        if code not in (0, 4):  # success, sizeLimitExceeded
            log.error("LDAP search under %r failed: %s", base, _describe(connection.result))
            raise IdentityUnavailable(
                f"searching the directory at {self._url} under {base!r} failed: "
                f"{_describe(connection.result)}"
            )
        return [
            (response["dn"], _Attributes(response.get("raw_attributes", {})))
            for response in connection.response or []
            if response.get("type") == "searchResEntry"
        ]

    def _identity(
        self, dn: str, attributes: _Attributes, username: str, groups: tuple[str, ...]
    ) -> ExternalIdentity:
        settings = self._settings
        if settings.id_attribute:
            subject = _stable_id(attributes, settings.id_attribute)
            if subject is None:
                log.error("LDAP entry %s has no %s", dn, settings.id_attribute)
                raise IdentityUnavailable(
                    f"the directory entry has no {settings.id_attribute} (ldap.id_attribute)"
                )
        else:
            subject = dn
        own_name = _texts(attributes, settings.username_attribute)
        display = _texts(attributes, settings.display_name_attribute)
        email = _texts(attributes, settings.email_attribute)
        return ExternalIdentity(
            provider=self.provider,
            subject=subject,
            username=own_name[0] if own_name else username,
            display_name=display[0] if display else (own_name[0] if own_name else username),
            email=email[0] if email else None,
            groups=groups,
        )


class _Attributes:
    """An entry's raw attribute values, looked up by name regardless of case."""

    def __init__(self, raw: Any) -> None:
        self._values: dict[str, list[bytes]] = {
            str(name).lower(): [v if isinstance(v, bytes) else str(v).encode() for v in values]
            for name, values in dict(raw).items()
        }

    def raw(self, name: str) -> list[bytes]:
        return self._values.get(name.lower(), []) if name else []


def _texts(attributes: _Attributes, name: str) -> list[str]:
    return [value.decode("utf-8", "replace") for value in attributes.raw(name) if value]


def _stable_id(attributes: _Attributes, name: str) -> str | None:
    values = attributes.raw(name)
    if not values or not values[0]:
        return None
    value = values[0]
    if name.lower() == "objectguid" and len(value) == 16:  # Active Directory: binary, little-endian
        return str(uuid.UUID(bytes_le=value))
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.hex()


def _rdn_value(dn: str) -> str:
    """The value of a DN's first RDN, unescaped: ``cn=Rat\\, Stadt,ou=groups`` → ``Rat, Stadt``."""
    try:
        value = str(parse_dn(dn)[0][1])
    except (LDAPException, IndexError):
        return dn
    out = bytearray()
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out += value[i + 1].encode()
            i += 2
            continue
        out += char.encode()
        i += 1
    return out.decode("utf-8", "replace")


def _close(connection: ldap3.Connection) -> None:
    """Unbind and close, whatever state the connection is in (ldap3 leaves the socket of a
    failed connect open, and cannot unbind once a TLS handshake has failed)."""
    with contextlib.suppress(LDAPException, OSError):
        connection.unbind()
    sock = getattr(connection, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _describe(result: Any) -> str:
    description = result.get("description") or f"result {result.get('result')}"
    message = result.get("message") or ""
    return f"{description} ({message})" if message else str(description)

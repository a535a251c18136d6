"""``rathaus doctor``: checks the installation and says in plain words what is wrong."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from urllib.parse import urlsplit

from rathaus.config import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_data_dir(settings: Settings) -> Check:
    path = settings.server.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        return Check("data directory", False, f"{path} is not writable: {exc.strerror}")
    return Check("data directory", True, f"{path.resolve()} is writable")


async def check_database(settings: Settings) -> Check:
    from rathaus.db.engine import create_engine, migrate

    engine = create_engine(settings.database_url)
    try:
        await migrate(engine)
    except Exception as exc:
        return Check("database", False, f"cannot open or migrate the database: {exc}")
    finally:
        await engine.dispose()
    return Check("database", True, f"{engine.dialect.name} reachable, schema up to date")


def check_port(settings: Settings) -> Check:
    host, port = settings.server.host, settings.server.port
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                why = "is in use (is Rathaus already running?)"
            else:
                why = f"cannot be used: {exc.strerror}"
            return Check("listening port", False, f"{host}:{port} {why}")
    return Check("listening port", True, f"{host}:{port} is free")


async def check_janus(settings: Settings) -> list[Check]:
    if settings.janus.managed:
        binary = shutil.which(settings.janus.binary)
        if binary is None:
            return [
                Check(
                    "janus",
                    False,
                    f"'{settings.janus.binary}' is not installed (Debian: apt-get install janus)",
                )
            ]
        return [Check("janus", True, f"managed Janus at {binary}")]
    from rathaus.media.janus.client import JanusClient

    results = []
    for node in settings.janus.nodes:
        client = JanusClient(node.url, node.api_secret or None, request_timeout=5)
        try:
            await asyncio.wait_for(client.connect(), 5)
            info = await client.info()
            version = info.get("version_string", "?")
            plugins = info.get("plugins", {})
            if "janus.plugin.videoroom" not in plugins:
                results.append(Check(f"janus {node.name}", False, "VideoRoom plugin missing"))
            else:
                results.append(Check(f"janus {node.name}", True, f"Janus {version} answers"))
        except Exception as exc:
            results.append(
                Check(
                    f"janus {node.name}",
                    False,
                    f"cannot reach {node.url}: {exc or type(exc).__name__}",
                )
            )
        finally:
            await client.close()
    return results


async def check_turn(settings: Settings) -> Check:
    turn = settings.turn
    if not turn.urls:
        return Check("turn", True, "no TURN server configured (fine on one machine or a LAN)")
    if not turn.secret:
        return Check("turn", False, "turn.urls is set but turn.secret is empty")
    problems = []
    for url in turn.urls:
        scheme, _, rest = url.partition(":")
        target = urlsplit(f"//{rest.split('?')[0]}")
        if scheme not in ("turn", "turns") or not target.hostname:
            problems.append(f"{url} is not a turn: or turns: URL")
            continue
        port = target.port or (5349 if scheme == "turns" else 3478)
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(target.hostname, port), 3)
            writer.close()
            await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            problems.append(f"{target.hostname}:{port} does not accept TCP ({exc or 'timeout'})")
    if problems:
        return Check("turn", False, "; ".join(problems))
    return Check("turn", True, f"{len(turn.urls)} TURN URL(s) reachable")


async def check_sign_in(settings: Settings) -> list[Check]:
    """The identity services, if configured: OIDC discovery and an LDAP search."""
    from rathaus.errors import AuthenticationFailed, IdentityUnavailable

    results = []
    if settings.oidc.enabled:
        from rathaus.accounts.oidc import OidcClient

        try:
            await OidcClient(settings.oidc).discover()
            results.append(Check("oidc", True, f"{settings.oidc.issuer} answers"))
        except IdentityUnavailable as exc:
            results.append(Check("oidc", False, str(exc)))
    if settings.ldap.enabled:
        from rathaus.accounts.ldap import LdapAuthenticator

        try:  # a search for a name nobody has: proves the service account and the base DN
            await LdapAuthenticator(settings.ldap).authenticate("rathaus-doctor-probe", "-")
            results.append(Check("ldap", False, "the probe user exists?"))
        except AuthenticationFailed:
            results.append(Check("ldap", True, f"{settings.ldap.url} answers searches"))
        except IdentityUnavailable as exc:
            results.append(Check("ldap", False, str(exc)))
    return results


async def run_checks(settings: Settings) -> list[Check]:
    results = [check_data_dir(settings)]
    if os.access(settings.server.data_dir, os.W_OK):
        results.append(await check_database(settings))
    results.append(check_port(settings))
    results.extend(await check_janus(settings))
    results.append(await check_turn(settings))
    results.extend(await check_sign_in(settings))
    return results

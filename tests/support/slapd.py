"""A throwaway OpenLDAP server (Debian's ``slapd`` and ``ldap-utils``) with a directory of its own.

:func:`start_slapd` writes a ``slapd.conf`` into a temporary directory (mdb database there, suffix
``dc=rathaus,dc=test``, the core/cosine/inetorgperson schemas, the memberof overlay), starts slapd
on 127.0.0.1 on a free port, and seeds it over LDAP with ``ldapadd`` (so the overlay fills in
``memberOf``). With ``tls=True`` it also gets a certificate for 127.0.0.1 from a CA of its own and
offers StartTLS, and ldaps:// on a second port. ``Slapd.stop()`` stops it and deletes everything.

The session fixture ``slapd`` is registered with ``pytest_plugins = ["tests.support.slapd"]``.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUFFIX = "dc=rathaus,dc=test"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"
SERVICE_DN = f"cn=rathaus,ou=services,{SUFFIX}"
ROOT_DN = f"cn=admin,{SUFFIX}"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
MISSING = (
    "OpenLDAP is not installed: the LDAP tests need Debian's slapd and ldap-utils packages "
    "(`make test` installs them via scripts/install-debian-packages.sh)"
)

# uid → (cn, password); "carla" has no password at all, the two "doppelt" share a uid.
PASSWORDS = {
    "anna": "anna-Kennwort-1",
    "ben": "ben-Kennwort-2",
    "joerg": "Grüße-aus-Köln-3",
    "doppelt": "doppelt-Kennwort-4",
}


class SlapdUnavailable(RuntimeError):
    """slapd cannot be started; the message says why in plain words."""


@dataclass
class Slapd:
    root: Path
    port: int
    root_password: str
    service_password: str
    ca_file: Path | None = None
    ldaps_port: int | None = None
    passwords: dict[str, str] = field(default_factory=lambda: dict(PASSWORDS))
    suffix: str = SUFFIX
    people_dn: str = PEOPLE
    groups_dn: str = GROUPS
    service_dn: str = SERVICE_DN
    root_dn: str = ROOT_DN
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        assert self.ldaps_port is not None, "start_slapd(tls=True) listens on ldaps:// too"
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def log(self) -> Path:
        return self.root / "slapd.log"

    def ldap(self, tool: str, *args: str, ldif: str = "") -> str:
        """Run an ldap-utils tool as the rootdn; return its output."""
        done = subprocess.run(
            [tool, "-x", "-H", self.url, "-D", self.root_dn, "-y", str(self.root / "rootpw"),
             *args],
            input=ldif.encode(),
            capture_output=True,
            timeout=30,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise SlapdUnavailable(
                f"{tool} failed with status {done.returncode}: "
                f"{done.stdout.decode(errors='replace')}{done.stderr.decode(errors='replace')}"
            )
        return done.stdout.decode()

    def stop(self) -> None:
        """Stop slapd (SIGTERM, then SIGKILL) and delete its directory."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


def ssha(password: str) -> str:
    """A ``{SSHA}`` userPassword value, the way slappasswd makes one."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # the scheme slapd checks
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _config(server: Slapd, tls: bool) -> str:
    tls_lines = ""
    if tls:
        tls_lines = (
            f"TLSCACertificateFile {server.root / 'ca.pem'}\n"
            f"TLSCertificateFile {server.root / 'server.pem'}\n"
            f"TLSCertificateKeyFile {server.root / 'server.key'}\n"
        )
    return f"""\
include {SCHEMAS / "core.schema"}
include {SCHEMAS / "cosine.schema"}
include {SCHEMAS / "inetorgperson.schema"}
pidfile {server.root / "slapd.pid"}
argsfile {server.root / "slapd.args"}
modulepath {MODULES}
moduleload back_mdb
moduleload memberof
{tls_lines}
database mdb
maxsize 10485760
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ssha(server.root_password)}
directory {server.root / "db"}
overlay memberof

access to attrs=userPassword
    by anonymous auth
    by self =xw
    by * none
access to dn.subtree="{GROUPS}"
    by users read
    by * none
access to *
    by * read
"""


def _person(uid: str, cn: str, sn: str, *, rdn: str = "", password: str | None) -> str:
    lines = [
        f"dn: {rdn or f'uid={uid}'},{PEOPLE}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn:: {base64.b64encode(cn.encode()).decode()}",
        f"sn:: {base64.b64encode(sn.encode()).decode()}",
        f"mail: {uid}@rathaus.test",
    ]
    if password is not None:
        lines.append(f"userPassword: {ssha(password)}")
    return "\n".join(lines) + "\n\n"


def _seed(server: Slapd) -> str:
    def ou(name: str) -> str:
        return f"dn: ou={name},{SUFFIX}\nobjectClass: organizationalUnit\nou: {name}\n\n"

    def group(name: str, *uids: str) -> str:
        members = "".join(f"member: uid={uid},{PEOPLE}\n" for uid in uids)
        return f"dn: cn={name},{GROUPS}\nobjectClass: groupOfNames\ncn: {name}\n{members}\n"

    twice = PASSWORDS["doppelt"]
    return (
        f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: rathaus\no: Rathaus Test\n\n"
        + ou("people")
        + ou("groups")
        + ou("services")
        + f"dn: {SERVICE_DN}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
        f"cn: rathaus\nuserPassword: {ssha(server.service_password)}\n\n"
        + _person("anna", "Anna Schmidt", "Schmidt", password=PASSWORDS["anna"])
        + _person("ben", "Ben Weber", "Weber", password=PASSWORDS["ben"])
        + _person("joerg", "Jörg Müller", "Müller", password=PASSWORDS["joerg"])
        + _person("carla", "Carla Ohnepass", "Ohnepass", password=None)
        + _person("doppelt", "Doppelt Eins", "Eins", rdn="cn=Doppelt Eins", password=twice)
        + _person("doppelt", "Doppelt Zwei", "Zwei", rdn="cn=Doppelt Zwei", password=twice)
        + group("ratsmitglieder", "anna")
        + group("verwaltung", "anna", "ben")
    )  # fmt: skip


def _write_certificates(root: Path) -> None:
    """A CA of its own and a certificate for 127.0.0.1 and localhost signed by it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def pem(cert: x509.Certificate) -> bytes:
        return cert.public_bytes(serialization.Encoding.PEM)

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("Rathaus Test CA"))
        .issuer_name(name("Rathaus Test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (root / "ca.pem").write_bytes(pem(ca))
    (root / "server.pem").write_bytes(pem(server))
    (root / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_listening(server: Slapd, deadline: float) -> None:
    assert server.process is not None
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SlapdUnavailable(
                f"slapd exited with status {server.process.returncode}:\n"
                + server.log.read_text(errors="replace")[-3000:]
            )
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", server.port), 0.2),
        ):
            return
        time.sleep(0.02)
    raise SlapdUnavailable("slapd did not listen within 10 s:\n" + server.log.read_text()[-3000:])


def start_slapd(*, tls: bool = False) -> Slapd:
    """Start a seeded slapd on a free loopback port; ``stop()`` removes it."""
    binary = shutil.which("slapd") or "/usr/sbin/slapd"
    if not Path(binary).exists() or shutil.which("ldapadd") is None:
        raise SlapdUnavailable(MISSING)
    server = Slapd(
        root=Path(tempfile.mkdtemp(prefix="rathaus-slapd-")),
        port=free_port(),
        root_password=secrets.token_urlsafe(16),
        service_password=secrets.token_urlsafe(16),
    )
    try:
        (server.root / "db").mkdir()
        (server.root / "rootpw").write_text(server.root_password)
        os.chmod(server.root / "rootpw", 0o600)
        if tls:
            _write_certificates(server.root)
            server.ca_file = server.root / "ca.pem"
            server.ldaps_port = free_port()
        (server.root / "slapd.conf").write_text(_config(server, tls))
        listen = f"{server.url}/" + (f" {server.ldaps_url}/" if tls else "")
        log = server.log.open("wb")
        server.process = subprocess.Popen(
            [binary, "-f", str(server.root / "slapd.conf"), "-h", listen,
             "-d", "stats"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        _wait_until_listening(server, time.monotonic() + 10)
        server.ldap("ldapadd", ldif=_seed(server))
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="session")
def slapd() -> Iterator[Slapd]:
    """A seeded slapd for the test session, without TLS (see the module's docstring)."""
    try:
        server = start_slapd()
    except SlapdUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()

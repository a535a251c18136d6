"""LDAP sign-in against a real slapd with a directory of its own (tests/support/slapd.py)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from rathaus.accounts.ldap import REFUSED, LdapAuthenticator, _Attributes, _rdn_value, _stable_id
from rathaus.config import LdapSettings, load_settings
from rathaus.errors import AuthenticationFailed, IdentityUnavailable
from tests.support.slapd import Slapd, SlapdUnavailable, free_port, start_slapd


def settings_for(server: Slapd, **changes: Any) -> LdapSettings:
    values: dict[str, Any] = {
        "url": server.url,
        "bind_dn": server.service_dn,
        "bind_password": server.service_password,
        "base_dn": server.suffix,
    }
    return LdapSettings.model_validate(values | changes)


def authenticator(server: Slapd, **changes: Any) -> LdapAuthenticator:
    return LdapAuthenticator(settings_for(server, **changes))


def entry_uuid(server: Slapd, uid: str) -> str:
    found = server.ldap("ldapsearch", "-LLL", "-b", server.suffix, f"(uid={uid})", "entryUUID")
    match = re.search(r"^entryUUID: (\S+)$", found, re.MULTILINE)
    assert match is not None, found
    return match.group(1)


def binds_seen(server: Slapd, dn: str) -> int:
    """How many bind requests for ``dn`` slapd has logged (loglevel stats)."""
    return server.log.read_text(errors="replace").count(f'BIND dn="{dn}" method=')


async def test_sign_in_returns_the_identity_with_groups(slapd: Slapd) -> None:
    identity = await authenticator(slapd).authenticate("anna", slapd.passwords["anna"])
    assert identity.provider == "ldap"
    assert identity.subject == entry_uuid(slapd, "anna")
    assert uuid.UUID(identity.subject)
    assert identity.username == "anna"
    assert identity.display_name == "Anna Schmidt"
    assert identity.email == "anna@rathaus.test"
    assert identity.groups == ("ratsmitglieder", "verwaltung")


async def test_umlauts_in_names_and_passwords(slapd: Slapd) -> None:
    identity = await authenticator(slapd).authenticate("joerg", slapd.passwords["joerg"])
    assert identity.display_name == "Jörg Müller"
    assert identity.groups == ()


async def test_user_name_comes_from_the_directory(slapd: Slapd) -> None:
    identity = await authenticator(slapd).authenticate("ANNA", slapd.passwords["anna"])
    assert identity.username == "anna"
    assert identity.subject == entry_uuid(slapd, "anna")


async def test_groups_by_group_search(slapd: Slapd) -> None:
    by_search = authenticator(
        slapd,
        group_attribute="",
        group_filter="(&(objectClass=groupOfNames)(member={dn}))",
        group_base_dn=slapd.groups_dn,
    )
    assert (await by_search.authenticate("ben", slapd.passwords["ben"])).groups == ("verwaltung",)
    anna = await by_search.authenticate("anna", slapd.passwords["anna"])
    assert anna.groups == ("ratsmitglieder", "verwaltung")


async def test_anonymous_search_without_a_service_account(slapd: Slapd) -> None:
    anonymous = authenticator(slapd, bind_dn="", bind_password="")
    identity = await anonymous.authenticate("anna", slapd.passwords["anna"])
    assert identity.username == "anna" and identity.groups == ("ratsmitglieder", "verwaltung")


async def test_display_name_and_subject_from_other_attributes(slapd: Slapd) -> None:
    other = authenticator(slapd, display_name_attribute="sn", id_attribute="")
    identity = await other.authenticate("joerg", slapd.passwords["joerg"])
    assert identity.display_name == "Müller"
    assert identity.subject == f"uid=joerg,{slapd.people_dn}"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("anna", "falsch"),  # wrong password
        ("anna", "anna-kennwort-1"),  # passwords are case-sensitive
        ("niemand", "egal"),  # unknown user
        ("carla", "irgendwas"),  # an entry without a password
        ("doppelt", "doppelt-Kennwort-4"),  # two entries match: right password, still refused
    ],
)
async def test_refusals_all_look_the_same(slapd: Slapd, username: str, password: str) -> None:
    with pytest.raises(AuthenticationFailed) as refused:
        await authenticator(slapd).authenticate(username, password)
    assert refused.value.message == REFUSED
    assert (refused.value.code, refused.value.status) == ("authentication_failed", 401)


async def test_two_matching_entries_are_never_bound(slapd: Slapd) -> None:
    before = binds_seen(slapd, f"cn=Doppelt Eins,{slapd.people_dn}")
    with pytest.raises(AuthenticationFailed):
        await authenticator(slapd).authenticate("doppelt", slapd.passwords["doppelt"])
    assert binds_seen(slapd, f"cn=Doppelt Eins,{slapd.people_dn}") == before


@pytest.mark.parametrize("username", ["anna", "carla", ""])
async def test_empty_password_is_refused_before_any_bind(slapd: Slapd, username: str) -> None:
    anna_dn = f"uid=anna,{slapd.people_dn}"
    before = binds_seen(slapd, anna_dn)
    await authenticator(slapd).authenticate("anna", slapd.passwords["anna"])
    assert binds_seen(slapd, anna_dn) == before + 1  # slapd's log does show binds
    before += 1
    with pytest.raises(AuthenticationFailed):
        await authenticator(slapd).authenticate(username, "")
    assert binds_seen(slapd, anna_dn) == before
    # Not even a connection: a directory that is down still answers "refused", not "unavailable".
    down = LdapAuthenticator(settings_for(slapd, url=f"ldap://127.0.0.1:{free_port()}"))
    with pytest.raises(AuthenticationFailed):
        await down.authenticate(username, "")


@pytest.mark.parametrize(
    "username", ["*", "an*", "*nna", "anna)(uid=*", "anna)(|(uid=*", "*)(uid=anna", "anna\\2a"]
)
async def test_filter_injection_matches_nobody_else(slapd: Slapd, username: str) -> None:
    with pytest.raises(AuthenticationFailed):
        await authenticator(slapd).authenticate(username, slapd.passwords["anna"])


def test_unescaped_injection_would_have_matched_anna(slapd: Slapd) -> None:
    """The injection test above is meaningful: unescaped, these filters find Anna alone."""
    for raw in ["an*", "anna)(uid=*"]:
        found = slapd.ldap(
            "ldapsearch", "-LLL", "-b", slapd.suffix, f"(&(objectClass=person)(uid={raw}))", "1.1"
        )
        assert found.split() == ["dn:", f"uid=anna,{slapd.people_dn}"]


async def test_directory_down_is_unavailable(slapd: Slapd) -> None:
    down = authenticator(slapd, url=f"ldap://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(IdentityUnavailable, match="cannot reach the directory"):
        await down.authenticate("anna", slapd.passwords["anna"])


async def test_wrong_service_password_is_unavailable_with_a_clear_message(slapd: Slapd) -> None:
    wrong = authenticator(slapd, bind_password="not-the-service-password")
    with pytest.raises(IdentityUnavailable) as unavailable:
        await wrong.authenticate("anna", slapd.passwords["anna"])
    message = str(unavailable.value)
    assert "service account" in message and "ldap.bind_password" in message
    assert "invalidCredentials" in message
    assert "not-the-service-password" not in message


async def test_start_tls_required_but_not_offered(slapd: Slapd) -> None:
    tls = authenticator(slapd, start_tls=True)
    with pytest.raises(IdentityUnavailable, match="does not offer StartTLS") as unavailable:
        await tls.authenticate("anna", slapd.passwords["anna"])
    assert slapd.url in str(unavailable.value)


async def test_passwords_are_never_logged(slapd: Slapd, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await authenticator(slapd).authenticate("anna", slapd.passwords["anna"])
    with pytest.raises(AuthenticationFailed):
        await authenticator(slapd).authenticate("anna", "falsches-Kennwort")
    with pytest.raises(IdentityUnavailable):
        await authenticator(slapd, bind_password="falsches-Dienstkennwort").authenticate(
            "anna", slapd.passwords["anna"]
        )
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"uid=anna,{slapd.people_dn}" in logged  # the DN, at debug level
    for secret in [
        slapd.passwords["anna"],
        "falsches-Kennwort",
        "falsches-Dienstkennwort",
        slapd.service_password,
    ]:
        assert secret not in logged
    assert all(
        record.levelno == logging.DEBUG
        for record in caplog.records
        if "uid=anna" in record.getMessage()
    )


# --- TLS: StartTLS and ldaps:// with a CA of the test's own ------------------------------------


@pytest.fixture(scope="module")
def tls_slapd() -> Iterator[Slapd]:
    try:
        server = start_slapd(tls=True)
    except SlapdUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


async def test_start_tls_with_the_directory_ca(tls_slapd: Slapd) -> None:
    tls = authenticator(tls_slapd, start_tls=True, ca_file=str(tls_slapd.ca_file))
    identity = await tls.authenticate("anna", tls_slapd.passwords["anna"])
    assert identity.username == "anna"


async def test_ldaps_with_the_directory_ca(tls_slapd: Slapd) -> None:
    ldaps = authenticator(tls_slapd, url=tls_slapd.ldaps_url, ca_file=str(tls_slapd.ca_file))
    identity = await ldaps.authenticate("joerg", tls_slapd.passwords["joerg"])
    assert identity.display_name == "Jörg Müller"


async def test_an_untrusted_certificate_is_refused(tls_slapd: Slapd) -> None:
    untrusted = authenticator(tls_slapd, start_tls=True)  # the system's CAs only
    with pytest.raises(IdentityUnavailable, match=r"CERTIFICATE_VERIFY_FAILED.*ldap\.ca_file"):
        await untrusted.authenticate("anna", tls_slapd.passwords["anna"])
    ldaps = authenticator(tls_slapd, url=tls_slapd.ldaps_url)
    with pytest.raises(IdentityUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        await ldaps.authenticate("anna", tls_slapd.passwords["anna"])


async def test_tls_verify_off_accepts_any_certificate(tls_slapd: Slapd) -> None:
    unchecked = authenticator(tls_slapd, start_tls=True, tls_verify=False)
    assert (await unchecked.authenticate("anna", tls_slapd.passwords["anna"])).username == "anna"


# --- settings and helpers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        ({"url": "http://dir.example"}, "ldap:// or ldaps://"),
        ({"user_filter": "(uid=x)"}, "{username}"),
        ({"group_filter": "(member=x)"}, "{dn}"),
        ({"url": "ldaps://dir.example", "start_tls": True}, "start_tls"),
        ({"bind_dn": "cn=svc,dc=example"}, "bind_password"),
        ({"url": "ldap://dir.example", "base_dn": ""}, "base_dn"),
    ],
)
def test_invalid_settings(values: dict[str, Any], problem: str) -> None:
    base = {"url": "ldap://dir.example", "base_dn": "dc=example"}
    with pytest.raises(ValidationError, match=re.escape(problem)):
        LdapSettings.model_validate(base | values)


def test_settings_from_the_environment_keep_the_bind_password_secret() -> None:
    settings = load_settings(
        environ={
            "RATHAUS_LDAP_URL": "ldaps://dir.example",
            "RATHAUS_LDAP_BASE_DN": "dc=example",
            "RATHAUS_LDAP_BIND_DN": "cn=svc,dc=example",
            "RATHAUS_LDAP_BIND_PASSWORD": "geheim",
        }
    )
    assert settings.ldap.enabled and not LdapSettings().enabled
    assert settings.ldap.bind_password.get_secret_value() == "geheim"
    assert "geheim" not in repr(settings)


def test_group_names_and_active_directory_ids() -> None:
    assert _rdn_value("cn=ratsmitglieder,ou=groups,dc=rathaus,dc=test") == "ratsmitglieder"
    assert _rdn_value("CN=Rat\\, Stadt,OU=Gruppen,DC=example") == "Rat, Stadt"
    assert _rdn_value("cn=J\\C3\\B6rg,dc=example") == "Jörg"
    guid = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    attributes = _Attributes({"objectGUID": [guid.bytes_le]})
    assert _stable_id(attributes, "objectGUID") == str(guid)
    assert _stable_id(_Attributes({"entryUUID": [b"abc"]}), "ENTRYUUID") == "abc"

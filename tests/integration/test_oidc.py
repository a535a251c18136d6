"""OpenID Connect sign-in against a real OpenID provider (oidc-provider, run by node)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

from rathaus.accounts.identity import ExternalIdentity
from rathaus.accounts.oidc import OidcClient, OidcPending
from rathaus.errors import AuthenticationFailed, IdentityUnavailable
from rathaus.media.janus.supervisor import free_port
from tests.support.oidc import OidcTestProvider, running_oidc_provider, sign_in_at_provider

# The session fixture; drop this line once tests/conftest.py imports it.


async def _signed_in(
    client: OidcClient, provider: OidcTestProvider, login: str | None = "anna"
) -> tuple[dict[str, str], OidcPending]:
    await client.discover()
    url, pending = client.start(provider.redirect_uri)
    return await sign_in_at_provider(url, login), pending


def _refused_for(caplog: pytest.LogCaptureFixture, reason: str) -> None:
    refusals = [r.getMessage() for r in caplog.records if r.name == "rathaus.accounts.oidc"]
    assert refusals, "nothing was logged"
    assert reason in refusals[-1]


def _secrets_of(callback: dict[str, str], provider: OidcTestProvider) -> list[str]:
    return [callback.get("code", "-"), *(c.client_secret for c in provider.clients.values())]


async def test_code_flow_yields_the_identity(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings("basic"))
    callback, pending = await _signed_in(client, oidc_provider)

    identity = await client.finish(callback, pending, oidc_provider.redirect_uri)

    assert identity == ExternalIdentity(
        provider="oidc",
        subject="a1b2c3d4-anna",
        username="anna",
        display_name="Anna Schmidt",
        email="anna.schmidt@rathaus.example",
        groups=("ratsmitglieder",),
    )


@pytest.mark.parametrize(
    ("login", "username", "display_name", "email"),
    [
        ("bernd", "bernd@rathaus.example", "bernd@rathaus.example", "bernd@rathaus.example"),
        ("carla", "c3d4e5f6-carla", "c3d4e5f6-carla", None),
    ],
)
async def test_claim_fallbacks_with_client_secret_post(
    oidc_provider: OidcTestProvider,
    login: str,
    username: str,
    display_name: str,
    email: str | None,
) -> None:
    client = OidcClient(oidc_provider.settings("post"))
    callback, pending = await _signed_in(client, oidc_provider, login)

    identity = await client.finish(callback, pending, oidc_provider.redirect_uri)

    assert (identity.username, identity.display_name, identity.email, identity.groups) == (
        username,
        display_name,
        email,
        (),
    )


async def test_configurable_claims(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings(username_claim="email", groups_claim="roles"))
    callback, pending = await _signed_in(client, oidc_provider)

    identity = await client.finish(callback, pending, oidc_provider.redirect_uri)

    assert (identity.username, identity.groups) == ("anna.schmidt@rathaus.example", ())


async def test_authorization_url_asks_for_pkce_s256_and_a_nonce(
    oidc_provider: OidcTestProvider,
) -> None:
    client = OidcClient(oidc_provider.settings())
    with pytest.raises(IdentityUnavailable, match="not been discovered"):
        client.start(oidc_provider.redirect_uri)
    await client.discover()

    url, pending = client.start(oidc_provider.redirect_uri)

    query = dict(parse_qsl(urlsplit(url).query))
    assert url.startswith(oidc_provider.issuer + "/auth?")
    assert query == {
        "response_type": "code",
        "client_id": "rathaus",
        "redirect_uri": oidc_provider.redirect_uri,
        "scope": "openid profile email",
        "state": pending.state,
        "nonce": pending.nonce,
        "code_challenge": create_s256_code_challenge(pending.code_verifier),
        "code_challenge_method": "S256",
    }
    assert OidcPending.model_validate_json(pending.model_dump_json()) == pending


async def test_state_mismatch_is_refused(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)

    with pytest.raises(AuthenticationFailed, match="does not match this browser"):
        await client.finish({**callback, "state": "forged"}, pending, oidc_provider.redirect_uri)
    with pytest.raises(AuthenticationFailed, match="does not match this browser"):
        await client.finish(
            {k: v for k, v in callback.items() if k != "state"}, pending, oidc_provider.redirect_uri
        )


async def test_replayed_code_is_refused_and_nothing_secret_is_told(
    oidc_provider: OidcTestProvider, caplog: pytest.LogCaptureFixture
) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)
    await client.finish(callback, pending, oidc_provider.redirect_uri)

    with caplog.at_level(logging.DEBUG), pytest.raises(AuthenticationFailed) as refused:
        await client.finish(callback, pending, oidc_provider.redirect_uri)

    assert refused.value.code == "authentication_failed"
    told = str(refused.value) + caplog.text
    assert "invalid_grant" in caplog.text
    for secret in [*_secrets_of(callback, oidc_provider), pending.code_verifier]:
        assert secret not in told


async def test_nonce_mismatch_is_refused(
    oidc_provider: OidcTestProvider, caplog: pytest.LogCaptureFixture
) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)
    tampered = pending.model_copy(update={"nonce": "another-nonce"})

    with pytest.raises(AuthenticationFailed, match="ID token"):
        await client.finish(callback, tampered, oidc_provider.redirect_uri)
    _refused_for(caplog, "invalid_claim (nonce)")


async def test_wrong_pkce_verifier_is_refused(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)
    tampered = pending.model_copy(update={"code_verifier": "x" * 64})

    with pytest.raises(AuthenticationFailed, match="did not accept"):
        await client.finish(callback, tampered, oidc_provider.redirect_uri)


async def test_access_denied_at_the_provider(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider, login=None)
    assert callback["error"] == "access_denied"

    with pytest.raises(AuthenticationFailed, match="cancelled or refused"):
        await client.finish(callback, pending, oidc_provider.redirect_uri)


async def test_expired_pending_sign_in_is_refused(oidc_provider: OidcTestProvider) -> None:
    now = [time.time()]
    client = OidcClient(oidc_provider.settings(), clock=lambda: now[0])
    callback, pending = await _signed_in(client, oidc_provider)
    now[0] += 601

    with pytest.raises(AuthenticationFailed, match="too long"):
        await client.finish(callback, pending, oidc_provider.redirect_uri)


async def test_callback_from_another_issuer_is_refused(oidc_provider: OidcTestProvider) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)

    with pytest.raises(AuthenticationFailed, match="another identity provider"):
        await client.finish(
            {**callback, "iss": "https://evil.example"}, pending, oidc_provider.redirect_uri
        )


async def test_token_for_another_audience_is_refused(
    oidc_provider: OidcTestProvider, caplog: pytest.LogCaptureFixture
) -> None:
    other = OidcClient(oidc_provider.settings("other"))
    callback, pending = await _signed_in(other, oidc_provider)
    tokens = await other.redeem_code(callback["code"], pending, oidc_provider.redirect_uri)
    # Signed by the real provider, with the right nonce, but for "other-app".
    assert (await other.verify_id_token(tokens.id_token, pending.nonce))["aud"] == "other-app"

    ours = OidcClient(oidc_provider.settings("basic"))
    with pytest.raises(AuthenticationFailed, match="ID token"):
        await ours.verify_id_token(tokens.id_token, pending.nonce)
    _refused_for(caplog, "invalid_claim (aud)")


async def test_expired_id_token_is_refused(
    oidc_provider: OidcTestProvider, caplog: pytest.LogCaptureFixture
) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)
    tokens = await client.redeem_code(callback["code"], pending, oidc_provider.redirect_uri)

    two_hours_later = OidcClient(oidc_provider.settings(), clock=lambda: time.time() + 7200)
    with pytest.raises(AuthenticationFailed, match="ID token"):
        await two_hours_later.verify_id_token(tokens.id_token, pending.nonce)
    _refused_for(caplog, "expired_token")


async def test_id_token_signed_by_another_key_is_refused(
    oidc_provider: OidcTestProvider, caplog: pytest.LogCaptureFixture
) -> None:
    client = OidcClient(oidc_provider.settings())
    callback, pending = await _signed_in(client, oidc_provider)
    tokens = await client.redeem_code(callback["code"], pending, oidc_provider.redirect_uri)
    genuine = await client.verify_id_token(tokens.id_token, pending.nonce)
    header = jwt.decode(tokens.id_token, await client._key_set()).header  # the provider's kid

    forged = jwt.encode({"alg": "RS256", "kid": header["kid"]}, genuine, RSAKey.generate_key(2048))
    with pytest.raises(AuthenticationFailed, match="ID token"):
        await client.verify_id_token(forged, pending.nonce)
    _refused_for(caplog, "bad_signature")
    unknown_kid = jwt.encode({"alg": "RS256", "kid": "nope"}, genuine, RSAKey.generate_key(2048))
    with pytest.raises(AuthenticationFailed, match="ID token"):
        await client.verify_id_token(unknown_kid, pending.nonce)
    _refused_for(caplog, "invalid_key_id")


async def test_unreachable_provider(oidc_provider: OidcTestProvider) -> None:
    down = oidc_provider.settings(issuer=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(IdentityUnavailable):
        await OidcClient(down).discover()


async def test_issuer_must_match_exactly(oidc_provider: OidcTestProvider) -> None:
    with pytest.raises(IdentityUnavailable, match="another issuer"):
        await OidcClient(oidc_provider.settings(issuer=oidc_provider.issuer + "/")).discover()


async def test_provider_gone_before_the_callback(tmp_path: Path) -> None:
    async with running_oidc_provider(tmp_path) as provider:
        client = OidcClient(provider.settings())
        callback, pending = await _signed_in(client, provider)

    with pytest.raises(IdentityUnavailable):
        await client.finish(callback, pending, provider.redirect_uri)

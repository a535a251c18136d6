"""Sign-in with an OpenID Connect provider: the authorization code flow with PKCE (S256).

One configured provider (``[oidc]``). The flow, for the web layer that drives it:

1. ``await client.discover()`` (cached), then ``url, pending = client.start(redirect_uri)``:
   redirect the browser to ``url`` and keep ``pending`` server-side or in a signed, HttpOnly
   cookie (``pending.model_dump_json()`` / ``OidcPending.model_validate_json``).
2. The provider redirects the browser back to ``redirect_uri``;
   ``await client.finish(query_params, pending, redirect_uri)`` checks the answer, redeems the code
   at the token endpoint and validates the ID token, and returns the ``ExternalIdentity``.

Every refusal is ``AuthenticationFailed`` with a plain message; a provider that cannot be reached
(or answers with a server error) is ``IdentityUnavailable``. Tokens, codes and secrets never
appear in messages or logs. Protocol helpers come from Authlib (authorization URL, PKCE challenge,
ID token claims rules) and joserfc, the JOSE library Authlib itself builds on (signatures).
"""

from __future__ import annotations

import base64
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import ClaimError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from pydantic import BaseModel, ConfigDict, ValidationError

from rathaus.accounts.identity import ExternalIdentity
from rathaus.config import OidcSettings
from rathaus.errors import AuthenticationFailed, IdentityUnavailable

log = logging.getLogger(__name__)

PROVIDER = "oidc"

# ID tokens signed with the client secret (HS*) or not at all ("none") are never accepted.
_ASYMMETRIC_ALGORITHMS = frozenset(
    ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
)
_ERROR_CODE = re.compile(r"[a-z0-9_.\-]{1,64}")


class OidcPending(BaseModel):
    """A started sign-in: what the callback must match. Keep it where only this browser has it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: str
    nonce: str
    code_verifier: str
    created_at: float

    def expired(self, now: float, lifetime: float) -> bool:
        age = now - self.created_at
        return age > lifetime or age < -lifetime


class ProviderMetadata(BaseModel):
    """The parts of the provider's discovery document that the code flow uses."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    id_token_signing_alg_values_supported: list[str] = ["RS256"]
    authorization_response_iss_parameter_supported: bool = False


class TokenResponse(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id_token: str
    access_token: str = ""
    token_type: str = ""


class OidcClient:
    """The relying party for one OpenID provider."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not settings.enabled:
            raise ValueError("OIDC is not configured (oidc.issuer is empty)")
        self._settings = settings
        self._clock = clock
        self._transport = transport
        self._metadata: ProviderMetadata | None = None
        self._keys: KeySet | None = None

    # --- discovery -------------------------------------------------------------------------------

    async def discover(self) -> ProviderMetadata:
        """The provider's metadata, fetched once from its discovery document."""
        if self._metadata is not None:
            return self._metadata
        issuer = self._settings.issuer
        data = await self._get_json(
            issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document"
        )
        try:
            metadata = ProviderMetadata.model_validate(data)
        except ValidationError as exc:
            raise IdentityUnavailable(
                f"the OpenID provider's discovery document at {issuer} is incomplete"
            ) from exc
        if metadata.issuer != issuer:
            # A different issuer here means a wrong oidc.issuer setting or a mix-up attack.
            raise IdentityUnavailable(
                f"the OpenID provider at {issuer} names another issuer ({metadata.issuer}); "
                "oidc.issuer must be exactly the provider's issuer"
            )
        self._metadata = metadata
        return metadata

    async def _key_set(self, *, refresh: bool = False) -> KeySet:
        if self._keys is not None and not refresh:
            return self._keys
        metadata = await self.discover()
        data = await self._get_json(metadata.jwks_uri, "signing keys")
        try:
            keys = KeySet.import_key_set(data)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise IdentityUnavailable("the OpenID provider's signing keys cannot be read") from exc
        self._keys = keys
        return keys

    async def _get_json(self, url: str, what: str) -> Any:
        try:
            async with self._http() as http:
                response = await http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("OIDC: cannot fetch the %s: %s", what, type(exc).__name__)
            raise IdentityUnavailable(f"the OpenID provider cannot be reached ({what})") from exc
        if response.status_code != 200:
            log.warning("OIDC: the %s answered HTTP %d", what, response.status_code)
            raise IdentityUnavailable(
                f"the OpenID provider answered HTTP {response.status_code} ({what})"
            )
        try:
            return response.json()
        except ValueError as exc:
            raise IdentityUnavailable(f"the OpenID provider's {what} is not JSON") from exc

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=self._settings.timeout, follow_redirects=False, transport=self._transport
        )

    # --- the flow --------------------------------------------------------------------------------

    def start(self, redirect_uri: str) -> tuple[str, OidcPending]:
        """The authorization URL to send the browser to, and what to keep until the callback."""
        if self._metadata is None:
            raise IdentityUnavailable("the OpenID provider has not been discovered yet")
        pending = OidcPending(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            code_verifier=secrets.token_urlsafe(64),  # 86 characters; RFC 7636 asks 43 to 128
            created_at=self._clock(),
        )
        url = prepare_grant_uri(
            self._metadata.authorization_endpoint,
            self._settings.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=self._settings.scopes,
            state=pending.state,
            nonce=pending.nonce,
            code_challenge=create_s256_code_challenge(pending.code_verifier),
            code_challenge_method="S256",
        )
        return str(url), pending

    async def finish(
        self, callback_params: Mapping[str, str], pending: OidcPending, redirect_uri: str
    ) -> ExternalIdentity:
        """Check the provider's answer to ``start``; return who signed in."""
        if pending.expired(self._clock(), self._settings.login_timeout):
            raise AuthenticationFailed("the sign-in took too long; please start again")
        state = callback_params.get("state", "")
        if not hmac.compare_digest(state.encode(), pending.state.encode()):
            log.warning("OIDC: callback with a state that does not match the started sign-in")
            raise AuthenticationFailed(
                "the sign-in does not match this browser; please start again"
            )
        metadata = await self.discover()
        iss = callback_params.get("iss")
        if iss != metadata.issuer and (
            iss is not None or metadata.authorization_response_iss_parameter_supported
        ):
            log.warning("OIDC: callback from another issuer")
            raise AuthenticationFailed("the sign-in answer comes from another identity provider")
        error = callback_params.get("error")
        if error is not None:
            code = error if _ERROR_CODE.fullmatch(error) else "unknown"
            log.info("OIDC: the provider refused the sign-in: %s", code)
            if code == "access_denied":
                raise AuthenticationFailed("the sign-in was cancelled or refused")
            raise AuthenticationFailed("the identity provider refused the sign-in")
        authorization_code = callback_params.get("code")
        if not authorization_code:
            raise AuthenticationFailed("the identity provider's answer holds no sign-in code")
        tokens = await self.redeem_code(authorization_code, pending, redirect_uri)
        claims = await self.verify_id_token(
            tokens.id_token, pending.nonce, access_token=tokens.access_token or None
        )
        return identity_from_claims(claims, self._settings)

    async def redeem_code(
        self, authorization_code: str, pending: OidcPending, redirect_uri: str
    ) -> TokenResponse:
        """Exchange the authorization code (with the PKCE verifier) at the token endpoint."""
        metadata = await self.discover()
        form = {
            "grant_type": "authorization_code",
            "code": authorization_code,
            "redirect_uri": redirect_uri,
            "code_verifier": pending.code_verifier,
        }
        client_id = self._settings.client_id
        secret = self._settings.client_secret.get_secret_value()
        headers = {"Accept": "application/json"}
        if self._settings.token_endpoint_auth_method == "client_secret_post":
            form |= {"client_id": client_id, "client_secret": secret}
        else:  # RFC 6749 §2.3.1: both are form-encoded before they go into the Basic header
            credentials = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        try:
            async with self._http() as http:
                response = await http.post(metadata.token_endpoint, data=form, headers=headers)
        except httpx.HTTPError as exc:
            log.warning("OIDC: cannot reach the token endpoint: %s", type(exc).__name__)
            raise IdentityUnavailable("the OpenID provider cannot be reached (token)") from exc
        if response.status_code >= 500:
            log.warning("OIDC: the token endpoint answered HTTP %d", response.status_code)
            raise IdentityUnavailable(
                f"the OpenID provider answered HTTP {response.status_code} (token)"
            )
        if response.status_code != 200:
            log.warning(
                "OIDC: the token endpoint refused the code: HTTP %d %s",
                response.status_code,
                _oauth_error(response),
            )
            raise AuthenticationFailed(
                "the identity provider did not accept the sign-in; please start again"
            )
        try:
            return TokenResponse.model_validate_json(response.content)
        except ValidationError as exc:
            log.warning("OIDC: the token endpoint's answer holds no ID token")
            raise AuthenticationFailed("the identity provider's answer holds no ID token") from exc

    async def verify_id_token(
        self, id_token: str, nonce: str, *, access_token: str | None = None
    ) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, times and nonce hold."""
        metadata = await self.discover()
        algorithms = [
            alg
            for alg in metadata.id_token_signing_alg_values_supported
            if alg in _ASYMMETRIC_ALGORITHMS
        ] or ["RS256"]
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=algorithms)
            except InvalidKeyIdError:  # the provider may have rotated its keys
                token = jwt.decode(
                    id_token, await self._key_set(refresh=True), algorithms=algorithms
                )
            claims = CodeIDToken(
                token.claims,
                token.header,
                options={
                    "iss": {"essential": True, "value": metadata.issuer},
                    "aud": {"essential": True, "value": self._settings.client_id},
                    "sub": {"essential": True},
                    "exp": {"essential": True},
                    "iat": {"essential": True},
                    "nonce": {"essential": True, "value": nonce},
                },
                params={
                    "nonce": nonce,
                    "client_id": self._settings.client_id,
                    "access_token": access_token,
                },
            )
            claims.validate(now=int(self._clock()), leeway=int(self._settings.clock_skew))
        except JoseError as exc:
            reason = exc.error + (f" ({exc.claim})" if isinstance(exc, ClaimError) else "")
            log.warning("OIDC: ID token refused: %s", reason)
            raise AuthenticationFailed("the identity provider's ID token is not valid") from exc
        return dict(claims)


def identity_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> ExternalIdentity:
    """Map validated ID token claims to an ExternalIdentity."""
    subject = str(claims["sub"])
    email = _text(claims.get("email"))
    if claims.get("email_verified") is False:
        email = None  # an address the provider itself has not confirmed names nobody
    username = _text(claims.get(settings.username_claim)) or email or subject
    return ExternalIdentity(
        provider=PROVIDER,
        subject=subject,
        username=username,
        display_name=_text(claims.get("name")) or username,
        email=email,
        groups=_groups(claims.get(settings.groups_claim)),
    )


def _text(value: object) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _groups(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(group for group in (_text(item) for item in value) if group)


def _oauth_error(response: httpx.Response) -> str:
    """The OAuth ``error`` code of a refusal, if it is one; never the description."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return "(no OAuth error)"
    return error if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else "(unknown)"

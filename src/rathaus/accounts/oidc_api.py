"""Sign-in through the city's OpenID provider (Keycloak, Azure AD, …): two redirects."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from rathaus.accounts.api import accounts, set_session_cookie
from rathaus.accounts.oidc import OidcClient, OidcPending
from rathaus.errors import (
    AuthenticationFailed,
    ClientError,
    IdentityUnavailable,
    NotFound,
    error_code,
)
from rathaus.secrets_store import Signer
from rathaus.services import services

router = APIRouter(prefix="/auth/oidc", tags=["accounts"])

PENDING_COOKIE = "rathaus_oidc"


def _client(request: Request) -> OidcClient:
    client: OidcClient | None = services(request).oidc
    if client is None:
        raise NotFound("OpenID Connect sign-in is not configured")
    return client


def _callback_url(request: Request) -> str:
    return str(request.url_for("oidc_callback"))


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target[:2000]
    return "/"


@router.get("/start")
async def oidc_start(request: Request, next: str | None = None) -> Response:
    client = _client(request)
    await client.discover()
    url, pending = client.start(_callback_url(request))
    signer: Signer = services(request).oidc_signer
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        signer.sign(f"{safe_next(next)}\n{pending.model_dump_json()}"),
        max_age=600,
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",  # the provider's redirect back is a top-level navigation
        path="/auth/oidc",
    )
    return response


@router.get("/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    client = _client(request)
    signer: Signer = services(request).oidc_signer
    kept = signer.unsign(request.cookies.get(PENDING_COOKIE, ""))
    if kept is None:
        raise AuthenticationFailed("the sign-in was not started here, or took too long")
    target, _, pending_json = kept.partition("\n")
    pending = OidcPending.model_validate_json(pending_json)
    try:
        await client.discover()
        identity = await client.finish(dict(request.query_params), pending, _callback_url(request))
    except (ClientError, IdentityUnavailable) as exc:
        # Back to where the person came from, with a reason the page can show.
        back = RedirectResponse(_with_error(safe_next(target), error_code(exc)), status_code=303)
        back.delete_cookie(PENDING_COOKIE, path="/auth/oidc")
        return back
    token, _ = await accounts(request).start_session_for(identity)
    response = RedirectResponse(safe_next(target), status_code=303)
    response.delete_cookie(PENDING_COOKIE, path="/auth/oidc")
    set_session_cookie(request, response, token, services(request).settings.accounts.session_hours)
    return response


def _with_error(path: str, code: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}signin_error={code}"

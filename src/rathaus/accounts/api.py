"""HTTP API for signing in and out, and the request dependencies that say who is asking.

Sessions live in an HttpOnly, SameSite=Lax cookie (Secure over HTTPS). Every state-changing
request authenticated by that cookie must echo the session's CSRF token in ``X-CSRF-Token`` and,
when the browser sends an Origin, come from Rathaus's own origin.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from rathaus.accounts.service import AccountService, SignedIn, User
from rathaus.addresses import client_key
from rathaus.errors import ClientError, ErrorCode
from rathaus.services import services

router = APIRouter(prefix="/api", tags=["accounts"])

SESSION_COOKIE = "rathaus_session"
# A random id per browser, set by the room page: what binds a guest's resume token and a bar.
GUEST_COOKIE = "rathaus_guest"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class NotSignedIn(ClientError):
    code = ErrorCode.NOT_SIGNED_IN
    status = 401


class Forbidden(ClientError):
    code = ErrorCode.FORBIDDEN
    status = 403


class CsrfRefused(Forbidden):
    code = ErrorCode.CSRF


class SignInBody(BaseModel):
    username: str = Field(min_length=1, max_length=256)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id, username=user.username, display_name=user.display_name, role=user.role
        )


class SessionOut(BaseModel):
    user: UserOut
    csrf_token: str


def accounts(request: Request) -> AccountService:
    service: AccountService = services(request).accounts
    return service


def same_origin(request: Request) -> bool:
    """False only when the browser says the request comes from another origin."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return origin == f"{request.url.scheme}://{request.headers.get('host', '')}"


async def current_session(request: Request) -> SignedIn | None:
    """The caller's sign-in, if any; checked for CSRF on state-changing requests."""
    if hasattr(request.state, "signed_in"):
        cached: SignedIn | None = request.state.signed_in
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    signed_in = await accounts(request).session(token) if token else None
    if signed_in is not None and request.method in UNSAFE_METHODS:
        if not same_origin(request) or request.headers.get(CSRF_HEADER) != signed_in.csrf_token:
            raise CsrfRefused("this request lacks the session's CSRF token")
    request.state.signed_in = signed_in
    return signed_in


async def require_member(request: Request) -> SignedIn:
    signed_in = await current_session(request)
    if signed_in is None:
        raise NotSignedIn("please sign in")
    return signed_in


async def require_admin(request: Request) -> SignedIn:
    signed_in = await require_member(request)
    if not signed_in.user.is_admin:
        raise Forbidden("only administrators may do this")
    return signed_in


def set_session_cookie(request: Request, response: Response, token: str, hours: float) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="lax",
        path="/",
    )


class SignInMethods(BaseModel):
    password: bool  # local accounts or the directory (LDAP)
    oidc: bool  # the city's OpenID provider: /auth/oidc/start


@router.get("/auth/methods")
async def sign_in_methods(request: Request) -> SignInMethods:
    return SignInMethods(
        password=await accounts(request).password_sign_in(),
        oidc=services(request).oidc is not None,
    )


@router.post("/session")
async def sign_in(body: SignInBody, request: Request, response: Response) -> SessionOut:
    if not same_origin(request):
        raise CsrfRefused("sign-in from another site is refused")
    address = client_key(request.client.host if request.client else "")
    token, signed_in = await accounts(request).sign_in(body.username, body.password, address)
    hours = services(request).settings.accounts.session_hours
    set_session_cookie(request, response, token, hours)
    return SessionOut(user=UserOut.of(signed_in.user), csrf_token=signed_in.csrf_token)


@router.get("/session")
async def who_am_i(request: Request) -> SessionOut:
    signed_in = await require_member(request)
    return SessionOut(user=UserOut.of(signed_in.user), csrf_token=signed_in.csrf_token)


@router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out(request: Request, response: Response) -> None:
    signed_in = await require_member(request)
    await accounts(request).sign_out(signed_in)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.delete("/sessions", status_code=status.HTTP_204_NO_CONTENT)
async def sign_out_everywhere(request: Request, response: Response) -> None:
    signed_in = await require_member(request)
    await accounts(request).sign_out_everywhere(signed_in.user)
    response.delete_cookie(SESSION_COOKIE, path="/")

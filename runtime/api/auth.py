"""Who is calling: a pluggable principal resolver, and the dev one agentrt ships.

A resolver is any ``async (Request) -> Principal | None`` set on the app
(``create_app(..., resolver=...)``); None means "no credentials", which the
dependencies below turn into 401. Production deployments plug in their identity
provider here. The default :class:`DevPrincipalResolver` accepts

* ``Authorization: Bearer art1....`` — a signed dev token (``agentrt token``), and
* in dev mode only, ``X-Agentrt-Principal: sub[;org=ORG;groups=a,b;admin]``, so a
  console or curl can act as anyone without minting a token. Production refuses it.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPBearer
from pydantic import ValidationError

from ..principal import Principal
from ..settings import Settings
from .errors import ApiError
from .tokens import signing_key, verify_token

PrincipalResolver = Callable[[Request], Awaitable[Principal | None]]
PRINCIPAL_HEADER = "X-Agentrt-Principal"
MAX_HEADER_CHARS = 2048

# Declared only so the OpenAPI document (and /docs) show both ways in; the resolver reads the headers.
_bearer = HTTPBearer(auto_error=False, description="a dev token from `agentrt token`, or your IdP's")
_dev_header = APIKeyHeader(name=PRINCIPAL_HEADER, auto_error=False,
                           description="dev mode only: sub[;org=ORG;groups=a,b;admin]")


def parse_principal_header(value: str) -> Principal:
    """``alice;org=acme;groups=ops,dev;admin`` -> Principal. Unknown attributes are refused."""
    if len(value) > MAX_HEADER_CHARS:
        raise ApiError("principal_header_invalid", f"{PRINCIPAL_HEADER} is too long")
    sub, *attrs = [part.strip() for part in value.split(";")]
    org: str | None = None
    groups: tuple[str, ...] = ()
    admin = False
    for attr in attrs:
        if not attr:
            continue
        name, sep, arg = (s.strip() for s in attr.partition("="))
        if name == "org" and sep and arg:
            org = arg
        elif name == "groups" and sep:
            groups = tuple(g.strip() for g in arg.split(",") if g.strip())
        elif name == "admin" and (not sep or arg.lower() in ("1", "true", "yes")):
            admin = True
        else:
            raise ApiError("principal_header_invalid", f"{PRINCIPAL_HEADER} has an unknown attribute {name[:32]!r}")
    try:
        return Principal(sub=sub, org_id=org, groups=groups, is_admin=admin)
    except ValidationError:
        raise ApiError("principal_header_invalid", f"{PRINCIPAL_HEADER} names no valid principal") from None


class DevPrincipalResolver:
    """Signed bearer tokens always; the plain principal header only when ``allow_header``."""

    def __init__(self, key: bytes, *, allow_header: bool) -> None:
        self._key = key
        self.allow_header = allow_header

    @classmethod
    def from_settings(cls, settings: Settings) -> "DevPrincipalResolver":
        return cls(signing_key(settings), allow_header=settings.is_dev)

    async def __call__(self, request: Request) -> Principal | None:
        authorization = request.headers.get("authorization")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise ApiError("token_invalid", "expected an Authorization: Bearer token")
            return verify_token(credentials.strip(), self._key)
        header = request.headers.get(PRINCIPAL_HEADER)
        if header is not None:
            if not self.allow_header:
                raise ApiError("principal_header_refused",
                               f"{PRINCIPAL_HEADER} is accepted in dev mode only; send a bearer token")
            return parse_principal_header(header)
        return None


async def current_principal(
    request: Request,
    _token: object = Depends(_bearer),
    _header: object = Depends(_dev_header),
) -> Principal:
    """FastAPI dependency: the calling principal, or 401."""
    resolver: PrincipalResolver = request.app.state.principal_resolver
    principal = await resolver(request)
    if principal is None:
        raise ApiError("unauthenticated", "send a bearer token (or, in dev mode, the X-Agentrt-Principal header)")
    return principal


async def admin_principal(principal: Principal = Depends(current_principal)) -> Principal:
    if not principal.is_admin:
        raise ApiError("admin_required", "this needs an admin principal")
    return principal

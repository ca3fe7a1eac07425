"""Dev bearer tokens: a compact JSON principal with an expiry, signed with HMAC-SHA256.

Format: ``art1.<base64url(json)>.<base64url(hmac)>``; the MAC covers ``art1.<json part>``.
Not a replacement for a real identity provider (plug one in as the app's principal
resolver); good enough for dev, tests and single-operator installs. The signing key is
``api.token_secret``, or in dev mode a key derived from the active KEK, so no extra
file is needed and nothing secret is printed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time

from pydantic import ValidationError

from ..errors import AgentrtError, SettingsError
from ..principal import Principal
from ..settings import Settings

PREFIX = "art1"
MAX_TOKEN_CHARS = 4096
_DERIVATION_LABEL = b"agentrt api token signing key v1"


class TokenError(AgentrtError):
    key = "token_invalid"


class TokenExpiredError(TokenError):
    key = "token_expired"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signing_key(settings: Settings) -> bytes:
    """The HMAC key of dev tokens. Production must configure one explicitly."""
    if settings.api.token_secret is not None:
        secret = settings.api.token_secret.get_secret_value().encode()
        if len(secret) < 16:
            raise SettingsError("AGENTRT__API__TOKEN_SECRET must be at least 16 characters")
        return hashlib.sha256(secret).digest()
    if not settings.is_dev:
        raise SettingsError(
            "production mode needs AGENTRT__API__TOKEN_SECRET to accept bearer tokens "
            "(or an app with its own principal resolver)"
        )
    from ..crypto import load_keyring

    _, kek = load_keyring(settings).active()
    # A derived key, never the KEK itself: a leaked token key must not decrypt anything.
    return hmac.new(kek, _DERIVATION_LABEL, hashlib.sha256).digest()


def mint_token(principal: Principal, key: bytes, ttl_seconds: int, *, now: float | None = None) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, object] = {"sub": principal.sub, "exp": issued + int(ttl_seconds)}
    if principal.org_id:
        claims["org"] = principal.org_id
    if principal.groups:
        claims["grp"] = list(principal.groups)
    if principal.is_admin:
        claims["adm"] = True
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, f"{PREFIX}.{body}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{body}.{_b64(mac)}"


def verify_token(token: str, key: bytes, *, now: float | None = None) -> Principal:
    """The principal a valid, unexpired token names; :class:`TokenError` otherwise (no detail why)."""
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 2:
        raise TokenError("the bearer token is malformed")
    prefix, body, mac = token.split(".")
    if prefix != PREFIX:
        raise TokenError("the bearer token is malformed")
    try:
        given = _unb64(mac)
        expected = hmac.new(key, f"{prefix}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(given, expected):
            raise TokenError("the bearer token's signature does not verify")
        claims = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise TokenError("the bearer token is malformed") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("exp"), int):
        raise TokenError("the bearer token is malformed")
    if claims["exp"] <= (now if now is not None else time.time()):
        raise TokenExpiredError("the bearer token has expired")
    try:
        return Principal(sub=claims.get("sub"), org_id=claims.get("org"), groups=tuple(claims.get("grp") or ()),
                         is_admin=claims.get("adm") is True)
    except (ValidationError, TypeError):
        raise TokenError("the bearer token names no valid principal") from None

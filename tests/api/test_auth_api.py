"""Authentication: signed dev tokens, the dev-only principal header, and admin-only operations."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from runtime.api import create_app
from runtime.api.auth import parse_principal_header
from runtime.api.errors import ApiError
from runtime.api.tokens import TokenError, TokenExpiredError, mint_token, signing_key, verify_token
from runtime.errors import SettingsError
from runtime.principal import Principal

from .conftest import ADMIN, ALICE

KEY = b"k" * 32


def test_tokens_round_trip_and_refuse_tampering_and_expiry():
    alice = Principal(sub="alice", org_id="acme", groups=("ops", "dev"), is_admin=True)
    token = mint_token(alice, KEY, 60, now=1000)
    assert verify_token(token, KEY, now=1010) == alice
    with pytest.raises(TokenExpiredError):
        verify_token(token, KEY, now=1061)
    with pytest.raises(TokenError):
        verify_token(token, b"x" * 32, now=1010)
    prefix, body, mac = token.split(".")
    forged = mint_token(Principal(sub="root", is_admin=True), b"other", 60, now=1000).split(".")[1]
    for bad in (f"{prefix}.{forged}.{mac}", f"{prefix}.{body}.{mac[:-2]}", "garbage", "a.b.c", f"v0.{body}.{mac}"):
        with pytest.raises(TokenError):
            verify_token(bad, KEY, now=1010)


def test_principal_header_parses_and_refuses_unknown_attributes():
    assert parse_principal_header("alice;org=acme;groups=a, b;admin") == Principal(
        sub="alice", org_id="acme", groups=("a", "b"), is_admin=True)
    assert parse_principal_header("bob") == Principal(sub="bob")
    for bad in ("", ";org=x", "alice;role=root", "alice;admin=maybe"):
        with pytest.raises(ApiError) as err:
            parse_principal_header(bad)
        assert err.value.key == "principal_header_invalid"


def test_production_needs_an_explicit_token_secret(settings):
    prod = settings.model_copy(update={"mode": "production"})
    with pytest.raises(SettingsError):
        signing_key(prod)
    dev_key = signing_key(settings)
    assert dev_key == signing_key(settings) and len(dev_key) == 32  # derived, stable, never the KEK itself
    assert dev_key not in (settings.security.keys[k].get_secret_value().encode() for k in settings.security.keys)


async def test_requests_without_credentials_or_with_bad_ones_get_401(api):
    none = await api.get("/api/entries")
    assert none.status_code == 401 and none.json()["error"] == "unauthenticated"
    assert none.headers["www-authenticate"] == "Bearer"
    bad = await api.get("/api/entries", headers={"Authorization": "Bearer art1.e30.AAAA"})
    assert bad.status_code == 401 and bad.json()["error"] == "token_invalid"
    basic = await api.get("/api/entries", headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    header = await api.get("/api/entries", headers={"X-Agentrt-Principal": "alice;bogus=1"})
    assert header.status_code == 401 and header.json()["error"] == "principal_header_invalid"


async def test_a_minted_token_authenticates_through_the_api(api, settings, capsys, monkeypatch):
    from runtime.cli import main

    # The CLI reads settings from the environment: give it this test's key ring and state dir.
    monkeypatch.setenv("AGENTRT__STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("AGENTRT__SECURITY__KEYS", json.dumps(
        {k: v.get_secret_value() for k, v in settings.security.keys.items()}))
    monkeypatch.setenv("AGENTRT__SECURITY__ACTIVE_KEK", settings.security.active_kek)
    monkeypatch.setenv("AGENTRT__LOG_LEVEL", "WARNING")
    argv = ["token", "--sub", "carol", "--org", "acme", "--group", "ops", "--ttl", "600"]
    assert await asyncio.to_thread(main, argv) == 0  # main() runs its own event loop
    captured = capsys.readouterr()
    token = captured.out.strip()
    assert token.startswith("art1.") and token not in captured.err
    me = await api.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json() == {"sub": "carol", "org_id": "acme", "groups": ["ops"], "is_admin": False}


async def test_production_refuses_the_principal_header_but_accepts_tokens(services, temporal_client, settings):
    prod = settings.model_copy(update={"mode": "production", "api": settings.api.model_copy(
        update={"token_secret": __import__("pydantic").SecretStr("a-production-token-secret")})})
    app = create_app(services, temporal_client, prod)
    token = mint_token(Principal(sub="alice"), signing_key(prod), 60)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        refused = await client.get("/api/me", headers=ALICE)
        assert refused.status_code == 401 and refused.json()["error"] == "principal_header_refused"
        assert (await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})).json()["sub"] == "alice"


async def test_admin_columns_are_for_admins_only(api):
    listed = (await api.get("/api/integrations", headers=ALICE)).json()
    by_domain = {i["domain"]: i for i in listed}
    assert by_domain["myservice"]["status"] == "loaded" and by_domain["myservice"]["loaded_here"]
    assert by_domain["myservice"]["config_flow"] and by_domain["sketchy"]["trust_tier"] == "untrusted"
    assert by_domain["vault"]["required_tier"] == "internal"

    refused = await api.patch("/api/integrations/myservice", json={"enabled": False}, headers=ALICE)
    assert refused.status_code == 403 and refused.json()["error"] == "admin_required"
    patched = await api.patch("/api/integrations/myservice", headers=ADMIN, json={
        "enabled": False, "allowed_scopes": ["user", "org"], "required_tier_override": "regulated"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["enabled"] is False and patched.json()["allowed_scopes"] == ["user", "org"]
    assert patched.json()["required_tier_override"] == "regulated"
    disabled = await api.post("/api/flows", json={"domain": "myservice"}, headers=ALICE)
    assert disabled.status_code == 409 and disabled.json()["error"] == "integration_disabled"
    cleared = await api.patch("/api/integrations/myservice", headers=ADMIN,
                              json={"enabled": True, "required_tier_override": None})
    assert cleared.json()["required_tier_override"] is None and cleared.json()["enabled"]
    bad_scope = await api.patch("/api/integrations/myservice", headers=ADMIN, json={"allowed_scopes": ["planet"]})
    assert bad_scope.status_code == 422
    missing = await api.patch("/api/integrations/nope", headers=ADMIN, json={"enabled": True})
    assert missing.status_code == 404 and missing.json()["error"] == "integration_not_found"

"""API tests: the real app over real Postgres and a real Temporal dev server with an in-process worker.

``api`` talks to the app in process (httpx's ASGI transport); ``live_api`` serves the same
app with uvicorn on a free port for clients that need a socket (schemathesis, the browser).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import AsyncIterator

import httpx
import pytest

from runtime.api import create_app
from runtime.api.server import start_server
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "integrations"
ARTIFACTS = REPO / "tests" / "artifacts"


def as_(sub: str, *, org: str | None = None, groups: tuple[str, ...] = (), admin: bool = False) -> dict[str, str]:
    """Headers that authenticate as a principal through the dev header."""
    value = sub + (f";org={org}" if org else "") + (f";groups={','.join(groups)}" if groups else "")
    return {"X-Agentrt-Principal": value + (";admin" if admin else "")}


ALICE = as_("alice", org="acme")
BOB = as_("bob", org="acme")
ADMIN = as_("root", org="acme", admin=True)


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", FIXTURES])


@pytest.fixture
def app(services, temporal_client, settings):
    return create_app(services, temporal_client, settings)


@pytest.fixture
async def api(app) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agentrt.test",
                                 timeout=60) as client:
        yield client


@pytest.fixture
async def live_api(app) -> AsyncIterator[str]:
    """Base URL (no trailing slash) of the app served by uvicorn on this test's event loop."""
    server = await start_server(app, "127.0.0.1", 0)
    try:
        yield server.url.rstrip("/")
    finally:
        await server.stop()


@pytest.fixture
def make_entry(services, tmp_path):
    async def make(domain: str, scope: str = "global", *, owner_sub=None, org_id=None, group_id=None,
                   data=None, secrets=None, title=None, secret_kinds=None):
        data = dict(data or {})
        data.setdefault("count_file", str(tmp_path / f"{domain}-{uuid.uuid4().hex[:6]}.count"))
        return await services.entries.create(
            domain=domain, owner=EntryOwner(scope, owner_sub, org_id, group_id), title=title or domain,
            data=data, secrets=secrets or {}, secret_kinds=secret_kinds,
        )

    return make


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS

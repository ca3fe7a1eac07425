"""Event tests: the bundled plugins plus fixture plugins and integrations, fast retry settings, helpers."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable

import asyncpg
import pytest

from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.client import start_session
from runtime.sessions.types import SessionPolicy
from runtime.settings import EventSettings

REPO = Path(__file__).resolve().parents[2]
FIXTURE_INTEGRATIONS = REPO / "tests" / "fixtures" / "integrations"
EVENT_FIXTURES = Path(__file__).resolve().parent / "fixtures"
ALICE = Principal(sub="alice", org_id="acme")

# Fast enough for tests, slow enough to show the ordering: retries start at 0.2 s, workflows
# idle out after 3 s, the dispatcher sweeps every 2 s.
FAST_EVENTS = EventSettings(max_attempts=5, retry_initial_seconds=0.2, retry_max_seconds=1.0,
                            handler_timeout_seconds=20, heartbeat_seconds=5, sweep_seconds=2, idle_seconds=3)


@pytest.fixture
def registry():
    return discover_dirs([REPO / "integrations", FIXTURE_INTEGRATIONS, EVENT_FIXTURES / "integrations"])


@pytest.fixture
def settings(settings):
    settings.plugins.external_dirs = [EVENT_FIXTURES / "plugins"]
    settings.plugins.allow_external = True
    settings.events = FAST_EVENTS.model_copy()
    return settings


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    path = tmp_path / "out"
    path.mkdir()
    return path


@pytest.fixture
def enable_plugin(services, out_dir):
    async def enable(plugin_id: str, owner: EntryOwner | None = None, *, secrets: dict[str, str] | None = None,
                     **variables: Any):
        manifest = services.plugins.get(plugin_id).manifest
        if manifest.variable("DIR") is not None:
            variables.setdefault("DIR", str(out_dir))
        return await services.plugin_configs.configure(manifest, owner or EntryOwner("global"), variables=variables,
                                                       secrets=secrets)

    return enable


@pytest.fixture
def open_session(temporal_client, settings):
    async def open_(principal: Principal = ALICE, profile: str = "offline", **kwargs: Any):
        return await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, principal,
                                   profile, policy=SessionPolicy(heartbeat_seconds=5), **kwargs)

    return open_


@pytest.fixture
def make_entry(services, out_dir):
    async def make(domain: str, scope: str = "global", *, owner_sub: str | None = None, title: str | None = None,
                   **data: Any):
        data.setdefault("out_dir", str(out_dir))
        return await services.entries.create(domain=domain, owner=EntryOwner(scope, owner_sub), title=title or domain,
                                             data=data)

    return make


async def wait_for(check: Callable[[], Awaitable[Any]], timeout: float = 45, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last answer after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last answer: {last!r}")


async def deliveries_of(pool: asyncpg.Pool, config_or_entry_id: str, event_type: str | None = None) -> list[dict]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """SELECT d.*, e.type, e.created_at AS event_created_at, e.payload FROM event_deliveries d
               JOIN events e ON e.id = d.event_id
               WHERE d.subscriber IN ('plugin:' || $1, 'entry:' || $1) AND ($2::text IS NULL OR e.type = $2)
               ORDER BY d.event_id""", config_or_entry_id, event_type)
    return [dict(r) for r in rows]

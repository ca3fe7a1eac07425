"""Fixtures for the bundled integrations: the real bundled dir, a recording model, entries, flows, local servers."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from runtime.integrations.flow_manager import FlowManager
from runtime.integrations.loader import discover_dirs
from runtime.integrations.scopes import EntryOwner
from runtime.sessions.client import start_session
from runtime.sessions.types import SessionPolicy
from runtime.settings import ModelProfile
from runtime.tiers import Tier
from tests.support.recording_model import RecordingModel

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "integrations"


@pytest.fixture
def registry():
    registry = discover_dirs([BUNDLED])
    assert not registry.failures, registry.failures
    return registry


@pytest.fixture
def recorder() -> RecordingModel:
    return RecordingModel()


@pytest.fixture
def model_overrides(recorder):
    return {"cheap": recorder.model(), "internal": recorder.model()}


@pytest.fixture
def settings(settings):
    settings.models.profiles["cheap"] = ModelProfile(model="test", tier=Tier.UNREGULATED)
    settings.models.profiles["internal"] = ModelProfile(model="test", tier=Tier.INTERNAL)
    return settings


@pytest.fixture
def make_entry(services):
    async def make(domain: str, scope: str = "global", *, owner_sub=None, org_id=None, group_id=None,
                   data=None, secrets=None, secret_kinds=None, title=None):
        return await services.entries.create(
            domain=domain, owner=EntryOwner(scope, owner_sub, org_id, group_id), title=title or domain,
            data=dict(data or {}), secrets=secrets or {}, secret_kinds=secret_kinds,
        )

    return make


@pytest.fixture
def flow_manager(services) -> FlowManager:
    return FlowManager(services.ctx.pool, services.ctx.secrets, services.registry, services.entries)


@pytest.fixture
def open_session(temporal_client, settings):
    async def open_(principal, profile: str = "cheap", **kwargs):
        return await start_session(temporal_client, settings.temporal.task_queue, uuid.uuid4().hex, principal,
                                   profile, policy=SessionPolicy(heartbeat_seconds=5), **kwargs)

    return open_


Route = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class LocalHttp:
    base_url: str
    requests: list[dict[str, Any]]


def serve(routes: dict[str, Route], host: str = "127.0.0.1") -> tuple[ThreadingHTTPServer, LocalHttp]:
    """A threaded ``http.server`` on a free port; ``routes`` maps a path to a handler function."""
    seen: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            path = self.path.split("?", 1)[0]
            seen.append({"path": self.path, "headers": dict(self.headers)})
            route = routes.get(path)
            if route is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            route(self)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, LocalHttp(f"http://{host}:{server.server_port}", seen)


@pytest.fixture
def http_server() -> Iterator[Callable[[dict[str, Route]], LocalHttp]]:
    servers: list[ThreadingHTTPServer] = []

    def start(routes: dict[str, Route]) -> LocalHttp:
        server, local = serve(routes)
        servers.append(server)
        return local

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()

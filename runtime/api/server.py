"""Serving the app with uvicorn inside a process that owns its event loop and its signals.

``agentrt dev`` runs the API next to the worker on one loop; ``agentrt api`` runs it
alone. Both handle SIGINT/SIGTERM themselves, so uvicorn must not install its own
handlers (they would swallow the dev stack's Ctrl-C).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Iterator

import uvicorn

from ..errors import AgentrtError
from ..logging import get_logger

STARTUP_TIMEOUT_SECONDS = 60.0

log = get_logger(__name__)


class ApiServerError(AgentrtError):
    key = "api_server_failed"


class EmbeddedServer(uvicorn.Server):
    """uvicorn without signal handling: the embedding process decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def api_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


@dataclass
class RunningServer:
    server: EmbeddedServer
    task: asyncio.Task[None]
    url: str

    async def stop(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError, SystemExit):
            await self.task
        log.info("api_stopped", url=self.url)


def build_server(app: Any, host: str, port: int, *, access_log: bool = False) -> EmbeddedServer:
    # log_config=None: uvicorn's records go through our root handler (structlog JSON, redaction).
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=access_log,
                            server_header=False, lifespan="on", timeout_graceful_shutdown=10)
    return EmbeddedServer(config)


async def start_server(app: Any, host: str, port: int, *, access_log: bool = False) -> RunningServer:
    """Start serving on this loop; returns once the socket listens (or raises if it cannot)."""
    server = build_server(app, host, port, access_log=access_log)
    task = asyncio.create_task(server.serve(), name="agentrt-api")
    deadline = asyncio.get_running_loop().time() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if task.done():
            # uvicorn reports a failed bind or lifespan by sys.exit() inside the task.
            exc = task.exception() if not task.cancelled() else None
            raise ApiServerError(f"the API server did not start on {host}:{port} ({type(exc).__name__ if exc else 'cancelled'})")
        if asyncio.get_running_loop().time() > deadline:
            server.should_exit = True
            raise ApiServerError(f"the API server did not start on {host}:{port} within {STARTUP_TIMEOUT_SECONDS}s")
        await asyncio.sleep(0.02)
    bound = port
    for srv in server.servers:  # port 0 asks the kernel: report the real one
        for sock in srv.sockets:
            bound = sock.getsockname()[1]
            break
    url = api_url(host, bound)
    log.info("api_listening", url=url)
    return RunningServer(server=server, task=task, url=url)


async def start_dev_api(services: Any, client: Any, settings: Any) -> RunningServer | None:
    """The API beside the dev stack's worker, sharing its services and client.

    ``api.port`` (8000) when free, else a port the kernel picks, so a second stack or a busy
    8000 never stops ``agentrt dev``. A failure to start is logged and the stack runs without it.
    """
    from ..dev.ports import free_port
    from .app import create_app

    host = settings.api.host
    port = free_port(settings.api.port, host) if settings.api.port else 0
    try:
        return await start_server(create_app(services, client, settings), host, port)
    except AgentrtError as exc:
        log.warning("dev_api_not_started", key=exc.key, message=exc.message)
        return None

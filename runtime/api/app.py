"""The FastAPI application: resources under ``/api``, health at ``/healthz``/``/readyz``, the console at ``/``.

Two ways to get one:

* :func:`create_app` wraps services and a Temporal client someone else owns
  (``agentrt dev`` shares its worker's; tests share their fixtures').
* :func:`create_app_from_settings` opens its own in the lifespan (``agentrt api``).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator

from fastapi import FastAPI
from temporalio.client import Client

from ..codec_server import codec_router
from ..crypto import KeyRing
from ..integrations.registry import IntegrationRegistry
from ..logging import get_logger
from ..settings import Settings
from . import entities, entries, events, flows, health, integrations, me, sessions
from .auth import DevPrincipalResolver, PrincipalResolver, admin_principal
from .errors import ApiError, install_error_handlers
from .middleware import BodyLimit, SecurityHeaders
from .mounts import mount_console, mount_entity_webhooks, mount_integration_routers
from .state import ApiState

if TYPE_CHECKING:
    from ..services import Services

log = get_logger(__name__)

DESCRIPTION = """\
agentrt's HTTP API. Authenticate with `Authorization: Bearer <token>` (mint a dev token with
`agentrt token --sub NAME`) or, in dev mode only, `X-Agentrt-Principal: sub[;org=ORG;groups=a,b;admin]`.
Errors are `{"error": <stable key>, "message": <text>}`.
"""


def _keyring(app: FastAPI) -> KeyRing:
    state = getattr(app.state, "agentrt", None)
    if state is None:
        raise ApiError("not_ready", "the API is still starting")
    return state.services.ctx.keyring


def _build(settings: Settings, registry: IntegrationRegistry, resolver: PrincipalResolver | None,
           lifespan=None) -> FastAPI:  # type: ignore[no-untyped-def]
    app = FastAPI(title="agentrt", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.principal_resolver = resolver or DevPrincipalResolver.from_settings(settings)
    app.state.agentrt = None
    install_error_handlers(app)
    for module in (health, me, integrations, flows, entries, entities, sessions, events):
        app.include_router(module.router)
    # Temporal UI's remote codec: admins read sealed payloads in the UI (docs/operations.md).
    app.include_router(codec_router(lambda: _keyring(app), admin_principal))
    mount_integration_routers(app, registry)
    mount_entity_webhooks(app)
    mount_console(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit)
    return app


def create_app(
    services: "Services",
    client: Client | None,
    settings: Settings,
    *,
    resolver: PrincipalResolver | None = None,
) -> FastAPI:
    """An app over services and a client the caller opened and will close."""
    app = _build(settings, services.registry, resolver)
    app.state.agentrt = ApiState(settings=settings, services=services, client=client)
    return app


def create_app_from_settings(settings: Settings, *, resolver: PrincipalResolver | None = None) -> FastAPI:
    """An app that opens Postgres, the services and a Temporal client at start-up and closes them at shutdown.

    Discovery runs now (it needs no I/O) so integration routers are in the app from the start.
    """
    from ..integrations.loader import discover

    registry = discover(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from ..context import RuntimeContext
        from ..endpoints import resolve_endpoints
        from ..services import Services
        from ..temporal import connect_client

        endpoints = resolve_endpoints(settings)
        ctx = await RuntimeContext.open(settings, endpoints.database_url)
        services = None
        try:
            services = await Services.start(ctx, registry=registry)
            client = await connect_client(settings, endpoints.temporal_address)
            app.state.agentrt = ApiState(settings=settings, services=services, client=client)
            log.info("api_started", temporal=endpoints.temporal_address, integrations=len(registry))
            yield
        finally:
            app.state.agentrt = None
            if services is not None:
                await services.close()
            await ctx.close()

    return _build(settings, registry, resolver, lifespan=lifespan)

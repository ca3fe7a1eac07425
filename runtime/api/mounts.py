"""Routers that come from elsewhere: integrations' own (``Integration.routers()``), entity webhooks, the console.

An integration's routers are mounted under ``/integrations/<domain>/``. They run in
process with full trust like the rest of the integration; to know who calls, they
depend on :func:`runtime.api.auth.current_principal` like any endpoint here. A router
that fails to build is logged and left out: one integration must not stop the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from ..integrations.registry import IntegrationRegistry
from ..logging import get_logger

STATIC_DIR = Path(__file__).parent / "static"

log = get_logger(__name__)


def mount_integration_routers(app: FastAPI, registry: IntegrationRegistry) -> list[str]:
    mounted: list[str] = []
    for loaded in registry:
        try:
            routers = list(loaded.integration.routers() or [])
            for router in routers:
                if not isinstance(router, APIRouter):
                    raise TypeError(f"routers() returned a {type(router).__name__}, not an APIRouter")
                app.include_router(router, prefix=f"/integrations/{loaded.domain}",
                                   tags=[f"integration: {loaded.domain}"])
        except Exception as exc:
            log.warning("integration_router_skipped", domain=loaded.domain, error_type=type(exc).__name__,
                        exc_info=True)
            continue
        if routers:
            mounted.append(loaded.domain)
            log.info("integration_router_mounted", domain=loaded.domain, routers=len(routers))
    return mounted


def mount_entity_webhooks(app: FastAPI) -> bool:
    """``POST /webhooks/integration/{entry_id}`` from runtime.entities, when that package is installed."""
    try:
        from ..entities.webhooks import webhook_router
    except ImportError:
        log.info("entity_webhooks_not_mounted", reason="runtime.entities.webhooks is not available")
        return False
    from .state import get_state

    def services(request: Request) -> Any:
        return get_state(request).services

    def client(request: Request) -> Any:
        return get_state(request).temporal()

    app.include_router(webhook_router(services, client))
    return True


def mount_console(app: FastAPI) -> None:
    """The web console: one page plus its static files, no build step."""
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(index, media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

"""Liveness and readiness. No auth: load balancers and orchestrators call these."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ..logging import get_logger

CHECK_TIMEOUT_SECONDS = 3.0

log = get_logger(__name__)
router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="The process is up")
async def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Readiness, summary="Postgres and Temporal answer",
            responses={503: {"model": Readiness, "description": "a dependency does not answer"}})
async def readyz(request: Request) -> JSONResponse:
    state = getattr(request.app.state, "agentrt", None)
    checks = {"postgres": "not_started", "temporal": "not_started"}
    if state is not None:
        checks["postgres"] = await _check(_postgres(state.pool), "postgres")
        checks["temporal"] = await _check(_temporal(state.client), "temporal") if state.client else "not_configured"
    ready = all(v == "ok" for v in checks.values())
    body = Readiness(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


async def _postgres(pool) -> None:  # type: ignore[no-untyped-def]
    async with pool.acquire(timeout=CHECK_TIMEOUT_SECONDS) as conn:
        await conn.fetchval("SELECT 1")


async def _temporal(client) -> None:  # type: ignore[no-untyped-def]
    ok = await client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT_SECONDS))
    if not ok:
        raise ConnectionError("temporal health check answered not serving")


async def _check(probe, name: str) -> str:  # type: ignore[no-untyped-def]
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS + 1)
    except Exception as exc:  # any failure means "not ready"; the type is enough to act on
        log.warning("readiness_check_failed", dependency=name, error_type=type(exc).__name__)
        return f"failed: {type(exc).__name__}"
    return "ok"


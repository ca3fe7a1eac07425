"""``POST /webhooks/integration/{entry_id}``: an integration's push endpoint.

Mount with ``app.include_router(webhook_router(get_services, get_client))``; both
arguments are FastAPI dependencies (the app's Services and Temporal client).

Order of checks, and why:

1. the declared size (Content-Length) against the cap: refused before anything is read;
2. the token (``X-Agentrt-Webhook-Token`` header, or ``?token=``) against the entry's
   stored hash, in constant time; a wrong token and an unknown entry are the same 401;
3. the body, read up to the cap (413 beyond), parsed as JSON (400 otherwise);
4. the body is stored and ``EntityWebhookWorkflow`` started with its id; the 202 goes
   out only after Temporal accepted the start, so an accepted push is never lost.

Prefer the header: a query-string token can end up in proxy access logs.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import asyncpg
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from ..logging import get_logger, register_secret
from . import deliveries
from .types import WebhookInput
from .webhook_tokens import verify_webhook_token

log = get_logger(__name__)

TOKEN_HEADER = "X-Agentrt-Webhook-Token"
MAX_WEBHOOK_BYTES = 256 * 1024
WORKFLOW_NAME = "EntityWebhookWorkflow"  # by name: runtime does not import workflows


def webhook_workflow_id(delivery_id: str) -> str:
    return f"entity-webhook:{delivery_id}"


def _error(status: int, key: str, message: str) -> JSONResponse:
    # The same {"error", "message"} body as the rest of the API.
    return JSONResponse({"error": key, "message": message}, status_code=status)


class _TooLarge(Exception):
    pass


async def _read_capped(request: Request, limit: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            raise _TooLarge
    return bytes(body)


def webhook_router(
    get_services: Callable[..., Any],
    get_client: Callable[..., Any],
    *,
    max_body_bytes: int = MAX_WEBHOOK_BYTES,
) -> APIRouter:
    """The webhook receiver as a router; ``get_services``/``get_client`` are FastAPI dependencies."""
    router = APIRouter(tags=["webhooks"])

    @router.post("/webhooks/integration/{entry_id}", status_code=202)
    async def receive_webhook(
        entry_id: str,
        request: Request,
        services: Any = Depends(get_services),
        client: Client = Depends(get_client),
    ) -> JSONResponse:
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_body_bytes:
            return _error(413, "webhook_payload_too_large", f"the body may be at most {max_body_bytes} bytes")
        token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token")
        pool: asyncpg.Pool = services.ctx.pool
        async with pool.acquire() as conn:
            target = await verify_webhook_token(conn, entry_id, token)
        if target is None:
            log.info("webhook_rejected", reason="webhook_unauthorized")  # no entry id: it may not exist
            return _error(401, "webhook_unauthorized", "missing or invalid webhook token")
        assert token is not None
        register_secret(token)  # a valid token is a credential: scrub it from any later log line

        try:
            body = await _read_capped(request, max_body_bytes)
        except _TooLarge:
            return _error(413, "webhook_payload_too_large", f"the body may be at most {max_body_bytes} bytes")
        try:
            payload = json.loads(body) if body.strip() else None
        except ValueError:
            return _error(400, "webhook_payload_invalid", "the body must be JSON")
        if target.disabled:
            return _error(409, "entry_disabled", "the config entry is disabled")

        try:
            delivery_id = await deliveries.insert(pool, entry_id, payload)
        except asyncpg.DataError:  # e.g. a \u0000 escape, which jsonb cannot store
            return _error(400, "webhook_payload_invalid", "the body cannot be stored as JSON")
        workflow_id = webhook_workflow_id(delivery_id)
        try:
            await client.start_workflow(
                WORKFLOW_NAME, WebhookInput(entry_id=entry_id, delivery_id=delivery_id), id=workflow_id,
                task_queue=services.ctx.settings.temporal.task_queue,
            )
        except Exception as exc:
            log.warning("webhook_start_failed", entry_id=entry_id, delivery_id=delivery_id,
                        error_type=type(exc).__name__, exc_info=True)
            await deliveries.delete(pool, delivery_id)
            return _error(503, "webhook_not_accepted", "the webhook could not be queued; retry later")
        log.info("webhook_accepted", entry_id=entry_id, domain=target.domain, delivery_id=delivery_id,
                 bytes=len(body))
        return JSONResponse({"delivery_id": delivery_id, "workflow_id": workflow_id}, status_code=202)

    return router

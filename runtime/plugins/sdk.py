"""The ``sdk`` a plugin handler receives: log, config, HTTP, and the event's session.

Handlers written like the reference are plain functions and run in a thread, so the SDK's
methods are synchronous; async handlers (awaited on the worker's event loop) use the
``async_`` variants. A synchronous method called on the event loop would stall every
activity of the worker, so it refuses (``plugin_sdk_blocking_call``) instead.

``send_message`` returns once the session *accepted* the message (a workflow update
started with ``wait_for_stage=ACCEPTED``), never waiting for the turn it starts: a
handler delivering the session's own events can message that session without waiting on
itself. The update id derives from the delivery's idempotency key, so a retried handler
does not send the same message twice.
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

import httpx
from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateStage
from temporalio.service import RPCError

from ..logging import get_logger, live_secrets
from ..principal import Principal
from ..sessions.client import session_handle
from ..sessions.limits import MAX_MESSAGE_CHARS
from ..sessions.types import SendMessage
from .registry import PluginError

if TYPE_CHECKING:
    from ..events.outbox import DeliveredEvent
    from ..services import Services
    from .configs import PluginConfig

log = get_logger(__name__)
T = TypeVar("T")
DEFAULT_HTTP_TIMEOUT = 10.0
MAX_HTTP_TIMEOUT = 60.0
MAX_BODY_CHARS = 1_000_000
LEVELS = {"debug": "debug", "info": "info", "warn": "warning", "warning": "warning", "error": "error"}


class PluginSdkError(PluginError):
    key = "plugin_sdk_error"


def _error(exc: BaseException) -> dict[str, Any]:
    return {"ok": False, "error": live_secrets.scrub(f"{type(exc).__name__}: {str(exc)[:300]}")}


def _response(resp: httpx.Response) -> dict[str, Any]:
    return {"ok": resp.is_success, "status_code": resp.status_code, "body": resp.text[:MAX_BODY_CHARS],
            "headers": dict(resp.headers)}


def _request_args(method: str, url: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    allowed = {"json", "data", "content", "headers", "params"}
    unknown = set(kwargs) - allowed
    if unknown:
        raise PluginSdkError(f"http_request got unexpected arguments {sorted(unknown)}", key="plugin_sdk_argument")
    return {"method": method.upper(), "url": url, **kwargs}


class PluginSDK:
    def __init__(self, *, services: "Services", client: Client | None, config: "PluginConfig",
                 variables: dict[str, Any], event: "DeliveredEvent", loop: asyncio.AbstractEventLoop) -> None:
        self._services = services
        self._client = client
        self._plugin_config = config
        self._event = event
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._sent = 0
        self.config: dict[str, Any] = dict(variables)
        self.plugin_id = config.plugin_id
        self.idempotency_key = event.idempotency_key

    def __repr__(self) -> str:  # never the variables: some are decrypted secrets
        return f"PluginSDK(plugin_id={self.plugin_id!r}, event={self._event.event!r})"

    # -- plumbing -----------------------------------------------------------------------
    def _blocking(self, factory: Callable[[], Awaitable[T]], name: str) -> T:
        if threading.get_ident() == self._loop_thread:
            raise PluginSdkError(f"sdk.{name} blocks; an async handler must await sdk.async_{name}",
                                 key="plugin_sdk_blocking_call")
        return asyncio.run_coroutine_threadsafe(factory(), self._loop).result()  # type: ignore[arg-type]

    # -- log ------------------------------------------------------------------------------
    def log(self, message: Any, level: str = "info") -> None:
        """One ``plugin_log`` line naming the plugin and the event (the logger scrubs live secrets)."""
        method = LEVELS.get(str(level).lower(), "info")
        getattr(log, method)("plugin_log", plugin_id=self.plugin_id, config_id=self._plugin_config.id,
                             plugin_event=self._event.event, event_id=self._event.id, message=str(message)[:4000])

    # -- HTTP -------------------------------------------------------------------------------
    def http_request(self, method: str, url: str, *, timeout: float = DEFAULT_HTTP_TIMEOUT,
                     **kwargs: Any) -> dict[str, Any]:
        """``{status_code, body, headers, ok}``, or ``{error, ok: False}`` when no response came."""
        if threading.get_ident() == self._loop_thread:
            raise PluginSdkError("sdk.http_request blocks; an async handler must await sdk.async_http_request",
                                 key="plugin_sdk_blocking_call")
        args = _request_args(method, url, kwargs)
        try:
            with httpx.Client(timeout=min(timeout, MAX_HTTP_TIMEOUT), follow_redirects=False) as http:
                return _response(http.request(**args))
        except httpx.HTTPError as exc:
            return _error(exc)

    async def async_http_request(self, method: str, url: str, *, timeout: float = DEFAULT_HTTP_TIMEOUT,
                                 **kwargs: Any) -> dict[str, Any]:
        args = _request_args(method, url, kwargs)
        try:
            async with httpx.AsyncClient(timeout=min(timeout, MAX_HTTP_TIMEOUT), follow_redirects=False) as http:
                return _response(await http.request(**args))
        except httpx.HTTPError as exc:
            return _error(exc)

    # -- sessions ---------------------------------------------------------------------------
    async def _allowed_session(self, session_id: str | None) -> str:
        """The event's own session, or another one whose principal this configuration serves."""
        target = session_id or self._event.session_id
        if not target:
            raise PluginSdkError("this event belongs to no session; name one", key="plugin_sdk_no_session")
        if target == self._event.session_id:
            return target
        async with self._services.ctx.pool.acquire() as conn:
            raw = await conn.fetchval("SELECT principal FROM sessions WHERE session_id = $1", target)
        if raw is None or not self._plugin_config.sees_session_of(Principal.model_validate(raw)):
            raise PluginSdkError(f"session {target!r} is not visible to this plugin configuration",
                                 key="plugin_sdk_session_forbidden")
        return target

    def get_session_messages(self, session_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return self._blocking(lambda: self.async_get_session_messages(session_id, limit), "get_session_messages")

    async def async_get_session_messages(self, session_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The last ``limit`` transcript rows of the session as ``{turn, role, text}`` lines."""
        target = await self._allowed_session(session_id)
        transcript = self._services.transcript
        limit = max(1, min(int(limit), 500))
        total = await transcript.count(target)
        lines = await transcript.page(target, offset=max(0, total - limit), limit=limit)
        return [line.model_dump() for line in lines]

    def send_message(self, text: str, session_id: str | None = None) -> dict[str, Any]:
        return self._blocking(lambda: self.async_send_message(text, session_id), "send_message")

    async def async_send_message(self, text: str, session_id: str | None = None) -> dict[str, Any]:
        """Queue ``text`` as a user message of the session: ``{ok, update_id}`` or ``{ok: False, error}``."""
        if self._client is None:
            return {"ok": False, "error": "temporal_unavailable"}
        if not text.strip() or len(text) > MAX_MESSAGE_CHARS:
            return {"ok": False, "error": "message_invalid"}
        target = await self._allowed_session(session_id)
        self._sent += 1
        update_id = f"plugin:{self.idempotency_key}:{self._sent}"
        try:
            await session_handle(self._client, target).start_update(
                "send_message", SendMessage(text=text), id=update_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED)
        except WorkflowUpdateFailedError as exc:
            cause = getattr(exc.cause, "message", "") or ""
            return {"ok": False, "error": cause.partition(":")[0] or "update_rejected"}
        except RPCError as exc:
            return {"ok": False, "error": "session_not_running" if exc.status and exc.status.name == "NOT_FOUND"
                    else "temporal_error"}
        log.info("plugin_message_sent", plugin_id=self.plugin_id, session_id=target, update_id=update_id)
        return {"ok": True, "update_id": update_id}

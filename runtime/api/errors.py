"""Every error leaves the API as ``{"error": <stable key>, "message": <human text>}``.

Status codes come from the error's key, so the service layer raises its own specific
errors (``entry_not_found``, ``already_configured`` ...) and never thinks about HTTP.
Messages of agentrt errors name ids and fields, never values (see runtime/errors.py),
so they are safe to return. Anything unexpected becomes a bare 500 ``internal_error``;
its details go to the log only.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import AgentrtError
from ..logging import get_logger

log = get_logger(__name__)

STATUS_BY_KEY: dict[str, int] = {
    # who you are
    "unauthenticated": 401,
    "token_invalid": 401,
    "token_expired": 401,
    "principal_header_invalid": 401,
    "principal_header_refused": 401,
    "admin_required": 403,
    "scope_forbidden": 403,
    "entry_forbidden": 403,
    # what does not exist (for this principal: another principal's things do not exist either)
    "not_found": 404,
    "entry_not_found": 404,
    "flow_not_found": 404,
    "integration_not_found": 404,
    "session_not_found": 404,
    "entity_not_found": 404,
    "event_not_found": 404,
    "flow_expired": 410,
    # state conflicts
    "already_configured": 409,
    "entry_revision_conflict": 409,
    "flow_conflict": 409,
    "integration_disabled": 409,
    "session_ended": 409,
    "approval_unknown": 409,
    "approval_already_decided": 409,
    "update_rejected": 409,
    "session_query_failed": 409,
    "entity_schedule_not_found": 409,
    "entities_not_supported": 409,
    # bad input
    "request_invalid": 422,
    "scope_not_allowed": 422,
    "scope_owner_missing": 422,
    "masked_value_invalid": 422,
    "flow_input_invalid": 422,
    "flow_source_invalid": 422,
    "integration_scope_invalid": 422,
    "tier_unknown": 422,
    "entry_secret_invalid": 422,
    "entry_field_invalid": 422,
    "model_profile_unknown": 422,
    "flow_unknown": 422,
    "message_empty": 422,
    "message_invalid": 422,
    "event_filter_required": 422,
    "flow_input_too_large": 413,
    "message_too_large": 413,
    "body_too_large": 413,
    "method_not_allowed": 405,
    # dependencies
    "temporal_unavailable": 503,
    "not_ready": 503,
    "session_timeout": 504,
}
# Keys that would tell a caller that someone else's object exists: answered as "not found".
DISGUISED: dict[str, str] = {"flow_forbidden": "flow_not_found"}


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    message: str


class ApiError(AgentrtError):
    """An error raised by the HTTP layer itself (auth, ownership, request shape)."""

    def __init__(self, key: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message, key=key)
        self.status = status


def error_response(key: str, message: str, status: int, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": key, "message": message}, status_code=status, headers=headers)


def status_for(key: str) -> int:
    return STATUS_BY_KEY.get(key, 500)


# For the OpenAPI document: the error responses most operations can give.
COMMON_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "no or invalid credentials"},
    422: {"model": ErrorBody, "description": "invalid input"},
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorBody, "description": "not found for this principal"}}
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody, "description": "conflicts with the current state"}}


async def _agentrt_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentrtError)
    key, message = exc.key, exc.message
    if key in DISGUISED:
        key = DISGUISED[key]
        message = "it does not exist"
    status = getattr(exc, "status", None) or status_for(key)
    if status >= 500:
        log.error("api_error", key=key, path=request.url.path, method=request.method, status=status)
        if key not in STATUS_BY_KEY:  # an internal error with a key: keep the key, not the detail
            message = "internal error"
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(key, message, status, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Never echo the submitted input: it may be a secret typed into the wrong field.
    problems = []
    for err in exc.errors()[:20]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        problems.append(f"{loc}: {err.get('msg', 'invalid')}")
    return JSONResponse(
        {"error": "request_invalid", "message": "; ".join(problems) or "invalid request",
         "fields": [".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:20]]},
        status_code=422,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    key = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else key
    return error_response(key, detail, exc.status_code, dict(exc.headers or {}) or None)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the log (which scrubs live secrets); the client learns nothing.
    log.error("api_unhandled_error", path=request.url.path, method=request.method,
              error_type=type(exc).__name__, exc_info=exc)
    return error_response("internal_error", "internal error", 500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AgentrtError, _agentrt_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

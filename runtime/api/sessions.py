"""``/api/sessions``: agent sessions of the calling principal.

Creating one starts an ``AgentSessionWorkflow`` acting for the principal the request
authenticated as — never for a principal named in the body. Messages and approval
decisions are workflow updates: the request returns when the turn completes or parks
on an approval. Progress is a query; the transcript is read from Postgres.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from ..logging import get_logger
from ..principal import Principal
from ..sessions.client import decide_approval, send_message, session_handle, start_session
from ..sessions.limits import MAX_MESSAGE_CHARS, MAX_REASON_CHARS
from ..sessions.types import SessionStatus, ToolCallView, TranscriptLine, TurnResult
from .auth import current_principal
from .errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, ApiError, ErrorBody
from .session_records import SessionRecord, forget, list_owned, owned_session, temporal_errors
from .state import ApiState, get_state
from .validation import ID_PATTERN, SafeStr

log = get_logger(__name__)
router = APIRouter(prefix="/api/sessions", tags=["sessions"], responses=COMMON_ERRORS)

SessionId = Path(pattern=ID_PATTERN)
# A query needs a worker to answer; without one it would wait for the RPC's default timeout.
QUERY_TIMEOUT = timedelta(seconds=10)
UNAVAILABLE = {503: {"model": ErrorBody, "description": "Temporal is unavailable"}}


class SessionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"model_profile": "offline"}]})

    model_profile: str | None = Field(default=None, min_length=1, max_length=100,
                                      description="a configured model profile; default: the default profile")
    instructions: SafeStr | None = Field(default=None, max_length=MAX_MESSAGE_CHARS)
    flow: str | None = Field(default=None, min_length=1, max_length=200, pattern=ID_PATTERN,
                             description="a conversation flow to run the session in")


class SessionView(BaseModel):
    session_id: str
    model_profile: str
    status: Literal["active", "ended"]
    created_at: datetime
    ended_at: datetime | None = None
    live: SessionStatus | None = Field(default=None, description="the workflow's own view; None when it did not answer")


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "/tools"}]})

    text: SafeStr = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"decision": "approve"}]})

    decision: Literal["approve", "deny"]
    reason: SafeStr | None = Field(default=None, max_length=MAX_REASON_CHARS)


class TranscriptPage(BaseModel):
    lines: list[TranscriptLine]
    offset: int
    next_offset: int | None = Field(description="pass as offset for the next page; None at the end")


@router.post("", response_model=SessionView, status_code=201, responses=UNAVAILABLE,
             summary="Start a session acting for the caller")
async def create_session(
    body: SessionCreate, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> SessionView:
    profile = body.model_profile or state.settings.models.default_profile
    state.services.models.profile(profile)  # unknown -> model_profile_unknown (422), before anything starts
    if body.flow is not None:
        state.services.flows.get(body.flow)  # unknown -> flow_unknown (422)
    client = state.temporal()
    session_id = uuid.uuid4().hex
    # The row first: ownership must be on record before the workflow can be reached at all.
    await state.services.transcript.ensure_session(session_id, principal, profile)
    try:
        async with temporal_errors(session_id):
            await start_session(client, state.settings.temporal.task_queue, session_id, principal, profile,
                                body.instructions, flow=body.flow)
    except BaseException:
        await forget(state.pool, session_id)
        raise
    log.info("api_session_created", session_id=session_id, owner_sub=principal.sub, model_profile=profile,
             flow=body.flow)
    record = await owned_session(state.pool, session_id, principal)
    return SessionView(**record.model_dump(exclude={"updated_at"}))


@router.get("", response_model=list[SessionRecord], summary="The caller's sessions, newest first")
async def list_sessions(
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=1_000_000),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> list[SessionRecord]:
    return await list_owned(state.pool, principal, limit=limit, offset=offset)


@router.get("/{session_id}", response_model=SessionView, responses=NOT_FOUND,
            summary="The session and, while it runs, its live status (progress, pending approvals)")
async def get_session(
    session_id: str = SessionId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> SessionView:
    record = await owned_session(state.pool, session_id, principal)
    live = None
    if record.status == "active" and state.client is not None:
        try:
            async with temporal_errors(session_id):
                live = await session_handle(state.client, session_id).query(
                    "status", result_type=SessionStatus, rpc_timeout=QUERY_TIMEOUT)
        except ApiError as exc:
            # A status page must render while Temporal is away; it says so by leaving live empty.
            log.info("api_session_status_unavailable", session_id=session_id, key=exc.key)
    return SessionView(**record.model_dump(exclude={"updated_at"}), live=live)


@router.post("/{session_id}/messages", response_model=TurnResult, responses={**NOT_FOUND, **CONFLICT, **UNAVAILABLE},
             summary="Send a message; returns when the turn completes or waits for an approval")
async def post_message(
    body: MessageIn,
    session_id: str = SessionId,
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> TurnResult:
    if not body.text.strip():
        raise ApiError("message_empty", "the message is empty")
    handle = await _running(state, session_id, principal)
    async with temporal_errors(session_id):
        return await send_message(handle, body.text)


@router.get("/{session_id}/approvals", response_model=list[ToolCallView], responses={**NOT_FOUND, **CONFLICT},
            summary="Tool calls waiting for the caller's decision")
async def list_approvals(
    session_id: str = SessionId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> list[ToolCallView]:
    record = await owned_session(state.pool, session_id, principal)
    if record.status == "ended":
        return []
    handle = session_handle(state.temporal(), session_id)
    async with temporal_errors(session_id):
        return await handle.query("pending_approvals", result_type=list[ToolCallView], rpc_timeout=QUERY_TIMEOUT)


@router.post("/{session_id}/approvals/{tool_call_id}", response_model=TurnResult,
             responses={**NOT_FOUND, **CONFLICT, **UNAVAILABLE},
             summary="Approve or deny a pending tool call; returns the turn's next result")
async def decide(
    body: DecisionIn,
    session_id: str = SessionId,
    tool_call_id: str = Path(pattern=ID_PATTERN),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> TurnResult:
    handle = await _running(state, session_id, principal)
    async with temporal_errors(session_id):
        result = await decide_approval(handle, tool_call_id, approve=body.decision == "approve", reason=body.reason)
    log.info("api_approval_decided", session_id=session_id, tool_call_id=tool_call_id, decision=body.decision,
             by=principal.sub)
    return result


@router.get("/{session_id}/transcript", response_model=TranscriptPage, responses=NOT_FOUND,
            summary="Readable transcript lines from Postgres, paged by stored message")
async def transcript(
    session_id: str = SessionId,
    offset: int = Query(0, ge=0, le=10_000_000),
    limit: int = Query(50, ge=1, le=500),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> TranscriptPage:
    await owned_session(state.pool, session_id, principal)
    store = state.services.transcript
    lines = await store.page(session_id, offset=offset, limit=limit)
    total = await store.count(session_id)
    return TranscriptPage(lines=lines, offset=offset, next_offset=offset + limit if offset + limit < total else None)


@router.post("/{session_id}/end", response_model=SessionView, status_code=202, responses=NOT_FOUND,
             summary="End the session; pending approvals are denied")
async def end_session(
    session_id: str = SessionId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> SessionView:
    record = await owned_session(state.pool, session_id, principal)
    if record.status == "active":
        try:
            async with temporal_errors(session_id):
                await session_handle(state.temporal(), session_id).signal("end")
        except ApiError as exc:
            if exc.key != "session_ended":  # already finished: ending it again is a no-op
                raise
        log.info("api_session_ending", session_id=session_id, by=principal.sub)
    return SessionView(**record.model_dump(exclude={"updated_at"}))


async def _running(state: ApiState, session_id: str, principal: Principal):  # type: ignore[no-untyped-def]
    record = await owned_session(state.pool, session_id, principal)
    if record.status == "ended":
        raise ApiError("session_ended", f"session {session_id!r} has ended")
    return session_handle(state.temporal(), session_id)

"""``/api/events``: events of the caller's sessions and visible entries, each with its delivery status.

Session events are visible to the session's owner, entry events to whoever can see the
entry; an admin sees every event. Anything else answers 404, like a missing event.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from ..errors import AgentrtError
from ..events.status import EventView, event_status, list_events
from ..principal import Principal
from .auth import current_principal
from .entry_access import visible_entry
from .errors import COMMON_ERRORS, NOT_FOUND, ApiError
from .session_records import owned_session
from .state import ApiState, get_state
from .validation import ID_PATTERN

router = APIRouter(prefix="/api/events", tags=["events"], responses=COMMON_ERRORS)


async def _check_visible(state: ApiState, principal: Principal, session_id: str | None, entry_id: str | None) -> None:
    if principal.is_admin:
        return
    if session_id is not None:
        await owned_session(state.pool, session_id, principal)
    elif entry_id is not None:
        await visible_entry(state.services.entries, entry_id, principal)
    else:
        raise ApiError("event_filter_required", "name a session_id or an entry_id (only admins list all events)",
                       status=422)


@router.get("", response_model=list[EventView], responses=NOT_FOUND,
            summary="Events of a session or entry, newest first, with each subscriber's delivery status")
async def get_events(
    session_id: str | None = Query(None, pattern=ID_PATTERN, description="this session's events"),
    entry_id: str | None = Query(None, pattern=ID_PATTERN, description="this entry's events (entities, syncs)"),
    type: str | None = Query(None, max_length=100, pattern=r"^[a-z][a-z0-9_.]*$", description="only this event type"),
    limit: int = Query(50, ge=1, le=500),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> list[EventView]:
    await _check_visible(state, principal, session_id, entry_id)
    return await list_events(state.pool, session_id=session_id, entry_id=entry_id, event_type=type, limit=limit)


@router.get("/{event_id}", response_model=EventView, responses=NOT_FOUND,
            summary="One event and the delivery status of each of its subscribers")
async def get_event(
    event_id: int = Path(ge=1, le=2**62),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> EventView:
    event = await event_status(state.pool, event_id)
    if event is None:
        raise ApiError("event_not_found", f"event {event_id} does not exist")
    try:
        await _check_visible(state, principal, event.session_id, event.entry_id)
    except AgentrtError as exc:
        # Someone else's session or entry, or an event of neither (admins only): as if it did not exist.
        if exc.key in ("event_filter_required", "session_not_found", "entry_not_found"):
            raise ApiError("event_not_found", f"event {event_id} does not exist") from None
        raise
    return event

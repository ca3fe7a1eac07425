"""``/api/entities``: the entities of the config entries the caller can see, filtered.

Read-only here. An entity action runs the integration's ``async_call_action`` with the
entry's decrypted secrets, which only activity code may hold: it is offered to agents
as the ``<domain>_call_action`` tool (gated and, while untrusted sources are present,
approved like any high-privilege tool), not as an endpoint of this process.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from ..entities.store import EntityStore
from ..integrations.entry_model import ConfigEntry
from ..principal import Principal
from .auth import current_principal
from .entry_access import visible_entries, visible_entry
from .errors import COMMON_ERRORS, NOT_FOUND
from .state import ApiState, get_state
from .validation import DOMAIN_PATTERN, ID_PATTERN

router = APIRouter(prefix="/api/entities", tags=["entities"], responses=COMMON_ERRORS)


class EntityView(BaseModel):
    entry_id: str
    domain: str
    entity_id: str
    type: str
    state: str | None = None
    attributes: dict[str, Any]
    actions: list[str]
    source: str
    first_seen: datetime
    last_seen: datetime
    updated_at: datetime


def _provides_entities(state: ApiState, entry: ConfigEntry) -> bool:
    registry = state.services.registry
    return entry.domain in registry and bool(registry.get(entry.domain).integration.entity_types())


@router.get("", response_model=list[EntityView], responses=NOT_FOUND,
            summary="Entities of the entries the caller can see, by entry, type and integration")
async def list_entities(
    entry_id: str | None = Query(None, pattern=ID_PATTERN, description="only this entry's entities"),
    domain: str | None = Query(None, pattern=DOMAIN_PATTERN, description="only this integration's entities"),
    type: str | None = Query(None, pattern=DOMAIN_PATTERN, description="only entities of this type"),
    with_actions: bool = Query(False, description="only entities that offer actions"),
    limit: int = Query(200, ge=1, le=1000),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> list[EntityView]:
    if entry_id is not None:
        entries = [await visible_entry(state.services.entries, entry_id, principal)]
    else:
        entries = await visible_entries(state.pool, principal, domain)
    store = EntityStore(state.pool)
    out: list[EntityView] = []
    for entry in entries:
        if len(out) >= limit or (domain is not None and entry.domain != domain) or not _provides_entities(state, entry):
            continue
        for entity in await store.list_entities(entry.id, type=type, with_actions=with_actions,
                                                limit=limit - len(out)):
            out.append(EntityView(entry_id=entry.id, domain=entry.domain, **entity.model_dump()))
    return out

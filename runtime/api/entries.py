"""``/api/entries``: config entries the principal can see, masked; changes by their managers only.

Entries are created through config flows (``/api/flows``). Reading never decrypts a
write-only ``secret``; an update may send a field's mask back unchanged to keep the
stored value (the masked round trip), ``null`` to remove it, or a new value.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from ..integrations.config_errors import EntryRevisionConflictError
from ..integrations.entries import EntriesService
from ..logging import get_logger
from ..principal import Principal
from ..entities.schedules import trigger_sync
from .auth import current_principal
from .entry_hooks import after_entry_change
from .entry_access import can_manage, manageable_entry, masked_view, reload_entry, visible_entries, visible_entry
from .errors import COMMON_ERRORS, CONFLICT, NOT_FOUND, ApiError, ErrorBody
from .state import ApiState, get_state
from .validation import DOMAIN_PATTERN, ID_PATTERN, SafeStr, check_json

log = get_logger(__name__)
router = APIRouter(prefix="/api/entries", tags=["config entries"], responses={**COMMON_ERRORS, **NOT_FOUND})

FORBIDDEN = {403: {"model": ErrorBody, "description": "visible, but only its owner or a scope admin may change it"}}
_FIELD = re.compile(r"^[a-z_][a-z0-9_]{0,63}$")
MAX_FIELDS = 64
EntryId = Path(pattern=ID_PATTERN)


class EntryView(BaseModel):
    id: str
    domain: str
    title: str
    scope: str
    owner_sub: str | None = None
    org_id: str | None = None
    group_id: str | None = None
    unique_id: str | None = None
    data: dict[str, Any]
    options: dict[str, Any]
    secrets: dict[str, str] = Field(description="secret field -> its mask; never a value")
    version: int
    state: str
    state_reason: str | None = None
    disabled: bool
    required_tier_override: str | None = None
    revision: int
    created_at: datetime
    updated_at: datetime
    manageable: bool = Field(description="the caller may update, reload or delete it")


class EntryState(BaseModel):
    entry_id: str
    state: str
    recoverable: bool
    reason: str | None = None
    disabled: bool
    revision: int


class EntryUpdate(BaseModel):
    """Absent fields stay as they are. ``data`` is merged into the stored data."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "My Service", "secrets": {"api_key": "••••"}}]})

    title: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    data: dict[str, Any] | None = None
    secrets: dict[str, SafeStr | None] | None = Field(
        default=None, description="field -> new value, its current mask to keep it, or null to remove it"
    )
    disabled: bool | None = None
    expected_revision: int | None = Field(default=None, ge=0, le=2**31 - 1,
                                          description="fail with 409 if the entry changed since this revision")


async def _view(entries: EntriesService, entry: Any, principal: Principal) -> EntryView:
    return EntryView(**await masked_view(entries, entry, principal), manageable=can_manage(principal, entry))


@router.get("", response_model=list[EntryView], summary="Entries the caller can see (disabled ones included)")
async def list_entries(
    domain: str | None = Query(None, pattern=DOMAIN_PATTERN),
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> list[EntryView]:
    entries = state.services.entries
    return [await _view(entries, e, principal) for e in await visible_entries(state.pool, principal, domain)]


@router.get("/{entry_id}", response_model=EntryView, summary="One entry, secrets masked")
async def get_entry(
    entry_id: str = EntryId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> EntryView:
    entry = await visible_entry(state.services.entries, entry_id, principal)
    return await _view(state.services.entries, entry, principal)


@router.patch("/{entry_id}", response_model=EntryView, responses={**FORBIDDEN, **CONFLICT},
              summary="Update title, data, secrets (masked round trip) or disabled")
async def update_entry(
    update: EntryUpdate,
    entry_id: str = EntryId,
    state: ApiState = Depends(get_state),
    principal: Principal = Depends(current_principal),
) -> EntryView:
    entries = state.services.entries
    entry = await manageable_entry(entries, entry_id, principal)
    _check_update(update, entry.secret_fields)
    if update.expected_revision is not None and entry.revision != update.expected_revision:
        raise EntryRevisionConflictError(f"config entry {entry.id!r} changed since revision {update.expected_revision}")
    if update.title is not None or update.data is not None or update.secrets is not None:
        entry = await entries.update(entry.id, title=update.title, data=update.data, secrets=update.secrets,
                                     merge_data=True, expected_revision=update.expected_revision)
    if update.disabled is not None and update.disabled != entry.disabled:
        entry = await entries.set_disabled(entry.id, update.disabled)
    log.info("api_entry_updated", entry_id=entry.id, domain=entry.domain, by=principal.sub,
             fields=sorted(update.model_fields_set))
    await after_entry_change(state, "updated", entry)
    return await _view(entries, entry, principal)


def _check_update(update: EntryUpdate, secret_fields: list[str]) -> None:
    if update.data is not None:
        if len(update.data) > MAX_FIELDS or not all(_FIELD.match(k) for k in update.data):
            raise ApiError("entry_field_invalid", "data keys must be field names (a-z, 0-9, _), at most 64 of them")
        overlap = sorted(set(update.data) & set(secret_fields))
        if overlap:
            raise ApiError("entry_field_invalid", f"{overlap} are secret fields; send them under 'secrets'")
        check_json(update.data, key="entry_field_invalid", what="entry data")
    if update.secrets is not None:
        unknown = sorted(set(update.secrets) - set(secret_fields))
        if unknown:
            # A new secret field comes from the integration's flow (reconfigure), not from a raw update.
            raise ApiError("entry_field_invalid", f"{[k[:64] for k in unknown][:5]} are not secret fields of this entry")


@router.delete("/{entry_id}", status_code=204, response_class=Response, responses=FORBIDDEN,
               summary="Delete the entry and its secrets")
async def delete_entry(
    entry_id: str = EntryId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> Response:
    entry = await manageable_entry(state.services.entries, entry_id, principal)
    await state.services.entries.delete(entry.id)
    log.info("api_entry_deleted", entry_id=entry.id, domain=entry.domain, by=principal.sub)
    await after_entry_change(state, "deleted", entry.id)
    return Response(status_code=204)


@router.post("/{entry_id}/reload", response_model=EntryState, responses=FORBIDDEN,
             summary="Set the entry up afresh on next use (every worker) and reset its state")
async def reload(
    entry_id: str = EntryId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> EntryState:
    entry = await manageable_entry(state.services.entries, entry_id, principal)
    reloaded = await reload_entry(state.pool, entry.id)
    await after_entry_change(state, "updated", reloaded)
    return _state(reloaded)


@router.post("/{entry_id}/sync", status_code=202, response_model=EntryState, responses={**FORBIDDEN, **CONFLICT},
             summary="Run the entry's entity sync now (integrations with entities only)")
async def sync_now(
    entry_id: str = EntryId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> EntryState:
    entry = await manageable_entry(state.services.entries, entry_id, principal)
    await trigger_sync(state.temporal(), entry.id)  # no schedule -> entity_schedule_not_found (409)
    log.info("api_entry_sync_triggered", entry_id=entry.id, domain=entry.domain, by=principal.sub)
    return _state(entry)


@router.get("/{entry_id}/state", response_model=EntryState, summary="Runtime state of the entry")
async def entry_state(
    entry_id: str = EntryId, state: ApiState = Depends(get_state), principal: Principal = Depends(current_principal)
) -> EntryState:
    return _state(await visible_entry(state.services.entries, entry_id, principal))


def _state(entry: Any) -> EntryState:
    return EntryState(entry_id=entry.id, state=entry.state.value, recoverable=entry.state.recoverable,
                      reason=entry.state_reason, disabled=entry.disabled, revision=entry.revision)

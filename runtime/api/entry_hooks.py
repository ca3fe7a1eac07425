"""What follows a change to a config entry: its entity-sync schedule is brought in line.

The change itself is already committed when this runs, so a Temporal hiccup must not
turn a successful request into an error: the failure is logged and the next worker
start (``reconcile_schedules``) converges. Integrations without entity types just
have no schedule (``ensure`` removes a stale one).
"""

from __future__ import annotations

from typing import Literal

from ..entities.schedules import EntryLifecycle
from ..integrations.config_errors import EntryNotFoundError
from ..integrations.entry_model import ConfigEntry
from ..logging import get_logger
from .state import ApiState

log = get_logger(__name__)

Change = Literal["created", "updated", "deleted"]


async def after_entry_change(state: ApiState, change: Change, entry: ConfigEntry | str) -> None:
    if state.client is None:
        return
    entry_id = entry if isinstance(entry, str) else entry.id
    lifecycle = EntryLifecycle(state.services.registry, state.settings.temporal.task_queue)
    try:
        if change == "deleted":
            await lifecycle.on_entry_deleted(state.client, entry_id)
            return
        if isinstance(entry, str):
            entry = await state.services.entries.get(entry)
        if change == "created":
            await lifecycle.on_entry_created(state.client, entry)
        else:
            await lifecycle.on_entry_updated(state.client, entry)
    except EntryNotFoundError:
        pass  # deleted meanwhile: its own request removes the schedule
    except Exception as exc:
        log.warning("entry_schedule_sync_failed", entry_id=entry_id, change=change, error_type=type(exc).__name__)

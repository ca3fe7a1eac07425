"""Which config entries a principal may see and manage, and the entry operations the API adds.

Visibility and management rules are the integration framework's
(:mod:`runtime.integrations.scopes`); this module applies them per request so an
entry the principal cannot see is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from ..integrations.config_errors import EntryNotFoundError
from ..integrations.entries import EntriesService
from ..integrations.entry_model import ConfigEntry, entry_from_row
from ..integrations.entry_states import ConfigEntryState
from ..integrations.masking import MASK
from ..integrations.scopes import VISIBLE_TO_PRINCIPAL_SQL, is_visible_to, may_manage
from ..logging import get_logger
from ..principal import Principal
from .errors import ApiError

log = get_logger(__name__)


def can_see(principal: Principal, entry: ConfigEntry) -> bool:
    return is_visible_to(principal, entry.scope, entry.owner_sub, entry.org_id, entry.group_id)


def can_manage(principal: Principal, entry: ConfigEntry) -> bool:
    return may_manage(principal, entry.scope, entry.owner_sub, entry.org_id, entry.group_id)


async def visible_entry(entries: EntriesService, entry_id: str, principal: Principal) -> ConfigEntry:
    """The entry, if the principal may see it; else the same error as for a missing one."""
    entry = await entries.get(entry_id)
    if not can_see(principal, entry):
        raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
    return entry


async def manageable_entry(entries: EntriesService, entry_id: str, principal: Principal) -> ConfigEntry:
    entry = await visible_entry(entries, entry_id, principal)
    if not can_manage(principal, entry):
        raise ApiError("entry_forbidden", "only the entry's owner or an admin of its scope may change it")
    return entry


async def visible_entries(pool: asyncpg.Pool, principal: Principal, domain: str | None) -> list[ConfigEntry]:
    """Every entry the principal can see, disabled ones included (a UI must be able to re-enable them).

    ``EntriesService.list_for_principal`` answers a different question — which entries a
    session would use — and leaves disabled and shadowed entries out.
    """
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""SELECT e.* FROM config_entries e
                WHERE ($4::text IS NULL OR e.domain = $4) AND {VISIBLE_TO_PRINCIPAL_SQL}
                ORDER BY e.domain, e.created_at, e.id""",
            principal.sub, principal.org_id, list(principal.groups), domain,
        )
    return [entry_from_row(r) for r in rows]


async def masked_view(entries: EntriesService, entry: ConfigEntry, principal: Principal) -> dict[str, Any]:
    """The entry with every secret masked.

    ``password`` masks may end in the value's last characters; only someone who may manage
    the entry gets those hints, everyone else sees bare masks.
    """
    if can_manage(principal, entry):
        return await entries.read_masked(entry.id)
    out = entry.model_dump(mode="json", exclude={"secret_fields"})
    out["secrets"] = {f: MASK for f in entry.secret_fields}
    return out


async def reload_entry(pool: asyncpg.Pool, entry_id: str) -> ConfigEntry:
    """Make every worker set the entry up afresh on its next use, and forget its runtime state.

    Setup caches are keyed by (entry id, revision) in each worker process; bumping the
    revision is the one signal all of them see, wherever they run. The state goes back
    to ``not_loaded`` until a worker sets it up again.
    """
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            """UPDATE config_entries SET revision = revision + 1, state = $2, state_reason = NULL,
                   updated_at = now() WHERE id = $1 RETURNING *""",
            entry_id, ConfigEntryState.NOT_LOADED.value,
        )
    if row is None:
        raise EntryNotFoundError(f"config entry {entry_id!r} does not exist")
    log.info("config_entry_reload_requested", entry_id=entry_id, domain=row["domain"], revision=row["revision"])
    return entry_from_row(row)

"""One entry's own entities, handed to its integration as ``SetupContext.entities``.

Pulls, pushes and the seed write entities from outside; some integrations (``notes``)
create them from their own tools instead. They get this handle, bound to their entry:
it can only touch that entry's rows, only write the types the integration declares,
validates exactly like a pull (no secret value of the entry, size caps, no NUL), and
writes with ``source='local'``, which a later full pull leaves alone. Every write emits
the same ``entity.*`` events a sync does, in the same transaction.

Only activity code holds a ``SetupContext``, so only activity code holds one of these.
"""

from __future__ import annotations

from typing import Any, Callable, Collection, Iterable

from ..integrations.lookup import lookup_integration
from .store import EntityDiff, EntityStore, StoredEntity


class EntryEntities:
    def __init__(self, store: EntityStore, entry_id: str, types: Collection[str], secrets: Iterable[str]) -> None:
        self._store = store
        self.entry_id = entry_id
        self.types = frozenset(types)
        self._secrets = tuple(secrets)

    def __repr__(self) -> str:
        return f"EntryEntities({self.entry_id!r}, types={sorted(self.types)})"

    async def upsert(self, entities: Iterable[Any]) -> EntityDiff:
        """Create or replace the given entities (all validated before any is written)."""
        return await self._store.apply(self.entry_id, entities, full=False, source="local",
                                       allowed_types=self.types, forbidden_values=self._secrets)

    async def delete(self, entity_ids: Collection[str]) -> list[str]:
        """Delete these entities of the entry; returns the ids that existed."""
        return await self._store.delete(self.entry_id, entity_ids)

    async def get(self, entity_id: str) -> StoredEntity | None:
        return await self._store.get(self.entry_id, entity_id)

    async def list(self, *, type: str | None = None, limit: int = 1000) -> list[StoredEntity]:
        return await self._store.list_entities(self.entry_id, type=type, limit=limit)

    async def count(self) -> int:
        return await self._store.count(self.entry_id)


EntityAccess = Callable[[str, str, Iterable[str]], "EntryEntities | None"]


def entity_access(store: EntityStore, registry: Any) -> EntityAccess:
    """What the entries service calls while building a set-up context: a handle for entries
    of integrations that declare entity types, None for the others (and for unloaded ones)."""

    def for_entry(entry_id: str, domain: str, secrets: Iterable[str]) -> EntryEntities | None:
        try:
            types = lookup_integration(registry, domain).integration.entity_types()
        except Exception:
            return None
        return EntryEntities(store, entry_id, types, secrets) if types else None

    return for_entry

"""Personal notes the assistant writes, searches and deletes; kept as entities of the user's entry."""

from __future__ import annotations

from typing import Any

from runtime.integrations import Entity, Integration, SetupContext

from .config_flow import NotesConfigFlow
from .notebook import ENTITY_TYPE, WELCOME, NotesError
from .tools import build_toolset


class NotesIntegration(Integration):
    config_flow_cls = NotesConfigFlow

    def entity_types(self) -> list[str]:
        return [ENTITY_TYPE]

    async def async_setup_entry(self, ctx: SetupContext) -> list[Any]:
        # The flow only offers user entries; an entry made some other way must not share notes.
        if ctx.scope != "user":
            raise NotesError("notes entries must be user-scoped", key="user_scope_only")
        if ctx.entities is None:
            raise NotesError("this runtime gave the notes entry no entity store", key="entities_unavailable")
        return [build_toolset(ctx.entities)]

    async def async_initial_entities(self, ctx: SetupContext) -> list[Entity]:
        return [WELCOME]

    async def async_sync_entities(self, ctx: SetupContext) -> list[Entity]:
        # Nothing to pull: notes live here. A full pull leaves local and seeded rows alone.
        return []


INTEGRATION = NotesIntegration()

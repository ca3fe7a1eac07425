"""Entity actions as an agent tool: one ``<domain>_call_action`` per entry.

Built at set-up time (in :class:`runtime.sessions.setup_cache.SetupCache`) for entries of
integrations that declare entity types and implement ``async_call_action``; it then goes
through the same gates (tier, scope, trust) as any tool of the entry. Controlling a
device or a record is high-privilege: the tool's definition carries
``metadata={"high_privilege": True}``, which the assembler reads, so it waits for
approval while an untrusted source is in the run.

The tool is offered even before the first sync has stored an entity: the set-up cache
lives per entry revision, and entities change without one. The tool itself checks, on
every call, that the entity exists and offers the action.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.toolsets import FunctionToolset

from ..integrations.integration import Integration, SetupContext
from ..logging import get_logger
from .store import EntityStore

log = get_logger(__name__)

HIGH_PRIVILEGE_METADATA = "high_privilege"
MAX_LISTED = 20  # entity ids named in a retry hint


def action_tool_name(domain: str) -> str:
    return f"{domain}_call_action"


def has_actions(integration: Integration) -> bool:
    return bool(integration.entity_types()) and (
        type(integration).async_call_action is not Integration.async_call_action
    )


def is_high_privilege(tool_def: Any) -> bool:
    """Whether a tool definition marks itself high-privilege (entity actions do)."""
    return bool((getattr(tool_def, "metadata", None) or {}).get(HIGH_PRIVILEGE_METADATA))


def entity_action_toolset(integration: Integration, ctx: SetupContext, store: EntityStore) -> FunctionToolset | None:
    """The entry's action tool, or None when its integration has no entity actions."""
    if not has_actions(integration):
        return None
    domain = ctx.domain
    label = ctx.title or domain

    async def call_action(entity_id: str, action: str, params: dict[str, Any] | None = None) -> Any:
        entity = await store.get(ctx.entry_id, entity_id)
        if entity is None:
            known = [e.entity_id for e in await store.list_entities(ctx.entry_id, with_actions=True, limit=MAX_LISTED)]
            raise ModelRetry(f"There is no entity {entity_id!r} in {label}. "
                             f"Entities with actions: {', '.join(known) or 'none'}.")
        if action not in entity.actions:
            raise ModelRetry(f"Entity {entity_id!r} does not offer {action!r}. "
                             f"It offers: {', '.join(entity.actions) or 'no actions'}.")
        result = await integration.async_call_action(ctx, entity_id, action, dict(params or {}))
        log.info("entity_action_called", entry_id=ctx.entry_id, domain=domain, entity_id=entity_id, action=action)
        return result

    toolset: FunctionToolset = FunctionToolset()
    toolset.add_function(
        call_action,
        takes_ctx=False,
        name=action_tool_name(domain),
        description=(
            f"Control an entity of {label}: run one of the actions the entity offers. "
            "entity_id: the entity's id; action: one of its actions; params: action parameters, if any."
        ),
        metadata={HIGH_PRIVILEGE_METADATA: True},
    )
    return toolset

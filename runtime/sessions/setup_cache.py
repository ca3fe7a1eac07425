"""Per-worker cache of set-up config entries, keyed by entry id and revision.

``async_setup_entry`` may open connections or list remote tools (MCP); doing it
once per entry revision instead of once per model request is what keeps warm
assembly in the low milliseconds. A new revision (the entry changed) misses the
cache and unloads the old one. This is only a cache: any worker can rebuild it.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import RunContext
from pydantic_ai.toolsets import AbstractToolset
from pydantic_ai.usage import RunUsage

from ..entities.actions import entity_action_toolset
from ..errors import AgentrtError
from ..integrations.entry_states import ConfigEntryState
from ..logging import get_logger
from .offline_model import OfflineModel

log = get_logger(__name__)


class EntrySetupError(AgentrtError):
    key = "entry_setup_failed"


@dataclass
class SetUpEntry:
    entry_id: str
    revision: int
    toolsets: list[AbstractToolset[Any]]
    tools: dict[str, Any] = field(default_factory=dict)  # original tool name -> (toolset, ToolsetTool)
    ctx: Any = None  # the SetupContext; kept for unload, never leaves this process


def tool_run_context(tool_name: str | None = None, tool_call_id: str | None = None) -> RunContext[None]:
    """The run context tools see when we list or call them outside an agent run."""
    return RunContext(deps=None, model=OfflineModel(), usage=RunUsage(), tool_name=tool_name, tool_call_id=tool_call_id)


class SetupCache:
    def __init__(self, entries: Any, registry: Any, capacity: int = 512, entities: Any = None) -> None:
        self._entries = entries
        self._entities = entities  # an EntityStore: entries with entity actions get a call_action tool
        self._registry = registry
        self._capacity = capacity
        self._cache: OrderedDict[tuple[str, int], SetUpEntry] = OrderedDict()
        self._locks: dict[str, asyncio.Lock] = {}

    def __len__(self) -> int:
        return len(self._cache)

    async def get(self, entry: Any) -> SetUpEntry:
        key = (entry.id, entry.revision)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        lock = self._locks.setdefault(entry.id, asyncio.Lock())
        async with lock:
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            set_up = await self._set_up(entry)
            for stale in [k for k in self._cache if k[0] == entry.id]:
                await self._unload(self._cache.pop(stale))
            self._cache[key] = set_up
            while len(self._cache) > self._capacity:
                _, evicted = self._cache.popitem(last=False)
                await self._unload(evicted)
            return set_up

    async def _set_up(self, entry: Any) -> SetUpEntry:
        loaded = self._registry.get(entry.domain)
        integration = loaded.integration
        try:
            entry = await self._entries.migrate_if_needed(entry, integration)
            if entry.state == ConfigEntryState.MIGRATION_ERROR:
                raise EntrySetupError(f"entry {entry.id} needs migration that failed", key="entry_migration_error")
            ctx = await self._entries.build_setup_context(entry.id)
            toolsets = list(await integration.async_setup_entry(ctx) or [])
            actions = entity_action_toolset(integration, ctx, self._entities) if self._entities is not None else None
            if actions is not None:  # first: an integration's own tool of the same name replaces it below
                toolsets.insert(0, actions)
            tools: dict[str, Any] = {}
            run_ctx = tool_run_context()
            for toolset in toolsets:
                for name, tool in (await toolset.get_tools(run_ctx)).items():
                    tools[name] = (toolset, tool)
        except EntrySetupError:
            raise
        except Exception as exc:
            # Transient-looking failures (network) are retried on the next turn; the state says so.
            retry = isinstance(exc, (OSError, TimeoutError, asyncio.TimeoutError))
            state = ConfigEntryState.SETUP_RETRY if retry else ConfigEntryState.SETUP_ERROR
            log.warning("entry_setup_failed", entry_id=entry.id, domain=entry.domain, state=state.value,
                        error_type=type(exc).__name__, exc_info=True)
            try:
                await self._entries.set_state(entry.id, state, f"{type(exc).__name__} during setup")
            except Exception:
                log.warning("entry_state_update_failed", entry_id=entry.id, exc_info=True)
            raise EntrySetupError(f"entry {entry.id} ({entry.domain}) failed to set up: {type(exc).__name__}") from None
        if entry.state != ConfigEntryState.LOADED:
            await self._entries.set_state(entry.id, ConfigEntryState.LOADED, None)
        return SetUpEntry(entry_id=entry.id, revision=entry.revision, toolsets=toolsets, tools=tools, ctx=ctx)

    async def _unload(self, set_up: SetUpEntry) -> None:
        try:
            loaded = self._registry.get(set_up.ctx.domain)
            await loaded.integration.async_unload_entry(set_up.ctx)
        except Exception:
            log.warning("entry_unload_failed", entry_id=set_up.entry_id, exc_info=True)

    async def close(self) -> None:
        while self._cache:
            _, set_up = self._cache.popitem()
            await self._unload(set_up)

"""Assemble the tools a principal's run may use, inside an activity.

entries visible to the principal → gates (admin, scope, entry state, tier) →
set up through the per-worker cache → tool specs with unique names → approval
rules. The result is a :class:`ToolCatalog` (definitions only) plus, for the
activity's own use, the bindings from tool name to the live tool.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..entities.actions import is_high_privilege
from ..integrations.sync import integration_rows
from ..logging import get_logger
from ..principal import Principal
from .approvals import approval_reason
from .catalog import ExcludedEntry, ToolCatalog, ToolSpec, entry_prefix, unique_tool_name
from .gates import Candidate, default_gates, first_refusal
from .model_profiles import ModelResolver
from .setup_cache import EntrySetupError, SetupCache

log = get_logger(__name__)


@dataclass(frozen=True)
class ToolBinding:
    spec: ToolSpec
    toolset: Any
    tool: Any  # pydantic-ai ToolsetTool


@dataclass
class AssembledTools:
    catalog: ToolCatalog
    bindings: dict[str, ToolBinding] = field(default_factory=dict)


class ToolAssembler:
    def __init__(self, pool: Any, entries: Any, registry: Any, models: ModelResolver, cache: SetupCache) -> None:
        self._pool = pool
        self._entries = entries
        self._registry = registry
        self._models = models
        self._cache = cache

    async def assemble(self, principal: Principal, model_profile: str) -> AssembledTools:
        tier = self._models.tier(model_profile)  # unknown profile raises: fail closed
        entries = await self._entries.list_for_principal(principal)
        rows = await integration_rows(self._pool)
        gates = default_gates(principal, tier)
        per_domain = Counter(e.domain for e in entries)
        excluded: list[ExcludedEntry] = []
        staged: list[tuple[ToolSpec, Any, Any]] = []

        for entry in sorted(entries, key=lambda e: (e.domain, e.id)):
            if entry.domain not in self._registry:
                excluded.append(ExcludedEntry(entry_id=entry.id, domain=entry.domain, reason="integration_not_loaded"))
                continue
            manifest = self._registry.get(entry.domain).manifest
            decision = first_refusal(gates, Candidate(entry=entry, manifest=manifest, row=rows.get(entry.domain)))
            if not decision.allowed:
                excluded.append(ExcludedEntry(entry_id=entry.id, domain=entry.domain, reason=decision.reason or "denied"))
                continue
            try:
                set_up = await self._cache.get(entry)
            except EntrySetupError as exc:
                # One broken entry never stops the turn: its tools are simply absent.
                excluded.append(ExcludedEntry(entry_id=entry.id, domain=entry.domain, reason=exc.key))
                continue
            prefix = entry_prefix(entry.domain, entry.id, per_domain[entry.domain] > 1)
            high_privilege = set(manifest.high_privilege_tools)
            for original, (toolset, tool) in sorted(set_up.tools.items()):
                definition = tool.tool_def
                spec = ToolSpec(
                    name=unique_tool_name(prefix, entry.domain, original),
                    original_name=original,
                    description=definition.description,
                    parameters_json_schema=definition.parameters_json_schema,
                    entry_id=entry.id,
                    domain=entry.domain,
                    trust=manifest.trust_tier,
                    high_privilege=original in high_privilege or is_high_privilege(definition),
                )
                staged.append((spec, toolset, tool))

        catalog = ToolCatalog(profile=model_profile, profile_tier=tier.label, excluded=excluded)
        catalog.tools = [spec for spec, _, _ in staged]
        bindings: dict[str, ToolBinding] = {}
        final_specs = []
        for spec, toolset, tool in staged:
            if spec.name in bindings:  # two toolsets of one entry exposing the same name: first wins
                log.warning("tool_name_collision", tool=spec.name, entry_id=spec.entry_id)
                continue
            spec = spec.model_copy(update={"approval_reason": approval_reason(spec, catalog)})
            final_specs.append(spec)
            bindings[spec.name] = ToolBinding(spec=spec, toolset=toolset, tool=tool)
        catalog.tools = final_specs
        return AssembledTools(catalog=catalog, bindings=bindings)

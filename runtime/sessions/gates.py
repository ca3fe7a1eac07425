"""Gates decide, per config entry, whether its tools may reach a model at all.

Each gate is one small class with one question; they compose as a list and the
first refusal wins. Everything fails closed: a missing integration row or an
unparseable tier refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

from ..integrations.entry_states import ConfigEntryState
from ..principal import Principal
from ..tiers import Tier, UnknownTierError


@dataclass(frozen=True)
class Candidate:
    """One entry up for assembly, with what the gates need to judge it."""

    entry: Any  # runtime.integrations.entries.ConfigEntry
    manifest: Any  # IntegrationManifest
    row: Any | None  # IntegrationRow from the integrations table (admin columns)


@dataclass(frozen=True)
class GateDecision:
    allowed: bool
    reason: str | None = None

    @classmethod
    def allow(cls) -> "GateDecision":
        return cls(True)

    @classmethod
    def deny(cls, reason: str) -> "GateDecision":
        return cls(False, reason)


class Gate(Protocol):
    def check(self, candidate: Candidate) -> GateDecision: ...


class AdminGate:
    """The admin's switches on the integration row: enabled, loaded, scope allowed."""

    def check(self, candidate: Candidate) -> GateDecision:
        row = candidate.row
        if row is None or getattr(row, "status", "loaded") != "loaded":
            return GateDecision.deny("integration_not_loaded")
        if not row.enabled:
            return GateDecision.deny("integration_disabled")
        if candidate.entry.scope not in set(row.allowed_scopes):
            return GateDecision.deny("scope_not_allowed")
        if candidate.entry.disabled:
            return GateDecision.deny("entry_disabled")
        return GateDecision.allow()


@dataclass(frozen=True)
class ScopeGate:
    """The entry must be visible to the principal (the entries query already filters; this re-checks)."""

    principal: Principal

    def check(self, candidate: Candidate) -> GateDecision:
        return GateDecision.allow() if entry_visible_to(candidate.entry, self.principal) else GateDecision.deny(
            "entry_not_visible"
        )


def entry_visible_to(entry: Any, principal: Principal) -> bool:
    if entry.scope == "user":
        return entry.owner_sub == principal.sub
    if entry.scope == "org":
        return entry.org_id is not None and entry.org_id == principal.org_id
    if entry.scope == "group":
        return entry.group_id in principal.groups and (entry.org_id is None or entry.org_id == principal.org_id)
    return entry.scope == "global"


def effective_required_tier(candidate: Candidate) -> Tier:
    """Entry override, else integration override, else the manifest; raises on anything unparseable."""
    for override in (candidate.entry.required_tier_override, getattr(candidate.row, "required_tier_override", None)):
        if override is not None:
            return Tier.parse(override)
    return Tier.parse(candidate.manifest.required_tier)


@dataclass(frozen=True)
class TierGate:
    """Model-provider tier must reach the integration's required tier: ``profile.tier >= required``."""

    profile_tier: Tier

    def check(self, candidate: Candidate) -> GateDecision:
        try:
            required = effective_required_tier(candidate)
        except UnknownTierError:
            return GateDecision.deny("tier_unknown")
        return GateDecision.allow() if self.profile_tier.allows(required) else GateDecision.deny("tier_too_low")


class EntryStateGate:
    """Entries that cannot be set up as they stand (a failed migration) stay out until fixed."""

    def check(self, candidate: Candidate) -> GateDecision:
        state = candidate.entry.state
        if state == ConfigEntryState.MIGRATION_ERROR:
            return GateDecision.deny("entry_migration_error")
        return GateDecision.allow()


def first_refusal(gates: Sequence[Gate], candidate: Candidate) -> GateDecision:
    for gate in gates:
        decision = gate.check(candidate)
        if not decision.allowed:
            return decision
    return GateDecision.allow()


def default_gates(principal: Principal, profile_tier: Tier) -> list[Gate]:
    return [AdminGate(), ScopeGate(principal), EntryStateGate(), TierGate(profile_tier)]

"""Which tool calls wait for a human. Rules compose; any rule that names a reason holds the call."""

from __future__ import annotations

from typing import Protocol, Sequence

from .catalog import ToolCatalog, ToolSpec


class ApprovalRule(Protocol):
    def reason(self, spec: ToolSpec, catalog: ToolCatalog) -> str | None: ...


class UntrustedSourceRule:
    """Tools of ``trust_tier: untrusted`` integrations proxy attacker-influenced output: always ask."""

    def reason(self, spec: ToolSpec, catalog: ToolCatalog) -> str | None:
        return "untrusted_integration" if spec.trust == "untrusted" else None


class HighPrivilegePresenceRule:
    """While any untrusted tool is in the run, a trusted integration's high-privilege tools ask too:
    an injected instruction from the untrusted source must not be able to act on its own."""

    def reason(self, spec: ToolSpec, catalog: ToolCatalog) -> str | None:
        if spec.high_privilege and spec.trust == "trusted" and catalog.untrusted_present:
            return "high_privilege_with_untrusted_source"
        return None


DEFAULT_RULES: tuple[ApprovalRule, ...] = (UntrustedSourceRule(), HighPrivilegePresenceRule())


def approval_reason(spec: ToolSpec, catalog: ToolCatalog, rules: Sequence[ApprovalRule] = DEFAULT_RULES) -> str | None:
    for rule in rules:
        reason = rule.reason(spec, catalog)
        if reason:
            return reason
    return None

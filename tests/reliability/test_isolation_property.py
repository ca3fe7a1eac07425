"""Property: the tools a model receives are exactly those an independent oracle allows.

Random entries (domains with different trust, tiers and instance rules; every scope; several
owners), random admin settings (enabled, allowed scopes, tier overrides, disabled entries),
a random principal and a random profile tier. The oracle below is written from the rules in
docs/sessions.md, not from the implementation.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings as hyp_settings, strategies as st

from runtime.integrations.config_errors import AlreadyConfiguredError
from runtime.integrations.scopes import EntryOwner
from runtime.integrations.sync import set_allowed_scopes, set_enabled, set_required_tier_override
from runtime.principal import Principal
from runtime.settings import ModelProfile
from runtime.tiers import Tier

import pytest

from tests.support.figures import report

DOMAINS = {  # domain: (trust, manifest tier, single_instance, high-privilege names) — as their manifests say
    "probe": ("trusted", Tier.UNREGULATED, False, set()),
    "notifier": ("trusted", Tier.UNREGULATED, True, {"notifier_send"}),
    "sketchy": ("untrusted", Tier.UNREGULATED, True, set()),
    "vault": ("trusted", Tier.INTERNAL, True, set()),
}
TOOLS: dict[str, set[str]] = {}  # domain -> its tool names, listed from the fixture integrations
SCOPES = ["user", "org", "group", "global"]
RANK = {"user": 0, "group": 1, "org": 2, "global": 3}


@dataclass(frozen=True)
class EntrySpec:
    domain: str
    scope: str
    owner: str  # sub / org / group id, by scope
    disabled: bool
    tier_override: int | None


entries_st = st.lists(
    st.builds(EntrySpec, domain=st.sampled_from(sorted(DOMAINS)), scope=st.sampled_from(SCOPES),
              owner=st.sampled_from(["a", "b"]), disabled=st.sampled_from([False, False, False, True]),
              tier_override=st.one_of(st.none(), st.integers(0, 2))),
    min_size=1, max_size=7,
)
# Biased towards permissive settings, so most examples have tools to get right (not just empty sets).
admin_st = st.fixed_dictionaries({
    d: st.tuples(st.sampled_from([True, True, True, False]),
                 st.one_of(st.just(set(SCOPES)), st.sets(st.sampled_from(SCOPES), min_size=1)),
                 st.one_of(st.none(), st.none(), st.integers(0, 2)))
    for d in DOMAINS
})
principal_st = st.builds(
    Principal, sub=st.sampled_from(["a", "b"]), org_id=st.sampled_from(["a", "b", None]),
    groups=st.lists(st.sampled_from(["a", "b"]), unique=True).map(tuple),
)


def _owner(spec: EntrySpec) -> EntryOwner:
    return EntryOwner(spec.scope, owner_sub=spec.owner if spec.scope == "user" else None,
                      org_id=spec.owner if spec.scope == "org" else None,
                      group_id=spec.owner if spec.scope == "group" else None)


def _visible(spec: EntrySpec, p: Principal) -> bool:
    return {"user": spec.owner == p.sub, "org": spec.owner == p.org_id, "group": spec.owner in p.groups,
            "global": True}[spec.scope]


def oracle(created: list[tuple[str, EntrySpec]], admin: dict, p: Principal, tier: int) -> set[tuple[str, str, bool]]:
    """(entry id, tool, needs approval) for every tool the principal's model may receive."""
    usable = []
    for entry_id, spec in created:
        enabled, scopes, override = admin[spec.domain]
        if spec.disabled or not enabled or spec.scope not in scopes or not _visible(spec, p):
            continue
        usable.append((entry_id, spec))
    chosen = []
    for domain in DOMAINS:
        mine = [(i, s) for i, s in usable if s.domain == domain]
        if DOMAINS[domain][2] and mine:  # single instance: the most specific entry only
            mine = [min(mine, key=lambda e: RANK[e[1].scope])]
        chosen += mine
    allowed = []
    for entry_id, spec in chosen:
        trust, manifest_tier, _, _ = DOMAINS[spec.domain]
        override = spec.tier_override if spec.tier_override is not None else admin[spec.domain][2]
        required = override if override is not None else int(manifest_tier)
        if tier >= required:
            allowed.append((entry_id, spec))
    untrusted_present = any(DOMAINS[s.domain][0] == "untrusted" for _, s in allowed)
    result = set()
    for entry_id, spec in allowed:
        trust, _, _, high = DOMAINS[spec.domain]
        for tool in TOOLS[spec.domain]:
            needs = trust == "untrusted" or (tool in high and untrusted_present)
            result.add((entry_id, tool, needs))
    return result


@pytest.fixture
def settings(settings):
    for t in range(3):
        settings.models.profiles[f"tier{t}"] = ModelProfile(model="test", tier=Tier(t))
    return settings


@pytest.fixture
async def registry():
    from pathlib import Path

    from runtime.integrations import SetupContext
    from runtime.integrations.loader import discover_dirs
    from runtime.sessions.setup_cache import tool_run_context

    found = discover_dirs([Path(__file__).resolve().parents[1] / "fixtures" / "integrations"])
    for domain in DOMAINS:
        manifest = found.get(domain).manifest
        assert (manifest.trust_tier, manifest.required_tier, manifest.single_instance) == DOMAINS[domain][:3]
        ctx = SetupContext(entry_id="x", domain=domain, scope="global", data={"count_file": "/dev/null"})
        toolsets = await found.get(domain).integration.async_setup_entry(ctx)
        TOOLS[domain] = {name for ts in toolsets for name in await ts.get_tools(tool_run_context())}
    return found


CHECKED = {"examples": 0, "entries": 0, "tools": 0, "with_approval": 0}


@hyp_settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(specs=entries_st, admin=admin_st, principal=principal_st, tier=st.integers(0, 2))
async def test_model_receives_exactly_the_allowed_tools(services, pool, specs, admin, principal, tier):
    # One database for all examples of this test: each example starts from no entries.
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM secret_values; DELETE FROM config_entries")
    for domain in admin:
        await set_enabled(pool, domain, True)  # creation needs it; the drawn value is applied below
        await set_allowed_scopes(pool, domain, SCOPES)
    created = []
    for spec in specs:
        try:
            entry = await services.entries.create(domain=spec.domain, owner=_owner(spec), title=spec.domain,
                                                  data={"count_file": "/dev/null"})
        except AlreadyConfiguredError:
            continue
        if spec.disabled:
            await services.entries.set_disabled(entry.id, True)
        if spec.tier_override is not None:
            async with pool.acquire() as conn:
                await conn.execute("UPDATE config_entries SET required_tier_override = $2 WHERE id = $1",
                                   entry.id, spec.tier_override)
        created.append((entry.id, spec))
    for domain, (enabled, scopes, override) in admin.items():
        await set_enabled(pool, domain, enabled)
        await set_allowed_scopes(pool, domain, sorted(scopes))
        await set_required_tier_override(pool, domain, override)

    assembled = await services.assembler.assemble(principal, f"tier{tier}")
    actual = {(t.entry_id, t.original_name, t.approval_reason is not None) for t in assembled.catalog.tools}
    assert actual == oracle(created, admin, principal, tier)
    assert len({t.name for t in assembled.catalog.tools}) == len(assembled.catalog.tools)  # names unique
    CHECKED["examples"] += 1
    CHECKED["entries"] += len(created)
    CHECKED["tools"] += len(actual)
    CHECKED["with_approval"] += sum(needs for _, _, needs in actual)
    report("isolation", "isolation property: {examples} examples, {entries} entries, {tools} allowed tools "
           "({with_approval} needing approval), every set equal to the oracle".format(**CHECKED))

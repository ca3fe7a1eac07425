"""Property: ``list_for_principal`` never returns an entry outside the principal's scope.

Random principals and random entries across user/org/group/global scopes, in one
database per test function; each example inserts its rows and removes them again.
The oracle below is written from the rules, independently of the code under test.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtime.integrations.scopes import is_visible_to
from runtime.principal import Principal

from .flow_helpers import Registry, make_loaded, register_rows, services

SUBS = ["u1", "u2", "u3"]
ORGS = [None, "o1", "o2"]
GROUPS = ["g1", "g2", "g3"]
RANK = {"user": 0, "group": 1, "org": 2, "global": 3}

principals = st.builds(
    Principal,
    sub=st.sampled_from(SUBS),
    org_id=st.sampled_from(ORGS),
    groups=st.lists(st.sampled_from(GROUPS), unique=True, max_size=3).map(tuple),
)


@st.composite
def entries(draw):
    scope = draw(st.sampled_from(["user", "org", "group", "global"]))
    owner_sub = draw(st.sampled_from(SUBS)) if scope == "user" else None
    org_id = {"org": draw(st.sampled_from(ORGS[1:])), "group": draw(st.sampled_from(ORGS))}.get(scope)
    group_id = draw(st.sampled_from(GROUPS)) if scope == "group" else None
    return {
        "domain": draw(st.sampled_from(["single", "multi"])),
        "scope": scope, "owner_sub": owner_sub, "org_id": org_id, "group_id": group_id,
        "disabled": draw(st.booleans()),
    }


def oracle_visible(p: Principal, e: dict) -> bool:
    """Who may use an entry, straight from the rules."""
    if e["scope"] == "user":
        return e["owner_sub"] == p.sub
    if e["scope"] == "org":
        return p.org_id is not None and e["org_id"] == p.org_id
    if e["scope"] == "group":
        return e["group_id"] in p.groups and (e["org_id"] is None or e["org_id"] == p.org_id)
    return True


@pytest.fixture
async def env(pool, secret_store, tmp_path):
    registry = Registry([make_loaded(tmp_path, "single", single_instance=True),
                         make_loaded(tmp_path, "multi", single_instance=False)])
    await register_rows(pool, *(registry.get(d) for d in ("single", "multi")))
    entries_service, _ = services(pool, secret_store, registry)
    return pool, entries_service


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(principal=principals, rows=st.lists(entries(), max_size=12))
async def test_list_for_principal_never_returns_an_entry_outside_the_principals_scope(env, principal, rows):
    pool, service = env
    by_id = {}
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM config_entries")
        for i, row in enumerate(rows):
            entry_id = f"{i:02d}{uuid.uuid4().hex[:8]}"
            by_id[entry_id] = row
            # Direct inserts: the property concerns reading, whatever combination was written.
            await conn.execute(
                """INSERT INTO config_entries (id, domain, scope, owner_sub, org_id, group_id, disabled, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))""",
                entry_id, row["domain"], row["scope"], row["owner_sub"], row["org_id"], row["group_id"],
                row["disabled"], float(i),
            )
    try:
        got = await service.list_for_principal(principal)
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM config_entries")

    usable = {i for i, r in by_id.items() if oracle_visible(principal, r) and not r["disabled"]}
    for entry in got:
        row = by_id[entry.id]
        assert oracle_visible(principal, row), (principal, row)
        assert not row["disabled"]
        assert is_visible_to(principal, entry.scope, entry.owner_sub, entry.org_id, entry.group_id)

    got_ids = [e.id for e in got]
    assert len(got_ids) == len(set(got_ids))
    # Multi-instance: everything usable. Single-instance: exactly the most specific usable entry.
    assert {i for i in got_ids if by_id[i]["domain"] == "multi"} == {i for i in usable if by_id[i]["domain"] == "multi"}
    single_usable = sorted((i for i in usable if by_id[i]["domain"] == "single"),
                           key=lambda i: (RANK[by_id[i]["scope"]], i))
    assert [i for i in got_ids if by_id[i]["domain"] == "single"] == single_usable[:1]

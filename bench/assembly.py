"""Figure 4: toolset assembly for one principal with 50 entries across 10 integrations.

``ToolAssembler.assemble`` is what every model step and tool call runs: list the entries the
principal may use (one query), read the admin rows of the integrations (one query), apply the
gates, set each entry up through the per-worker setup cache, name the tools, apply the
approval rules. Cold = a fresh setup cache (a worker's first turn for this principal: every
entry is decrypted and set up); warm = the cache holds every entry (every later turn).

The integrations are generated: five tools each, one secret field read at setup, entries in
user, org, group and global scope so the visibility query does real work.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from runtime.integrations.scopes import EntryOwner
from runtime.principal import Principal
from runtime.sessions.assembler import ToolAssembler
from runtime.sessions.setup_cache import SetupCache

from .harness import PROFILE, Stack, summary

INTEGRATIONS = 10
ENTRIES_PER_INTEGRATION = 5
TOOLS_PER_INTEGRATION = 5
PRINCIPAL = Principal(sub="asm-user", org_id="asm-org", groups=("asm-group",))
SCOPES = ("user", "user", "org", "group", "global")

MANIFEST = """\
domain: {domain}
name: Assembly bench {index}
version: "1.0.0"
single_instance: false
"""
INIT = '''\
from pydantic_ai.toolsets import FunctionToolset

from runtime.integrations import Integration, SetupContext


class AsmIntegration(Integration):
    async def async_setup_entry(self, ctx: SetupContext) -> list:
        key = ctx.secrets["api_key"]
        toolset = FunctionToolset()
{tools}
        return [toolset]


INTEGRATION = AsmIntegration()
'''
TOOL = '''
        @toolset.tool_plain
        def {domain}_op{index}(query: str, limit: int = 10) -> str:
            """Operation {index} of {domain}."""
            return f"{{query}}:{{limit}}:{{len(key)}}"
'''


def generate(root: Path) -> None:
    for index in range(INTEGRATIONS):
        domain = f"asm_{index:02d}"
        folder = root / domain
        folder.mkdir(parents=True)
        (folder / "manifest.yaml").write_text(MANIFEST.format(domain=domain, index=index))
        tools = "".join(TOOL.format(domain=domain, index=i) for i in range(TOOLS_PER_INTEGRATION))
        (folder / "__init__.py").write_text(INIT.format(tools=tools))


def _owner(scope: str) -> EntryOwner:
    return {
        "user": EntryOwner("user", PRINCIPAL.sub),
        "org": EntryOwner("org", org_id=PRINCIPAL.org_id),
        "group": EntryOwner("group", org_id=PRINCIPAL.org_id, group_id="asm-group"),
        "global": EntryOwner("global"),
    }[scope]


async def run(stack: Stack, *, cold_repeats: int = 5, warm_repeats: int = 200) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="agentrt-asm-") as tmp:
        root = Path(tmp)
        generate(root)
        settings = stack.settings(await stack.new_database("asm"), f"bench-asm-{uuid.uuid4().hex[:6]}", root)
        async with stack.services(settings, [root]) as svc:
            for index in range(INTEGRATIONS):
                for n, scope in enumerate(SCOPES[:ENTRIES_PER_INTEGRATION]):
                    await svc.entries.create(domain=f"asm_{index:02d}", owner=_owner(scope), title=f"entry {n}",
                                             data={"n": n}, secrets={"api_key": f"key-{index}-{n}-{uuid.uuid4().hex}"})

            def fresh() -> ToolAssembler:
                cache = SetupCache(svc.entries, svc.registry)
                return ToolAssembler(svc.ctx.pool, svc.entries, svc.registry, svc.models, cache)

            cold: list[float] = []
            for _ in range(cold_repeats):
                assembler = fresh()
                started = time.perf_counter()
                assembled = await assembler.assemble(PRINCIPAL, PROFILE)
                cold.append((time.perf_counter() - started) * 1000)
            entries = len({t.entry_id for t in assembled.catalog.tools})
            tools = len(assembled.catalog.tools)
            if entries != INTEGRATIONS * ENTRIES_PER_INTEGRATION or assembled.catalog.excluded:
                raise RuntimeError(f"assembly bench: {entries} entries, excluded {assembled.catalog.excluded}")

            for _ in range(10):
                await assembler.assemble(PRINCIPAL, PROFILE)
            warm: list[float] = []
            for _ in range(warm_repeats):
                started = time.perf_counter()
                await assembler.assemble(PRINCIPAL, PROFILE)
                warm.append((time.perf_counter() - started) * 1000)
    warm_summary = summary(warm, 2)
    return {
        "name": "assembly",
        "integrations": INTEGRATIONS,
        "entries": entries,
        "tools": tools,
        "cold_ms": summary(cold, 1),
        "warm_ms": warm_summary,
        "warm_ms_per_entry": round(statistics.median(warm) / entries, 3),
        "target_met": warm_summary["median"] <= 10.0,
    }

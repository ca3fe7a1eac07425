"""Discovery benchmark: time ``discover_dirs`` over generated integrations.

Each generated integration is shaped like a real one (manifest with
requirements and dependencies, ``__init__.py`` with a relative import of a
``tools.py`` that builds a pydantic-ai ``FunctionToolset``). The first (cold)
run is reported separately: it pays one-off costs (first imports, writing
``.pyc`` files). Later runs re-import every integration, as a restarted worker
does; they read ``.pyc`` files unless bytecode writing is off
(``PYTHONDONTWRITEBYTECODE``), which the result records.

    .venv/bin/python -m bench.bench_discovery [count]
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from runtime.integrations.loader import discover_dirs
from runtime.logging import configure_logging

MANIFEST = """\
domain: {domain}
name: Bench {index}
version: "1.0.{index}"
integration_type: tool
requirements: ["pydantic>=2"]
dependencies: [{dependencies}]
after_dependencies: [{after}]
"""
INIT = """\
from runtime.integrations import Integration, SetupContext

from .tools import build_toolset


class BenchIntegration(Integration):
    async def async_setup_entry(self, ctx: SetupContext) -> list:
        return [build_toolset()]


INTEGRATION = BenchIntegration()
"""
TOOLS = """\
from pydantic_ai.toolsets import FunctionToolset


def build_toolset() -> FunctionToolset:
    toolset = FunctionToolset()

    @toolset.tool_plain
    def echo_{index}(text: str) -> str:
        \"\"\"Echo the text.\"\"\"
        return text

    return toolset
"""


def generate(root: Path, count: int) -> None:
    """``count`` integrations; every tenth hard-depends on the previous one, every third soft-follows it."""
    for index in range(count):
        domain = f"bench_{index:04d}"
        previous = f"bench_{index - 1:04d}" if index else ""
        folder = root / domain
        folder.mkdir(parents=True)
        (folder / "manifest.yaml").write_text(
            MANIFEST.format(
                domain=domain,
                index=index,
                dependencies=previous if index % 10 == 9 else "",
                after=previous if index % 3 == 2 else "",
            )
        )
        (folder / "__init__.py").write_text(INIT)
        (folder / "tools.py").write_text(TOOLS.format(index=index))


def run(count: int = 100, repeats: int = 5) -> dict[str, Any]:
    """Generate ``count`` integrations and time discovery ``repeats`` times after one cold run."""
    # Discovery logs one WARNING per load; render them (that is part of the cost) but not to the terminal.
    configure_logging("WARNING", "json", io.StringIO())
    with tempfile.TemporaryDirectory(prefix="agentrt-bench-") as tmp:
        root = Path(tmp)
        generate(root, count)
        started = time.perf_counter()
        registry = discover_dirs([root])
        cold_ms = (time.perf_counter() - started) * 1000
        if len(registry) != count or registry.failures:
            raise RuntimeError(f"bench integrations failed to load: {sorted(registry.failures)}")
        warm: list[float] = []
        for _ in range(repeats):
            started = time.perf_counter()
            discover_dirs([root])
            warm.append((time.perf_counter() - started) * 1000)
    median = statistics.median(warm)
    return {
        "name": "discovery",
        "integrations": count,
        "repeats": repeats,
        "cold_ms": round(cold_ms, 1),
        "median_ms": round(median, 1),
        "min_ms": round(min(warm), 1),
        "max_ms": round(max(warm), 1),
        "per_integration_ms": round(median / count, 3),
        "bytecode_cache": not sys.dont_write_bytecode,
    }


def main(argv: list[str]) -> None:
    result = run(int(argv[0]) if argv else 100)
    print(
        f"discovery of {result['integrations']} integrations: median {result['median_ms']} ms "
        f"(min {result['min_ms']}, max {result['max_ms']}, cold {result['cold_ms']} ms; "
        f"{result['per_integration_ms']} ms each; bytecode cache {'on' if result['bytecode_cache'] else 'off'})"
    )


if __name__ == "__main__":
    main(sys.argv[1:])

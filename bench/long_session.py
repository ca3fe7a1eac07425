"""Figure 2: a long session — latency and history bytes per turn at turns 1, 10, 100, 1000.

agentrt: one ``AgentSessionWorkflow``, 1,000 turns (each one tool call), continue-as-new on
Temporal's suggestion (the workflow's own rule). Baseline: :class:`BaselineSessionWorkflow`,
the message list in workflow state, continue-as-new between turns when suggested; it stops
at ``baseline_turns`` or when its time budget runs out, and says where.

Per checkpoint turn N: the client latency of turn N, the median of the ten turns ending at N
(turn 1: itself), the server-side time of turn N (history timestamps), and the history events
and bytes that turn N added. A turn that crossed a continue-as-new has no same-run
before/after pair; the next turn is measured instead and the table says so.
"""

from __future__ import annotations

import statistics
import time
import uuid
from typing import Any, Awaitable, Callable

from temporalio.client import WorkflowHandle

from runtime.sessions.client import start_session
from runtime.sessions.types import SendMessage, SessionStatus, TurnResult, TurnStatus

from .baseline import BaselineSessionInput, BaselineSessionWorkflow
from .harness import (
    BASELINE_TASK_QUEUE,
    PRINCIPAL,
    PROFILE,
    Stack,
    execute_update,
    history_size,
    retried_updates,
    update_server_ms,
)

CHECKPOINTS = (1, 10, 100, 1000)


async def _drive(
    handle: WorkflowHandle,
    send: Callable[[int, str], Awaitable[None]],
    turns: int,
    checkpoints: tuple[int, ...],
    budget_s: float | None = None,
) -> dict[str, Any]:
    latencies: list[float] = []
    points: dict[int, dict[str, Any]] = {}
    pending: dict[int, int] = {c: c for c in checkpoints if c <= turns}  # turn to measure -> checkpoint
    started_all = time.monotonic()
    stopped_reason = None
    turn = 0
    before = None
    for turn in range(1, turns + 1):
        checkpoint = pending.pop(turn, None)
        if checkpoint is not None:
            before = await history_size(handle)
        update_id = f"turn-{turn}"
        started = time.perf_counter()
        await send(turn, update_id)
        latencies.append((time.perf_counter() - started) * 1000)
        if checkpoint is not None:
            assert before is not None
            after = await history_size(handle)
            if after.run_id != before.run_id:
                pending[turn + 1] = checkpoint  # crossed continue-as-new: measure the next turn instead
            else:
                window = latencies[-10:]
                points[checkpoint] = {
                    "turn": turn,
                    "client_ms": round(latencies[-1], 1),
                    "client_ms_median_last_10": round(statistics.median(window), 1),
                    "server_ms": round(await update_server_ms(handle, update_id) or float("nan"), 1),
                    "events": after.events - before.events,
                    "bytes": after.bytes - before.bytes,
                    "history_bytes_of_run": after.bytes,
                }
        if budget_s is not None and time.monotonic() - started_all > budget_s and turn < turns:
            stopped_reason = f"time budget of {budget_s:.0f} s spent"
            break
    return {
        "turns_done": turn,
        "seconds": round(time.monotonic() - started_all, 1),
        "points": {c: points[c] for c in checkpoints if c in points},
        "latency_ms_by_hundred": [round(statistics.median(latencies[i:i + 100]), 1)
                                  for i in range(0, len(latencies), 100)],
        "stopped_reason": stopped_reason,
    }


async def run(stack: Stack, *, turns: int = 1000, baseline_turns: int = 200, baseline_budget_s: float = 150,
              checkpoints: tuple[int, ...] = CHECKPOINTS) -> dict[str, Any]:
    task_queue = (await stack.shared()).task_queue
    client, bclient = stack.agentrt_client, stack.baseline_client
    assert client is not None and bclient is not None

    session = await start_session(client, task_queue, uuid.uuid4().hex, PRINCIPAL, PROFILE)

    async def send(turn: int, update_id: str) -> None:
        result = await execute_update(session, "send_message", SendMessage(text=f"message {turn}"),
                                      label="agentrt_long", id=update_id, result_type=TurnResult)
        if result.status is not TurnStatus.COMPLETED or result.text != f"done: echo: message {turn}":
            raise RuntimeError(f"agentrt turn {turn} failed: {result}")

    agentrt = await _drive(session, send, turns, checkpoints)
    status = await session.query("status", result_type=SessionStatus)
    agentrt["continued_as_new"] = status.continued
    agentrt["updates_retried"] = retried_updates.get("agentrt_long", 0)
    await session.signal("end")

    bsession = await bclient.start_workflow(
        BaselineSessionWorkflow.run, BaselineSessionInput(), id=f"bench-blong-{uuid.uuid4().hex}",
        task_queue=BASELINE_TASK_QUEUE,
    )

    async def bsend(turn: int, update_id: str) -> None:
        output = await execute_update(bsession, BaselineSessionWorkflow.send_message, f"message {turn}",
                                      label="baseline_long", id=update_id)
        if output != f"done: echo: message {turn}":
            raise RuntimeError(f"baseline turn {turn} failed: {output}")

    baseline = await _drive(bsession, bsend, baseline_turns, checkpoints, budget_s=baseline_budget_s)
    baseline["continued_as_new"] = await bsession.query(BaselineSessionWorkflow.continued)
    baseline["updates_retried"] = retried_updates.get("baseline_long", 0)
    await bsession.signal(BaselineSessionWorkflow.end)

    measured = [p for p in agentrt["points"].values() if "bytes" in p]
    worst = max((p["bytes"] for p in measured), default=None)
    return {
        "name": "long_session",
        "checkpoints": list(checkpoints),
        "agentrt": agentrt,
        "baseline": baseline,
        "baseline_turn_limit": baseline_turns,
        "agentrt_max_bytes_per_turn": worst,
        "target_met": worst is not None and worst <= 20_000 and agentrt["turns_done"] == turns,
    }

"""Figure 1: one turn with one tool call — latency, history events and bytes per turn.

Three durable shapes, interleaved turn by turn (so load from other processes on a
shared machine hits all of them alike), plus the in-process floor:

* agentrt: one ``send_message`` update on an open ``AgentSessionWorkflow``;
* baseline, run per workflow: ``execute_workflow`` of a workflow whose run is one
  ``agent.run()`` — the shape pydantic-ai documents (and the FACTS file measured);
* baseline, session: one update on a workflow that holds the message list (the
  same shape as agentrt's turn; its history grows with the turn number, see figure 2);
* floor: bare in-process ``agent.run()``, no Temporal.

Client-observed latency is the caller's wall time. Server-side latency comes from
history event timestamps: for an update, the workflow task that admitted it being
scheduled → ``WorkflowExecutionUpdateCompleted``; for a run, started → closed.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic_ai import Agent

from runtime.sessions.client import start_session
from runtime.sessions.types import SendMessage, TurnResult, TurnStatus

from .baseline import BaselineRunWorkflow, BaselineSessionInput, BaselineSessionWorkflow
from .harness import (
    BASELINE_TASK_QUEUE,
    PRINCIPAL,
    PROFILE,
    Stack,
    execute_update,
    history_size,
    run_server_ms,
    summary,
    update_server_ms,
)
from .models import echo_text, model


def floor_agent() -> Agent:
    agent = Agent(model(), name="bench_floor")

    @agent.tool_plain
    def echo(text: str) -> str:
        """Echo the text back."""
        return echo_text(text)

    return agent


async def floor_ms(runs: int) -> list[float]:
    agent = floor_agent()
    for _ in range(10):
        await agent.run("warm up")
    out = []
    for i in range(runs):
        started = time.perf_counter()
        result = await agent.run(f"floor {i}")
        out.append((time.perf_counter() - started) * 1000)
        assert result.output == f"done: echo: floor {i}", result.output
    return out


async def run(stack: Stack, *, turns: int = 40, warmup: int = 5) -> dict[str, Any]:
    task_queue = (await stack.shared()).task_queue
    client, bclient = stack.agentrt_client, stack.baseline_client
    assert client is not None and bclient is not None
    session = await start_session(client, task_queue, uuid.uuid4().hex, PRINCIPAL, PROFILE)
    bsession = await bclient.start_workflow(
        BaselineSessionWorkflow.run, BaselineSessionInput(), id=f"bench-bsession-{uuid.uuid4().hex}",
        task_queue=BASELINE_TASK_QUEUE,
    )
    a_client: list[float] = []
    a_server: list[float] = []
    a_events: list[int] = []
    a_bytes: list[int] = []
    b_client: list[float] = []
    b_server: list[float] = []
    b_events: list[int] = []
    b_bytes: list[int] = []
    s_client: list[float] = []
    s_server: list[float] = []
    for i in range(warmup + turns):
        measured = i >= warmup
        # agentrt: one update on the open session
        before = await history_size(session)
        update_id = f"turn-{i}"
        started = time.perf_counter()
        result = await execute_update(session, "send_message", SendMessage(text=f"hello {i}"), label="agentrt_turn",
                                      id=update_id, result_type=TurnResult)
        elapsed = (time.perf_counter() - started) * 1000
        if result.status is not TurnStatus.COMPLETED or result.text != f"done: echo: hello {i}":
            raise RuntimeError(f"agentrt turn failed: {result}")
        after = await history_size(session)
        if measured:
            a_client.append(elapsed)
            server = await update_server_ms(session, update_id)
            if server is not None:
                a_server.append(server)
            if after.run_id == before.run_id:
                a_events.append(after.events - before.events)
                a_bytes.append(after.bytes - before.bytes)

        # baseline: one workflow per agent run
        handle_id = f"bench-brun-{uuid.uuid4().hex}"
        started = time.perf_counter()
        output = await bclient.execute_workflow(
            BaselineRunWorkflow.run, f"hello {i}", id=handle_id, task_queue=BASELINE_TASK_QUEUE
        )
        elapsed = (time.perf_counter() - started) * 1000
        if output != f"done: echo: hello {i}":
            raise RuntimeError(f"baseline run failed: {output}")
        if measured:
            b_client.append(elapsed)
            server_ms, events, size = await run_server_ms(bclient.get_workflow_handle(handle_id))
            b_server.append(server_ms)
            b_events.append(events)
            b_bytes.append(size)

        # baseline: one update on a session workflow holding the message list
        started = time.perf_counter()
        output = await execute_update(bsession, BaselineSessionWorkflow.send_message, f"hello {i}",
                                      label="baseline_turn", id=update_id)
        elapsed = (time.perf_counter() - started) * 1000
        if output != f"done: echo: hello {i}":
            raise RuntimeError(f"baseline session turn failed: {output}")
        if measured:
            s_client.append(elapsed)
            server = await update_server_ms(bsession, update_id)
            if server is not None:
                s_server.append(server)
    await bsession.signal(BaselineSessionWorkflow.end)
    await session.signal("end")
    floor = await floor_ms(max(50, turns * 5))

    agentrt = {
        "client_ms": summary(a_client),
        "server_ms": summary(a_server),
        "events_per_turn": summary([float(e) for e in a_events], 0),
        "bytes_per_turn": summary([float(b) for b in a_bytes], 0),
    }
    baseline_run = {
        "client_ms": summary(b_client),
        "server_ms": summary(b_server),
        "events_per_turn": summary([float(e) for e in b_events], 0),
        "bytes_per_turn": summary([float(b) for b in b_bytes], 0),
    }
    baseline_session = {
        "client_ms": summary(s_client),
        "server_ms": summary(s_server),
        "turns": f"{warmup + 1}..{warmup + turns}",
    }
    best_baseline = min(baseline_run["client_ms"]["median"], baseline_session["client_ms"]["median"])
    ratio_run = agentrt["client_ms"]["median"] / baseline_run["client_ms"]["median"]
    ratio_session = agentrt["client_ms"]["median"] / baseline_session["client_ms"]["median"]
    return {
        "name": "turn_latency",
        "turns": turns,
        "warmup": warmup,
        "agentrt": agentrt,
        "baseline_run": baseline_run,
        "baseline_session": baseline_session,
        "floor_ms": summary(floor, 2),
        "ratio_vs_baseline_run": round(ratio_run, 3),
        "ratio_vs_baseline_session": round(ratio_session, 3),
        "ratio_server_vs_baseline_run": round(agentrt["server_ms"]["median"] / baseline_run["server_ms"]["median"], 3),
        "ratio_vs_best_baseline": round(agentrt["client_ms"]["median"] / best_baseline, 3),
        "target_met": agentrt["client_ms"]["median"] <= 0.5 * best_baseline,
    }

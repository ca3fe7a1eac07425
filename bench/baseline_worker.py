"""Run the baseline's worker: ``python -m bench.baseline_worker ADDRESS TASK_QUEUE``.

pydantic-ai's documented wiring: a client with ``PydanticAIPlugin`` (its payload converter and
sandbox passthrough list), a ``Worker`` with the workflows; the plugin registers the agent's
activities from ``__pydantic_ai_agents__``. Temporal's worker defaults otherwise
(``max_cached_workflows`` 1000, like agentrt's setting).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from temporalio.client import Client
from temporalio.worker import Worker


async def main(address: str, task_queue: str) -> None:
    from pydantic_ai.durable_exec.temporal import PydanticAIPlugin

    from bench.baseline import BASELINE_WORKFLOWS

    client = await Client.connect(address, plugins=[PydanticAIPlugin()])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with Worker(client, task_queue=task_queue, workflows=BASELINE_WORKFLOWS, max_cached_workflows=1000):
        print("baseline_worker_started", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))

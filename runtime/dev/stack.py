"""``agentrt dev``: Temporal + Postgres + worker in one supervised process tree."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from contextlib import AsyncExitStack
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from ..api.server import start_dev_api
from ..context import RuntimeContext
from ..endpoints import Endpoints, remove_stack_file, write_stack_file
from ..entities.schedules import reconcile_at_start
from ..events.signals import ensure_dispatcher
from ..logging import get_logger
from ..services import Services
from ..settings import Settings
from ..temporal import build_worker, connect_client
from .postgres_server import EmbeddedPostgres
from .temporal_server import TemporalDevServer

log = get_logger(__name__)


def mask_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


async def run_dev(settings: Settings, *, check: bool = False, out: Callable[[str], None] = print) -> int:
    state = settings.resolved_state_dir()
    state.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    async with AsyncExitStack() as stack:
        stack.callback(remove_stack_file, settings)
        if settings.database.url is None:
            postgres = EmbeddedPostgres(state / "pgdata")
            stack.callback(postgres.stop)
            database_url = await postgres.start()
        else:
            database_url = settings.database.url.get_secret_value()
        temporal_ui = None
        if settings.temporal.address is None:
            temporal = TemporalDevServer(
                log_path=state / "temporal.log", db_file=state / "temporal.db", ui=settings.temporal.ui
            )
            stack.callback(temporal.stop)
            address = await temporal.start()
            temporal_ui = temporal.ui_url
        else:
            address = settings.temporal.address

        ctx = await RuntimeContext.open(settings, database_url)
        stack.push_async_callback(ctx.close)
        services = await Services.start(ctx)
        stack.push_async_callback(services.close)
        client = await connect_client(settings, address)
        worker = build_worker(client, services)
        await stack.enter_async_context(worker)
        await reconcile_at_start(client, services, worker.task_queue)
        await ensure_dispatcher(client, worker.task_queue)

        api = await start_dev_api(services, client, settings)
        if api is not None:
            stack.push_async_callback(api.stop)

        endpoints = Endpoints(
            temporal_address=address, database_url=database_url, temporal_ui=temporal_ui,
            api_url=api.url if api is not None else None, pid=os.getpid()
        )
        write_stack_file(settings, endpoints)
        out("agentrt dev stack is up")
        out(f"  Temporal frontend  {address}  (namespace {settings.temporal.namespace})")
        out(f"  Temporal UI        {temporal_ui or 'n/a (external cluster or ui disabled)'}")
        out(f"  Postgres           {mask_url(database_url)}")
        out(f"  Worker             task queue {settings.temporal.task_queue}")
        out(f"  Integrations       {', '.join(services.registry.domains()) or 'none'}")
        out(f"  Model profiles     {', '.join(sorted(settings.models.profiles))}")
        out(f"  API + console      {api.url if api is not None else 'not started (see the log)'}")
        out(f"  State dir          {state}")
        if check:
            return await _smoke_check(client, settings, out)
        out("Press Ctrl-C to stop.")
        await stop.wait()
        out("stopping ...")
    return 0


async def _smoke_check(client, settings: Settings, out: Callable[[str], None]) -> int:
    from workflows.smoke import SmokeWorkflow

    result = await client.execute_workflow(
        SmokeWorkflow.run, id=f"smoke-{uuid.uuid4()}", task_queue=settings.temporal.task_queue
    )
    out(
        f"check ok: workflow {result.workflow_id} ran on the worker; Postgres {result.database.server_version}"
        f" answered from database {result.database.database} ({result.database.migrations_applied} migrations)"
    )
    sys.stdout.flush()
    return 0

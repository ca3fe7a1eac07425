"""The ``agentrt`` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, Awaitable, Callable

from .errors import AgentrtError
from .logging import configure_logging, get_logger
from .settings import Settings, load_settings

log = get_logger(__name__)

Handler = Callable[[argparse.Namespace, Settings], Awaitable[int]]


async def _dev(args: argparse.Namespace, settings: Settings) -> int:
    from .dev.stack import run_dev

    return await run_dev(settings, check=args.check)


async def _worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .context import RuntimeContext
    from .endpoints import resolve_endpoints
    from .entities.schedules import reconcile_at_start
    from .events.signals import ensure_dispatcher
    from .temporal import build_worker, connect_client

    from .services import Services

    endpoints = resolve_endpoints(settings)
    ctx = await RuntimeContext.open(settings, endpoints.database_url)
    services = None
    try:
        services = await Services.start(ctx)
        client = await connect_client(settings, endpoints.temporal_address)
        worker = build_worker(client, services, task_queue=args.task_queue)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with worker:
            log.info("worker_started", task_queue=worker.task_queue, temporal=endpoints.temporal_address)
            await reconcile_at_start(client, services, worker.task_queue)
            await ensure_dispatcher(client, worker.task_queue)
            beat = asyncio.create_task(_heartbeat(args.heartbeat_file, worker)) if args.heartbeat_file else None
            await stop.wait()
            if beat is not None:
                beat.cancel()
            log.info("worker_draining", graceful_seconds=settings.temporal.graceful_shutdown_seconds)
    finally:
        if services is not None:
            await services.close()
        await ctx.close()
    return 0


async def _heartbeat(path: str, worker: Any) -> None:
    """Touch ``path`` while the worker runs: the liveness signal for `agentrt-probe`."""
    from pathlib import Path

    file = Path(path)
    while worker.is_running:
        file.touch()
        await asyncio.sleep(10)


async def _sync(args: argparse.Namespace, settings: Settings) -> int:
    from .endpoints import resolve_endpoints
    from .entities.schedules import schedule_id, trigger_sync
    from .temporal import connect_client

    client = await connect_client(settings, resolve_endpoints(settings, need_database=False).temporal_address)
    await trigger_sync(client, args.entry_id)
    print(f"triggered {schedule_id(args.entry_id)}; a worker runs the sync (skipped if one is already running)")
    return 0


async def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from .db import apply_migrations, connect
    from .endpoints import resolve_endpoints

    conn = await connect(resolve_endpoints(settings, need_temporal=False).database_url)
    try:
        applied = await apply_migrations(conn)
    finally:
        await conn.close()
    print(f"applied {len(applied)} migration(s){': ' + ', '.join(map(str, applied)) if applied else ''}")
    return 0


async def _keys_rotate(args: argparse.Namespace, settings: Settings) -> int:
    from .context import RuntimeContext
    from .endpoints import resolve_endpoints

    ctx = await RuntimeContext.open(settings, resolve_endpoints(settings, need_temporal=False).database_url)
    try:
        report = await ctx.secrets.rotate(ctx.pool, batch_size=args.batch_size)
    finally:
        await ctx.close()
    print(f"re-wrapped {report.rewrapped} secret(s) under kek {report.active_kek} in {report.batches} batch(es);"
          f" {report.remaining} remaining")
    return 0 if report.remaining == 0 else 1


async def _keys_add(args: argparse.Namespace, settings: Settings) -> int:
    from .crypto.keyring import DEV_KEY_FILE, KEY_BYTES, load_keyring, write_key_file
    import secrets as _secrets

    path = settings.security.key_file or (settings.resolved_state_dir() / DEV_KEY_FILE)
    if settings.security.keys:
        print("the key ring comes from AGENTRT__SECURITY__KEYS; add the key there", file=sys.stderr)
        return 2
    ring = load_keyring(settings)
    if args.kek_id in ring.kek_ids:
        print(f"kek {args.kek_id!r} already exists", file=sys.stderr)
        return 2
    ring = ring.with_key(args.kek_id, _secrets.token_bytes(KEY_BYTES), activate=args.activate)
    write_key_file(path, ring)
    print(f"added kek {args.kek_id!r} to {path}; active kek is {ring.active_id!r}")
    return 0


async def _chat(args: argparse.Namespace, settings: Settings) -> int:
    from .chat import run_chat
    from .endpoints import resolve_endpoints
    from .principal import Principal
    from .sessions.model_profiles import ModelResolver
    from .temporal import connect_client

    ModelResolver(settings).profile(args.profile)  # an unknown profile fails here, not in the worker
    endpoints = resolve_endpoints(settings, need_database=False)
    client = await connect_client(settings, endpoints.temporal_address)
    principal = Principal(sub=args.user, org_id=args.org, groups=tuple(args.group or ()))
    return await run_chat(client, settings.temporal.task_queue, principal, args.profile, args.session,
                          args.instructions)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agentrt",
        description="agentrt: a durable agent runtime on Temporal and Postgres. "
        "Settings come from AGENTRT__* environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    dev = sub.add_parser(
        "dev",
        help="start Temporal + Postgres + a worker for development",
        description="Start the dev stack: the Temporal dev server (unless AGENTRT__TEMPORAL__ADDRESS is set), "
        "embedded Postgres (unless AGENTRT__DATABASE__URL is set) and a worker. State lives in "
        "AGENTRT__STATE_DIR (default ./.agentrt). Ctrl-C stops everything.",
    )
    dev.add_argument("--check", action="store_true", help="run a smoke workflow and a database query, then stop")
    dev.set_defaults(handler=_dev)

    worker = sub.add_parser(
        "worker",
        help="run a worker against a Temporal cluster",
        description="Run a worker: polls the task queue, runs workflows and activities. Uses "
        "AGENTRT__TEMPORAL__ADDRESS / AGENTRT__DATABASE__URL, or the running dev stack.",
    )
    worker.add_argument("--task-queue", default=None, help="override AGENTRT__TEMPORAL__TASK_QUEUE")
    worker.add_argument("--heartbeat-file", default=None,
                        help="touch this file every 10 s while polling (for `agentrt-probe` liveness checks)")
    worker.set_defaults(handler=_worker)

    chat = sub.add_parser(
        "chat",
        help="talk to an agent session in the terminal",
        description="Open (or resume with --session) an agent session and chat with it. Tool calls are shown; "
        "calls that need approval are asked inline. Uses the running dev stack or AGENTRT__TEMPORAL__ADDRESS; "
        "a worker must be running.",
    )
    chat.add_argument("--session", default=None, help="resume this session id instead of starting a new one")
    chat.add_argument("--profile", default="offline", help="model profile (default: offline)")
    chat.add_argument("--user", default="dev", help="principal subject (default: dev)")
    chat.add_argument("--org", default=None, help="principal org id")
    chat.add_argument("--group", action="append", help="principal group (repeatable)")
    chat.add_argument("--instructions", default=None, help="system instructions for a new session")
    chat.set_defaults(handler=_chat)

    sync = sub.add_parser(
        "sync",
        help="run a config entry's entity sync now",
        description="Trigger the entry's entity-sync schedule (entity-sync:ENTRY_ID) once, now. Uses the running "
        "dev stack or AGENTRT__TEMPORAL__ADDRESS; a worker runs the sync.",
    )
    sync.add_argument("entry_id", help="the config entry id")
    sync.set_defaults(handler=_sync)

    migrate = sub.add_parser("migrate", help="apply database migrations", description="Apply pending SQL migrations.")
    migrate.set_defaults(handler=_migrate)

    keys = sub.add_parser("keys", help="manage the encryption key ring", description="Manage the KEK ring.")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = keys_sub.add_parser(
        "rotate",
        help="re-wrap every stored DEK under the active KEK",
        description="Re-wrap every stored data key under the active KEK, in batches. Resumable and idempotent; "
        "plaintext is never written. Exit status 1 if rows remain.",
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction (default 500)")
    rotate.set_defaults(handler=_keys_rotate)
    add = keys_sub.add_parser(
        "add",
        help="generate a new KEK into the key file",
        description="Generate a new 256-bit KEK into the key file (AGENTRT__SECURITY__KEY_FILE, or the dev key file). "
        "The key is written to the file only, never printed.",
    )
    add.add_argument("kek_id", help="id of the new key, e.g. 2026-11")
    add.add_argument("--activate", action="store_true", help="make the new key the active one")
    add.set_defaults(handler=_keys_add)

    from .cli_api import add_commands  # api, integrations list, entries add|list, token
    from .cli_events import add_event_commands  # plugins list|enable|disable, events list|status

    add_commands(sub)
    add_event_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except AgentrtError as exc:
        print(f"agentrt: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    handler: Handler = args.handler
    try:
        return asyncio.run(handler(args, settings))
    except AgentrtError as exc:
        print(f"agentrt: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def run() -> None:
    """Console-script entry point.

    Temporal's Rust bridge keeps threads that can abort CPython's finalization of a short-lived
    client process ("PyGILState_Release ... must be current", temporalio/sdk-python#300). All our
    resources are closed by the time ``main`` returns, so flush and leave without finalization.
    """
    import logging
    import os

    code = main()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()

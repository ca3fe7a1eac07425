"""CLI commands around the API: ``api``, ``integrations list``, ``entries add|list``, ``token``.

They talk to Postgres directly through :class:`Services` (no API process needed);
only ``api`` needs Temporal. Registered into the parser by :func:`add_commands`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import TYPE_CHECKING, AsyncIterator

from .logging import get_logger
from .principal import Principal
from .settings import Settings

if TYPE_CHECKING:
    from .services import Services

log = get_logger(__name__)


def _database_url(settings: Settings) -> str:
    if settings.database.url is not None:
        return settings.database.url.get_secret_value()
    from .endpoints import resolve_endpoints

    return resolve_endpoints(settings).database_url


@asynccontextmanager
async def _services(settings: Settings) -> AsyncIterator["Services"]:
    from .context import RuntimeContext
    from .services import Services

    ctx = await RuntimeContext.open(settings, _database_url(settings))
    services = None
    try:
        services = await Services.start(ctx)
        yield services
    finally:
        if services is not None:
            await services.close()
        await ctx.close()


def _principal(args: argparse.Namespace) -> Principal:
    return Principal(sub=args.user, org_id=args.org, groups=tuple(args.group or ()), is_admin=args.admin)


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *rows]]
    return "\n".join(lines)


# -- handlers ------------------------------------------------------------------------------
async def _api(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .api import create_app_from_settings
    from .api.server import start_server

    host = args.host or settings.api.host
    port = settings.api.port if args.port is None else args.port
    server = await start_server(create_app_from_settings(settings), host, port, access_log=args.access_log)
    print(f"agentrt API on {server.url}  (console {server.url}, OpenAPI {server.url}openapi.json)", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({stopper, server.task}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    await server.stop()
    return 0


async def _integrations_list(args: argparse.Namespace, settings: Settings) -> int:
    from .api.integrations import view
    from .integrations.sync import integration_rows

    async with _services(settings) as services:
        rows = await integration_rows(services.ctx.pool)
        views = [view(row, row.domain in services.registry) for row in rows.values()]
    if args.json:
        print(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
        return 0
    print(_table([[v.domain, v.name, v.version, v.status, "yes" if v.enabled else "no", ",".join(v.allowed_scopes),
                   v.trust_tier, v.required_tier_override or v.required_tier, "yes" if v.config_flow else "no"]
                  for v in views],
                 ["DOMAIN", "NAME", "VERSION", "STATUS", "ENABLED", "SCOPES", "TRUST", "TIER", "FLOW"]))
    return 0


async def _entries_add(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from .flow_prompt import run_flow
    from .integrations.flow_manager import FlowManager

    # asyncio.run's SIGINT handler only cancels the main task once control is back in the loop,
    # which a blocking prompt never gives it: Ctrl-C would wait for Enter. Raise at once instead.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    async with _services(settings) as services:
        ctx = services.ctx
        flows = FlowManager(ctx.pool, ctx.secrets, services.registry, services.entries,
                            ttl_seconds=settings.integrations.flow_ttl_seconds)
        code, entry_id = await run_flow(flows, args.domain, _principal(args), scope=args.scope,
                                        group_id=args.group_id, lang=args.lang)
        if entry_id is not None and services.registry.get(args.domain).integration.entity_types():
            await _schedule_entity_sync(settings, services, entry_id)
        return code


async def _schedule_entity_sync(settings: Settings, services: "Services", entry_id: str) -> None:
    """Give a new entity-providing entry its sync schedule now, if Temporal is reachable.

    Without it the schedule appears at the next worker start (``reconcile_schedules``).
    """
    from .endpoints import resolve_endpoints
    from .entities.schedules import EntryLifecycle
    from .temporal import connect_client

    try:
        endpoints = resolve_endpoints(settings, need_database=False)
        client = await asyncio.wait_for(connect_client(settings, endpoints.temporal_address), 10)
        await EntryLifecycle(services.registry, settings.temporal.task_queue).on_entry_created(
            client, await services.entries.get(entry_id))
        print("entity sync scheduled")
    except Exception as exc:  # the entry exists either way; only its schedule waits
        log.warning("entry_schedule_sync_failed", entry_id=entry_id, change="created", error_type=type(exc).__name__)
        print("entity sync will be scheduled when a worker starts (Temporal not reachable now)")


async def _entries_list(args: argparse.Namespace, settings: Settings) -> int:
    from .api.entry_access import masked_view, visible_entries

    principal = _principal(args)
    async with _services(settings) as services:
        entries = await visible_entries(services.ctx.pool, principal, args.domain)
        views = [await masked_view(services.entries, e, principal) for e in entries]
    if args.json:
        print(json.dumps(views, indent=2))
        return 0
    if not views:
        print(f"no entries visible to {principal.sub}")
        return 0
    print(_table([[v["id"], v["domain"], v["title"], v["scope"], v["state"] + (" (disabled)" if v["disabled"] else ""),
                   ", ".join(f"{k}={m}" for k, m in v["secrets"].items()) or "-"] for v in views],
                 ["ID", "DOMAIN", "TITLE", "SCOPE", "STATE", "SECRETS"]))
    return 0


async def _token(args: argparse.Namespace, settings: Settings) -> int:
    from .api.tokens import mint_token, signing_key

    principal = Principal(sub=args.sub, org_id=args.org, groups=tuple(args.group or ()), is_admin=args.admin)
    ttl = args.ttl or settings.api.token_ttl_seconds
    token = mint_token(principal, signing_key(settings), ttl)
    expires = datetime.fromtimestamp(datetime.now(timezone.utc).timestamp() + ttl, timezone.utc)
    # The token on stdout alone (for $(agentrt token ...)); the warning on stderr.
    print(token, flush=True)
    print(f"agentrt: a bearer token for {principal.sub!r} valid until {expires:%Y-%m-%d %H:%M} UTC. "
          "Anyone holding it acts as that principal: do not paste it into logs or tickets.", file=sys.stderr)
    log.info("api_token_minted", sub=principal.sub, admin=principal.is_admin, ttl_seconds=ttl)
    return 0


# -- parser ----------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _principal_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--user", default="dev", help="principal subject to act as (default: dev)")
    parser.add_argument("--org", default=None, help="principal org id")
    parser.add_argument("--group", action="append", help="principal group (repeatable)")
    parser.add_argument("--admin", action="store_true", help="act as an admin (needed for org/group/global scopes)")


def add_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    api = sub.add_parser(
        "api",
        help="serve the HTTP API and web console",
        description="Serve the HTTP API, OpenAPI document (/openapi.json) and web console (/) with uvicorn. "
        "Uses AGENTRT__TEMPORAL__ADDRESS / AGENTRT__DATABASE__URL, or the running dev stack. "
        "`agentrt dev` already serves one; run this for more replicas or a separate process. "
        "Production mode needs AGENTRT__API__TOKEN_SECRET.",
    )
    api.add_argument("--host", default=None, help="interface to bind (default: AGENTRT__API__HOST, 127.0.0.1)")
    api.add_argument("--port", type=int, default=None, help="port (default: AGENTRT__API__PORT, 8000; 0 picks a free one)")
    api.add_argument("--access-log", action="store_true", help="log every request")
    api.set_defaults(handler=_api)

    integrations = sub.add_parser("integrations", help="inspect integrations",
                                  description="Inspect the installed integrations.")
    integrations_sub = integrations.add_subparsers(dest="integrations_command", required=True, metavar="ACTION")
    ilist = integrations_sub.add_parser(
        "list", help="list integrations with load status and admin policy",
        description="List every integration known to the database (after syncing this process's discovery into it): "
        "load status, enabled, allowed scopes, trust and required tier. Uses AGENTRT__DATABASE__URL or the dev stack.")
    ilist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ilist.set_defaults(handler=_integrations_list)

    entries = sub.add_parser("entries", help="add and list config entries", description="Manage config entries.")
    entries_sub = entries.add_subparsers(dest="entries_command", required=True, metavar="ACTION")
    add = entries_sub.add_parser(
        "add", help="add an entry by running the integration's config flow in the terminal",
        description="Run DOMAIN's config flow interactively: one prompt per field, hidden input for passwords and "
        "secrets, options listed for selects, errors shown and the form asked again. Ctrl-C cancels and saves "
        "nothing. Uses AGENTRT__DATABASE__URL or the dev stack.")
    add.add_argument("domain", metavar="DOMAIN", help="the integration, e.g. myservice")
    add.add_argument("--scope", default="user", choices=["user", "org", "group", "global"],
                     help="who the entry is for (default: user; other scopes need --admin)")
    add.add_argument("--group-id", default=None, help="the group of a group-scoped entry")
    add.add_argument("--lang", default="en", help="language of labels and messages (default: en)")
    _principal_args(add)
    add.set_defaults(handler=_entries_add)
    elist = entries_sub.add_parser(
        "list", help="list the entries a principal can see, secrets masked",
        description="List config entries visible to the principal (disabled ones included), secrets masked. "
        "Uses AGENTRT__DATABASE__URL or the dev stack.")
    elist.add_argument("--domain", default=None, help="only this integration's entries")
    elist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _principal_args(elist)
    elist.set_defaults(handler=_entries_list)

    token = sub.add_parser(
        "token", help="mint a dev bearer token for the API",
        description="Print a signed bearer token for the API acting as the given principal (HMAC-SHA256 over the "
        "principal and an expiry; key AGENTRT__API__TOKEN_SECRET, in dev mode derived from the key ring). "
        "Only the token goes to stdout. It is a credential: keep it out of logs and shared places.")
    token.add_argument("--sub", required=True, help="principal subject")
    token.add_argument("--org", default=None, help="principal org id")
    token.add_argument("--group", action="append", help="principal group (repeatable)")
    token.add_argument("--admin", action="store_true", help="an admin principal")
    token.add_argument("--ttl", type=_positive_int, default=None,
                       help="lifetime in seconds (default: AGENTRT__API__TOKEN_TTL_SECONDS, 12 hours)")
    token.set_defaults(handler=_token)

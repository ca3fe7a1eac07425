"""CLI commands for events: ``plugins list|enable|disable`` and ``events list|status|dead-letters|prune``.

Postgres only (through :class:`Services`); no worker or Temporal needed. Secret plugin
variables are read from environment variables (``--secret-env NAME=ENVVAR``), never from
the command line, which other users of the machine can read in the process list.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from .cli_api import _services, _table
from .integrations.scopes import EntryOwner
from .logging import get_logger
from .settings import Settings

log = get_logger(__name__)


def _owner(args: argparse.Namespace) -> EntryOwner:
    """Which scope a configuration is for: --user, --group (with --org), --org, else global."""
    if args.user:
        return EntryOwner("user", owner_sub=args.user)
    if args.group:
        return EntryOwner("group", org_id=args.org, group_id=args.group)
    if args.org:
        return EntryOwner("org", org_id=args.org)
    return EntryOwner("global")


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"agentrt: {what} must look like NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def _owner_text(config: Any) -> str:
    return config.owner_sub or config.group_id or config.org_id or "-"


async def _plugins_list(args: argparse.Namespace, settings: Settings) -> int:
    async with _services(settings) as services:
        configs = await services.plugin_configs.list()
        plugins = [{"id": p.id, "version": p.manifest.version, "status": "loaded", "events": list(p.manifest.events),
                    "path": str(p.path)} for p in services.plugins]
        plugins += [{"id": f.plugin_id or slot, "version": None, "status": f"failed: {f.key}", "events": [],
                     "path": str(f.path)} for slot, f in services.plugins.failures.items()]
    if args.json:
        print(json.dumps({"plugins": plugins, "configurations": [c.model_dump(mode="json") for c in configs]},
                         indent=2))
        return 0
    print(_table([[p["id"], p["version"] or "-", p["status"], ",".join(p["events"])] for p in plugins],
                 ["PLUGIN", "VERSION", "STATUS", "EVENTS"]))
    if configs:
        print()
        print(_table([[c.id, c.plugin_id, c.scope, _owner_text(c), "yes" if c.enabled else "no",
                       ",".join(sorted(c.variables)) or "-", ",".join(c.secret_variables) or "-"] for c in configs],
                     ["CONFIG", "PLUGIN", "SCOPE", "OWNER", "ENABLED", "VARIABLES", "SECRETS"]))
    return 0


async def _plugins_enable(args: argparse.Namespace, settings: Settings) -> int:
    variables = _pairs(args.set, "--set")
    secrets = {name: os.environ.get(env, "") for name, env in _pairs(args.secret_env, "--secret-env").items()}
    missing = [name for name, value in secrets.items() if not value]
    if missing:
        print(f"agentrt: the environment variables for {', '.join(missing)} are unset or empty", file=sys.stderr)
        return 2
    async with _services(settings) as services:
        plugin = services.plugins.get(args.plugin_id)
        config = await services.plugin_configs.configure(plugin.manifest, _owner(args), variables=variables,
                                                         secrets=secrets, enabled=True)
    print(f"enabled {config.plugin_id} for {config.scope} {_owner_text(config)} (configuration {config.id})")
    return 0


async def _plugins_disable(args: argparse.Namespace, settings: Settings) -> int:
    async with _services(settings) as services:
        config = await services.plugin_configs.set_enabled(args.plugin_id, _owner(args), False)
    print(f"disabled {config.plugin_id} for {config.scope} {_owner_text(config)}; its pending events are skipped")
    return 0


async def _events_list(args: argparse.Namespace, settings: Settings) -> int:
    from .events.status import list_events

    async with _services(settings) as services:
        events = await list_events(services.ctx.pool, session_id=args.session, entry_id=args.entry,
                                   event_type=args.type, limit=args.limit)
    if args.json:
        print(json.dumps([e.model_dump(mode="json") for e in events], indent=2))
        return 0
    rows = [[str(e.id), e.event, e.session_id or e.entry_id or "-", f"{e.created_at:%H:%M:%S}",
             "yes" if e.delivered_at else "no",
             ", ".join(f"{d.subscriber_name or d.subscriber}={d.status}" for d in e.deliveries) or "-"] for e in events]
    print(_table(rows, ["ID", "EVENT", "SESSION/ENTRY", "AT", "DONE", "DELIVERIES"]))
    return 0


async def _events_status(args: argparse.Namespace, settings: Settings) -> int:
    from .events.status import event_status

    async with _services(settings) as services:
        event = await event_status(services.ctx.pool, args.event_id)
    if event is None:
        print(f"agentrt: no event {args.event_id}", file=sys.stderr)
        return 1
    if args.json:
        print(event.model_dump_json(indent=2))
        return 0
    print(f"event {event.id} {event.event} (schema {event.schema_version}) at {event.created_at:%Y-%m-%d %H:%M:%S}; "
          f"routed {'yes' if event.routed_at else 'no'}, finished {'yes' if event.delivered_at else 'no'}")
    if not event.deliveries:
        print("no subscribers" if event.routed_at else "not routed yet")
        return 0
    print(_table([[d.subscriber_name or "-", d.subscriber, d.status, str(d.attempts), d.reason or "-",
                   (d.last_error or "-")[:80]] for d in event.deliveries],
                 ["NAME", "SUBSCRIBER", "STATUS", "ATTEMPTS", "REASON", "LAST ERROR"]))
    return 0


async def _dead_letters(args: argparse.Namespace, settings: Settings) -> int:
    from .events.status import dead_letters

    async with _services(settings) as services:
        letters = await dead_letters(services.ctx.pool, args.limit)
    if args.json:
        print(json.dumps([d.model_dump(mode="json") for d in letters], indent=2))
        return 0
    print(_table([[str(d.event_id), d.event, d.subscriber, str(d.attempts), d.error[:80]] for d in letters],
                 ["EVENT", "TYPE", "SUBSCRIBER", "ATTEMPTS", "ERROR"]))
    return 0


async def _events_prune(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import timedelta

    from .events.retention import prune_delivered

    days = settings.events.retention_days if args.older_than_days is None else args.older_than_days
    async with _services(settings) as services:
        deleted = await prune_delivered(services.ctx.pool, timedelta(days=days))
    print(f"deleted {deleted} delivered events older than {days:g} days")
    return 0


def _scope_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("plugin_id", metavar="PLUGIN", help="the plugin id (its folder name)")
    parser.add_argument("--user", default=None, help="the configuration of this user (default: global)")
    parser.add_argument("--org", default=None, help="the configuration of this org (or the group's org)")
    parser.add_argument("--group", default=None, help="the configuration of this group")


def add_event_commands(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    plugins = sub.add_parser("plugins", help="list, enable and disable event plugins",
                             description="Event plugins (plugin.json + handler.py folders). A plugin receives "
                             "events only through an enabled configuration for a scope. Uses "
                             "AGENTRT__DATABASE__URL or the dev stack.")
    plugins_sub = plugins.add_subparsers(dest="plugins_command", required=True, metavar="ACTION")
    plist = plugins_sub.add_parser("list", help="discovered plugins (with load errors) and their configurations")
    plist.add_argument("--json", action="store_true", help="print JSON instead of tables")
    plist.set_defaults(handler=_plugins_list)
    enable = plugins_sub.add_parser(
        "enable", help="configure and enable a plugin for a scope",
        description="Create or update the plugin's configuration for one scope and enable it. Variables given "
        "replace stored ones; others are kept. Secret variables come from environment variables.")
    _scope_args(enable)
    enable.add_argument("--set", action="append", metavar="NAME=VALUE", help="a variable (repeatable)")
    enable.add_argument("--secret-env", action="append", metavar="NAME=ENVVAR",
                        help="a secret variable, read from the environment variable ENVVAR (repeatable)")
    enable.set_defaults(handler=_plugins_enable)
    disable = plugins_sub.add_parser("disable", help="disable a plugin's configuration for a scope")
    _scope_args(disable)
    disable.set_defaults(handler=_plugins_disable)

    events = sub.add_parser("events", help="events and their delivery status",
                            description="Inspect the events outbox and each event's deliveries; prune delivered events.")
    events_sub = events.add_subparsers(dest="events_command", required=True, metavar="ACTION")
    elist = events_sub.add_parser("list", help="recent events with each subscriber's delivery status")
    elist.add_argument("--session", default=None, help="only this session's events")
    elist.add_argument("--entry", default=None, help="only this config entry's events")
    elist.add_argument("--type", default=None, help="only events of this type, e.g. turn_complete")
    elist.add_argument("--limit", type=int, default=50)
    elist.add_argument("--json", action="store_true", help="print JSON instead of a table")
    elist.set_defaults(handler=_events_list)
    status = events_sub.add_parser("status", help="one event's deliveries: status, attempts, last error")
    status.add_argument("event_id", type=int, metavar="EVENT_ID")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(handler=_events_status)
    dead = events_sub.add_parser("dead-letters", help="events whose handler failed every allowed attempt")
    dead.add_argument("--limit", type=int, default=50)
    dead.add_argument("--json", action="store_true", help="print JSON instead of a table")
    dead.set_defaults(handler=_dead_letters)
    prune = events_sub.add_parser(
        "prune", help="delete delivered events older than the retention",
        description="Delete events every subscriber has finished with, older than --older-than-days "
        "(default AGENTRT__EVENTS__RETENTION_DAYS, 30). Pending events and dead-lettered ones are kept. "
        "Workers also do this hourly.")
    prune.add_argument("--older-than-days", type=float, default=None, metavar="DAYS")
    prune.set_defaults(handler=_events_prune)

"""Which servers an entry may point the worker at (part of the authoring API: ``url_refusal``).

The worker sits inside the operator's network. A user's own entry must not make it
connect to loopback or private addresses (a probe of internal services); entries an
administrator configures (org, group, global scope) may. Link-local addresses, where
cloud metadata services live, and multicast/unspecified/reserved ones are refused
for everyone.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, admin: bool) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if admin else "private_network_needs_admin"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "address_forbidden"
    if not ip.is_global and not admin:
        return "private_network_needs_admin"
    return None


async def url_refusal(url: str, scope: str) -> str | None:
    """An error key when an entry of ``scope`` may not reach ``url``'s host, else None.

    A host that does not resolve is not refused here: connecting fails later with its own error.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or 443
    except ValueError:
        return "invalid_url"
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError):
            return None
        addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    admin = scope != "user"
    for address in addresses:
        reason = _refusal(address, admin)
        if reason:
            return reason
    return None

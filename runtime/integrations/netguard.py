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


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _embedded_v4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    # IPv6 forms that carry an IPv4 address route to that address: judge it instead.
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found.append(ip.teredo[1])
    if ip in ipaddress.IPv6Network("64:ff9b::/96"):  # NAT64
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def address_refusal(ip: IPAddress, allow_private: bool) -> str | None:
    """``private_address``, ``address_forbidden`` or None (allowed) for connecting to ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded:
            reasons = [address_refusal(a, allow_private) for a in embedded]
            return "address_forbidden" if "address_forbidden" in reasons else next((r for r in reasons if r), None)
    if ip.is_loopback:
        return None if allow_private else "private_address"
    if ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return "address_forbidden"
    if not ip.is_global and not allow_private:
        return "private_address"
    return None


def _refusal(ip: IPAddress, admin: bool) -> str | None:
    reason = address_refusal(ip, admin)
    return "private_network_needs_admin" if reason == "private_address" else reason


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

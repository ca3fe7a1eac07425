"""Where the fetch tool may connect: the entry's domain allow-list and the address rules.

A URL passes when its scheme is http(s), it carries no credentials, its host matches
the allow-list, and every address the host resolves to is public (private, loopback
and shared ranges only with ``allow_private_networks``). Link-local (cloud metadata
lives there), multicast, unspecified and reserved addresses are refused always.
The tool then connects to the address checked here, not to a second DNS answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from pydantic_ai.exceptions import ToolFailed

from runtime.integrations import address_refusal

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_PATTERNS = 200


class FetchRefused(ToolFailed):
    """A fetch the entry's policy does not allow, or one that failed; ``key`` is stable."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def normalize_host(host: str) -> str:
    """Lower-case, no trailing dot, IDNA (punycode) for non-ASCII names; IP literals unchanged."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _valid_hostname(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(host) and len(host) <= 253 and all(_LABEL.match(label) for label in host.split("."))


def parse_patterns(text: str) -> tuple[str, ...]:
    """``"example.com, *.example.org\\n*"`` -> normalised patterns. Raises ValueError with an error key."""
    raw = [p for p in re.split(r"[\s,]+", text or "") if p]
    if not raw:
        raise ValueError("allowed_domains_empty")
    if len(raw) > MAX_PATTERNS:
        raise ValueError("too_many_domains")
    patterns: list[str] = []
    for item in raw:
        if item == "*":
            patterns.append("*")
            continue
        wildcard = item.startswith("*.")
        host = normalize_host(item[2:] if wildcard else item)
        # Only a leading "*." is a wildcard; "a*.b", "*" inside a label or a URL are mistakes.
        if "*" in host or not _valid_hostname(host) or (wildcard and _is_ip(host)):
            raise ValueError("invalid_domain_pattern")
        patterns.append(f"*.{host}" if wildcard else host)
    return tuple(dict.fromkeys(patterns))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    """``*.example.com`` matches subdomains at any depth, not ``example.com`` itself (as in TLS)."""
    host = normalize_host(host)
    for pattern in patterns:
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and not _is_ip(host):
            return True
    return False


@dataclass(frozen=True)
class Target:
    """A URL that passed the policy, and the address the request must go to."""

    url: SplitResult
    host: str  # normalised
    port: int
    address: IPAddress

    @property
    def https(self) -> bool:
        return self.url.scheme == "https"


def check_url(url: str, patterns: tuple[str, ...]) -> tuple[SplitResult, str, int]:
    """Scheme, credentials and allow-list checks (no DNS). Returns (parts, host, port)."""
    if len(url) > 4096:
        raise FetchRefused("url_invalid", "the URL is longer than 4096 characters")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise FetchRefused("scheme_not_allowed", "only http:// and https:// URLs can be fetched")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("url_invalid", "URLs with embedded credentials are not fetched")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchRefused("url_invalid", "the URL has an invalid port") from None
    if not parts.hostname:
        raise FetchRefused("url_invalid", "the URL has no host")
    host = normalize_host(parts.hostname)
    if not host_allowed(host, patterns):
        raise FetchRefused("domain_not_allowed", f"{host!r} is not on this entry's domain allow-list")
    return parts, host, port


async def resolve_target(url: str, patterns: tuple[str, ...], allow_private: bool) -> Target:
    """Run every check, resolve the host once and pick the address to connect to."""
    parts, host, port = check_url(url, patterns)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise FetchRefused("host_unresolvable", f"{host!r} does not resolve") from None
        addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos))
    if not addresses:
        raise FetchRefused("host_unresolvable", f"{host!r} does not resolve")
    # Every answer must pass: a name that resolves to one public and one private address is refused.
    for address in addresses:
        reason = address_refusal(address, allow_private)
        if reason == "private_address":
            raise FetchRefused(reason, f"{host!r} resolves to a private or loopback address, which this entry does not allow")
        if reason:
            raise FetchRefused(reason, f"{host!r} resolves to a link-local, multicast or reserved address")
    return Target(url=parts, host=host, port=port, address=addresses[0])

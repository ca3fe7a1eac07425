"""One fetch: policy-checked hops, a streamed body under a byte cap, text out.

Redirects are followed by hand so every hop goes through the same checks as the
first URL. The body is read raw and decompressed here (gzip only), so the byte cap
bounds what is decoded too: a small compressed body cannot expand past it.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlunsplit

import httpx
from pydantic import BaseModel

from runtime.logging import get_logger

from .config import FetchConfig
from .html_text import collapse_whitespace, html_to_text
from .policy import FetchRefused, Target, resolve_target

log = get_logger(__name__)

USER_AGENT = "agentrt-http-fetch/0.1 (+https://example.com/agentrt)"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml", "application/javascript")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
TRUNCATION_MARKER = "\n[truncated: {omitted} characters omitted]"


class FetchedPage(BaseModel):
    """A fetched page as text. ``truncated`` when the download or the text hit the entry's caps."""

    url: str
    status: int
    content_type: str
    title: str | None = None
    text: str
    truncated: bool = False
    bytes_read: int


@dataclass
class _Body:
    data: bytes
    cut: bool


def _is_text(content_type: str) -> bool:
    return content_type == "" or content_type.startswith(TEXT_TYPES) or content_type.endswith(("+json", "+xml"))


def _request_url(target: Target) -> str:
    # Connect to the address the policy checked; Host and SNI still name the host.
    host = f"[{target.address}]" if isinstance(target.address, ipaddress.IPv6Address) else str(target.address)
    default = 443 if target.https else 80
    netloc = host if target.port == default else f"{host}:{target.port}"
    return urlunsplit((target.url.scheme, netloc, target.url.path or "/", target.url.query, ""))


def _host_header(target: Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == (443 if target.https else 80) else f"{host}:{target.port}"


async def _read_capped(response: httpx.Response, cap: int) -> _Body:
    """Raw bytes (gzip decoded here) up to ``cap``; stop reading as soon as it is passed."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "x-gzip"):
        raise FetchRefused("unsupported_encoding", f"the server sent a {encoding!r}-encoded body")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding in ("gzip", "x-gzip") else None
    out = bytearray()
    raw_total = 0
    async for chunk in response.aiter_raw():
        raw_total += len(chunk)
        if inflater is None:
            out += chunk
        else:
            try:
                # max_length bounds the output of this one call: a bomb cannot expand past the cap.
                out += inflater.decompress(chunk, cap + 1 - len(out))
            except zlib.error:
                raise FetchRefused("decode_failed", "the gzip body is corrupt") from None
        if len(out) > cap or raw_total > cap:
            return _Body(bytes(out[:cap]), cut=True)
    return _Body(bytes(out), cut=False)


def _charset(content_type_header: str, body: bytes, html: bool) -> str:
    match = re.search(r"charset=([\w\-:.]+)", content_type_header, re.IGNORECASE)
    name = match[1] if match else None
    if name is None and html:
        meta = _META_CHARSET.search(body[:4096])
        name = meta[1].decode("ascii", "ignore") if meta else None
    try:
        return codecs.lookup(name).name if name else "utf-8"
    except LookupError:
        return "utf-8"


def _cut(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    marker = TRUNCATION_MARKER.format(omitted=len(text) - limit)
    return text[:limit] + marker, True


async def fetch(url: str, config: FetchConfig) -> FetchedPage:
    """Fetch ``url`` under ``config``'s policy and caps. Raises :class:`FetchRefused` with a key."""
    started = time.monotonic()
    timeout = httpx.Timeout(config.timeout_seconds, connect=min(config.timeout_seconds, 10))
    current = url
    # trust_env=False: a proxy from the environment would connect to a host we did not check.
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
        for hop in range(config.max_redirects + 1):
            target = await resolve_target(current, config.patterns, config.allow_private_networks)
            request = client.build_request(
                "GET", _request_url(target),
                headers={"Host": _host_header(target), "User-Agent": USER_AGENT,
                         "Accept": "text/html, text/plain, application/json;q=0.9, */*;q=0.5",
                         "Accept-Encoding": "gzip, identity"},
                extensions={"sni_hostname": target.host} if target.https else {},
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchRefused("timeout", f"no answer within {config.timeout_seconds} seconds") from None
            except httpx.HTTPError as exc:
                raise FetchRefused("connection_failed", f"could not connect ({type(exc).__name__})") from None
            try:
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchRefused("redirect_invalid", "a redirect without a Location header")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise FetchRefused("http_status", f"the server answered {response.status_code}")
                header = response.headers.get("content-type", "")
                content_type = header.split(";", 1)[0].strip().lower()
                if not _is_text(content_type):
                    raise FetchRefused("unsupported_content_type", f"{content_type!r} is not a text format")
                try:
                    body = await _read_capped(response, config.max_download_bytes)
                except httpx.TimeoutException:
                    raise FetchRefused("timeout", f"the body did not arrive within {config.timeout_seconds} seconds") from None
            finally:
                await response.aclose()
            page = _page(current, response.status_code, content_type, header, body, config)
            log.info("http_fetch_done", host=target.host, status=page.status, bytes_read=page.bytes_read,
                     truncated=page.truncated, redirects=hop, duration_ms=round((time.monotonic() - started) * 1000))
            return page
    raise FetchRefused("too_many_redirects", f"more than {config.max_redirects} redirects")


def _page(url: str, status: int, content_type: str, header: str, body: _Body, config: FetchConfig) -> FetchedPage:
    html = content_type in ("text/html", "application/xhtml+xml") or (
        content_type == "" and body.data.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
    )
    decoded = body.data.decode(_charset(header, body.data, html), errors="replace")
    title = None
    if html:
        title, text = html_to_text(decoded)
    elif content_type.endswith("json"):
        text = decoded.strip()  # JSON whitespace carries structure a reader may need; keep it
    else:
        text = collapse_whitespace(decoded)
    text, cut = _cut(text, config.max_output_chars)
    return FetchedPage(url=url, status=status, content_type=content_type or "unknown", title=title, text=text,
                       truncated=cut or body.cut, bytes_read=len(body.data))

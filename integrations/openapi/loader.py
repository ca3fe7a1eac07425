"""Load an entry's API: fetch or parse the document, check where calls would go, build the operations."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from .config import OpenApiConfig
from runtime.integrations import url_refusal
from .spec import Operation, SpecError, base_url_of, operations, parse_document

MAX_SPEC_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class LoadedApi:
    base_url: str
    operations: list[Operation]
    total_operations: int  # before the entry's cap


async def _fetch_document(url: str, timeout: int) -> str:
    # The auth header is not sent: the document may live on another host than the API.
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            async with client.stream("GET", url, headers={"Accept": "application/json, application/yaml"}) as response:
                if response.status_code >= 400:
                    raise SpecError("spec_unreachable", f"the document URL answered {response.status_code}")
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_SPEC_BYTES:
                        raise SpecError("spec_too_large", f"the document is larger than {MAX_SPEC_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise SpecError("spec_unreachable", f"the document could not be fetched ({type(exc).__name__})") from None
    return data.decode("utf-8", errors="replace")


async def load_api(config: OpenApiConfig, scope: str) -> LoadedApi:
    """Raises :class:`SpecError` with an error key the flow shows and setup reports."""
    if config.spec_url:
        refusal = await url_refusal(config.spec_url, scope)
        if refusal:
            raise SpecError(refusal, "the document URL is not reachable for this entry's scope")
        text = await _fetch_document(config.spec_url, config.timeout_seconds)
    else:
        text = str(config.spec_text)
    document = parse_document(text)
    base_url = base_url_of(document, config.spec_url, config.base_url)
    refusal = await url_refusal(base_url, scope)
    if refusal:
        raise SpecError(refusal, "the API's address is not reachable for this entry's scope")
    ops, total = operations(document, config.max_operations)
    if not ops:
        raise SpecError("no_operations", "the document has no operation with an operationId")
    return LoadedApi(base_url=base_url, operations=ops, total_operations=total)

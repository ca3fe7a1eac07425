"""Operations -> pydantic-ai tools: one ``Tool.from_schema`` per operation, calling the API with httpx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel
from pydantic_ai.exceptions import ToolFailed
from pydantic_ai.tools import Tool
from pydantic_ai.toolsets import FunctionToolset

from runtime.logging import get_logger

from .config import OpenApiConfig
from .spec import Operation

log = get_logger(__name__)

MAX_RESPONSE_BYTES = 1024 * 1024
# Below the session's 16,000-character tool result cap, so a body is never cut twice.
MAX_BODY_CHARS = 12_000
REDACTED = "[REDACTED]"


class OperationFailed(ToolFailed):
    """A call that did not get an answer from the API (or was refused before it was sent)."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class OperationResult(BaseModel):
    """The API's answer: HTTP ``status``, ``ok`` for 2xx, and the body (parsed JSON or text)."""

    status: int
    ok: bool
    content_type: str
    body: Any = None
    truncated: bool = False


def _scrub(text: str, secret: str | None) -> str:
    # An API that echoes the credential back must not put it into the transcript.
    return text.replace(secret, REDACTED) if secret else text


async def _read_capped(response: httpx.Response) -> tuple[bytes, bool]:
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) > MAX_RESPONSE_BYTES:
            return bytes(data[:MAX_RESPONSE_BYTES]), True
    return bytes(data), False


def _check_arguments(op: Operation, args: dict[str, Any]) -> None:
    known = {p.name for p in op.parameters} | ({op.body_key} if op.body_key else set())
    unknown = sorted(set(args) - known)
    if unknown:
        raise OperationFailed("unknown_argument", f"{op.name} has no argument(s) {unknown}")
    required = [p.name for p in op.parameters if p.required] + ([op.body_key] if op.body_required and op.body_key else [])
    missing = [name for name in required if args.get(name) is None]
    if missing:
        raise OperationFailed("missing_argument", f"{op.name} needs {missing}")


def _url(base_url: str, op: Operation, args: dict[str, Any]) -> str:
    path = op.path
    for param in op.parameters:
        if param.location == "path":
            # safe="": a value cannot add path segments ("../admin") or a query of its own.
            path = path.replace("{" + param.name + "}", quote(str(args[param.name]), safe=""))
    return base_url + path


def _query(op: Operation, args: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for param in op.parameters:
        value = args.get(param.name)
        if param.location != "query" or value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((param.name, json.dumps(item) if isinstance(item, (dict, bool)) else str(item)))
    return pairs


def _result(response: httpx.Response, data: bytes, cut: bool, secret: str | None) -> OperationResult:
    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    text = _scrub(data.decode(response.encoding or "utf-8", errors="replace"), secret)
    body: Any = text
    truncated = cut
    if len(text) > MAX_BODY_CHARS:
        body, truncated = text[:MAX_BODY_CHARS] + f"\n[truncated: {len(text) - MAX_BODY_CHARS} characters omitted]", True
    elif not cut and (content_type.endswith("json") or content_type.endswith("+json")):
        try:
            body = json.loads(text)
        except ValueError:
            pass
    return OperationResult(status=response.status_code, ok=response.is_success, content_type=content_type or "unknown",
                           body=body if text else None, truncated=truncated)


def _tool(op: Operation, base_url: str, config: OpenApiConfig) -> Tool[Any]:
    secret = config.secret_value

    async def call(**args: Any) -> OperationResult:
        _check_arguments(op, args)
        headers = {"Accept": "application/json", **config.auth_headers}
        body = args.get(op.body_key) if op.body_key else None
        try:
            async with httpx.AsyncClient(timeout=config.timeout_seconds, follow_redirects=False, trust_env=False) as client:
                request = client.build_request(op.method.upper(), _url(base_url, op, args), params=_query(op, args),
                                               headers=headers, json=body if op.body_key in args else None)
                response = await client.send(request, stream=True)
                try:
                    data, cut = await _read_capped(response)
                finally:
                    await response.aclose()
        except httpx.TimeoutException:
            raise OperationFailed("timeout", f"{op.name}: no answer within {config.timeout_seconds} seconds") from None
        except httpx.HTTPError as exc:
            raise OperationFailed("connection_failed", f"{op.name}: {type(exc).__name__}") from None
        log.info("openapi_call_done", operation=op.name, method=op.method, status=response.status_code, bytes=len(data))
        return _result(response, data, cut, secret)

    return Tool.from_schema(call, name=op.name, description=op.description, json_schema=op.json_schema)


def build_toolset(ops: list[Operation], base_url: str, config: OpenApiConfig) -> FunctionToolset:
    return FunctionToolset(tools=[_tool(op, base_url, config) for op in ops])

"""Temporal's remote codec protocol, so Temporal UI can show decoded payloads to authorised operators.

``POST /codec/decode`` and ``/codec/encode`` take and return ``{"payloads": [...]}`` in Temporal's
proto-JSON form. Point the UI at it with ``--ui-codec-endpoint`` (dev server) or the UI's codec setting;
the caller must be an admin principal (the dependency is supplied by the API's auth).
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Depends, HTTPException, Request
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from .codec import EncryptionCodec
from .crypto import CryptoError, KeyRing

MAX_CODEC_BODY = 4 * 1024 * 1024


def codec_router(get_ring: Callable[[], KeyRing], require_operator: Callable[..., Awaitable[Any] | Any]) -> APIRouter:
    router = APIRouter(prefix="/codec", tags=["codec"])

    async def _payloads(request: Request) -> Payloads:
        body = await request.body()
        if len(body) > MAX_CODEC_BODY:
            raise HTTPException(413, detail={"error": "codec_body_too_large", "message": "body over 4 MiB"})
        try:
            return json_format.Parse(body, Payloads(), ignore_unknown_fields=True)
        except json_format.ParseError:
            raise HTTPException(400, detail={"error": "codec_body_invalid", "message": "expected {payloads: [...]}"}) from None

    async def _run(request: Request, decode: bool) -> dict[str, Any]:
        payloads = await _payloads(request)
        codec = EncryptionCodec(get_ring())
        try:
            out = await (codec.decode(payloads.payloads) if decode else codec.encode(payloads.payloads))
        except CryptoError as exc:
            raise HTTPException(422, detail={"error": exc.key, "message": exc.message}) from None
        return json_format.MessageToDict(Payloads(payloads=out))

    @router.post("/decode", dependencies=[Depends(require_operator)])
    async def decode(request: Request) -> dict[str, Any]:
        return await _run(request, decode=True)

    @router.post("/encode", dependencies=[Depends(require_operator)])
    async def encode(request: Request) -> dict[str, Any]:
        return await _run(request, decode=False)

    return router
